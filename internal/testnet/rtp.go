//go:build linux

package testnet

import "encoding/binary"

// RTP packets carry 20 ms of PCMU (payload type 0): 160 samples at
// 8000 Hz, one byte each.
const (
	rtpHeaderLen  = 12
	rtpPayloadLen = 160
	rtpPacketLen  = rtpHeaderLen + rtpPayloadLen
	pcmuSilence   = 0xff // μ-law encoding of zero
)

// rtpStream numbers the packets of one direction of a call (RFC 3550).
// The first packet has the marker bit set; each later one advances the
// sequence number by one and the timestamp by 160 samples. Initial values
// derive from the call and direction instead of being random, so runs
// repeat.
type rtpStream struct {
	ssrc  uint32
	seq   uint16
	ts    uint32
	first bool
}

// newRTPStream returns the stream of call n in direction dir (0 from the
// caller, 1 from the callee).
func newRTPStream(n, dir int) rtpStream {
	id := uint32(2*n + dir)
	return rtpStream{
		ssrc:  0x6c630000 ^ id*0x9e3779b1,
		seq:   uint16(id * 7919),
		ts:    id * 1_000_003,
		first: true,
	}
}

// next writes the stream's next packet into b, which must hold
// rtpPacketLen bytes, and returns it.
func (s *rtpStream) next(b []byte) []byte {
	b = b[:rtpPacketLen]
	b[0] = 2 << 6 // version 2, no padding, extension or CSRC
	b[1] = 0      // PCMU
	if s.first {
		b[1] |= 0x80
		s.first = false
	}
	binary.BigEndian.PutUint16(b[2:], s.seq)
	binary.BigEndian.PutUint32(b[4:], s.ts)
	binary.BigEndian.PutUint32(b[8:], s.ssrc)
	for i := rtpHeaderLen; i < rtpPacketLen; i++ {
		b[i] = pcmuSilence
	}
	s.seq++
	s.ts += rtpPayloadLen
	return b
}
