package testpcap

import (
	"encoding/binary"
	"time"
)

// ntpEpochOffset is the number of seconds from 1900-01-01 (NTP) to
// 1970-01-01 (Unix).
const ntpEpochOffset = 2208988800

// RTCPSenderReport returns a compound RTCP packet: a sender report without
// report blocks, sent at, for a source that has sent packets RTP packets
// carrying octets payload bytes up to RTP timestamp rtpTS, followed by an
// SDES chunk with its CNAME (at most 255 bytes).
func RTCPSenderReport(ssrc uint32, at time.Time, rtpTS, packets, octets uint32, cname string) []byte {
	cname = cname[:min(len(cname), 255)]
	sr := make([]byte, 28)
	sr[0], sr[1] = 0x80, 200 // V=2, no report blocks; PT=SR
	binary.BigEndian.PutUint16(sr[2:], 28/4-1)
	binary.BigEndian.PutUint32(sr[4:], ssrc)
	secs := uint64(at.Unix()) + ntpEpochOffset
	frac := uint64(at.Nanosecond()) << 32 / uint64(time.Second)
	binary.BigEndian.PutUint64(sr[8:], secs<<32|frac)
	binary.BigEndian.PutUint32(sr[16:], rtpTS)
	binary.BigEndian.PutUint32(sr[20:], packets)
	binary.BigEndian.PutUint32(sr[24:], octets)

	// SDES: header, SSRC, CNAME item, end of list, padded to 32 bits.
	n := 4 + 4 + 2 + len(cname) + 1
	n = (n + 3) &^ 3
	sdes := make([]byte, n)
	sdes[0], sdes[1] = 0x81, 202 // V=2, one chunk; PT=SDES
	binary.BigEndian.PutUint16(sdes[2:], uint16(n/4-1))
	binary.BigEndian.PutUint32(sdes[4:], ssrc)
	sdes[8], sdes[9] = 1, byte(len(cname)) // CNAME
	copy(sdes[10:], cname)
	return append(sr, sdes...)
}
