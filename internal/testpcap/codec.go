package testpcap

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// Codec is an 8 kHz audio payload format sent in 20 ms packets: its RTP
// payload type, its SDP name and the payload size of one packet.
type Codec struct {
	Name    string // encoding name in a=rtpmap, e.g. "PCMU"
	PT      uint8  // static RTP payload type
	Payload int    // payload bytes per 20 ms packet
	Fmtp    string // a=fmtp parameters; empty for none
}

// The codecs of a load: G.711 µ-law and G.729 (without annex B, so no
// silence suppression: one packet every 20 ms for the whole call).
var (
	PCMU = Codec{Name: "PCMU", PT: 0, Payload: 160}
	G729 = Codec{Name: "G729", PT: 18, Payload: 20, Fmtp: "annexb=no"}
)

const (
	// PacketTime is the media time one RTP packet of a Codec carries.
	PacketTime = 20 * time.Millisecond
	// samplesPerPacket is the RTP timestamp step of one packet at 8 kHz.
	samplesPerPacket = 160
	// dtmfPT is the payload type offered for telephone-event.
	dtmfPT = 101
)

// RTP returns an RTP packet of the codec with a payload of Payload bytes
// (µ-law silence for PCMU, 0x55 otherwise).
func (c Codec) RTP(seq uint16, ts, ssrc uint32) []byte {
	p := make([]byte, 12+c.Payload)
	p[0], p[1] = 0x80, c.PT&0x7f
	binary.BigEndian.PutUint16(p[2:], seq)
	binary.BigEndian.PutUint32(p[4:], ts)
	binary.BigEndian.PutUint32(p[8:], ssrc)
	fill := byte(0x55)
	if c.PT == PCMU.PT {
		fill = 0xff
	}
	for i := 12; i < len(p); i++ {
		p[i] = fill
	}
	return p
}

// SDP returns an audio offer or answer for an RTP endpoint that proposes
// only this codec and telephone-event. version is the o= session version,
// which a re-INVITE that changes the session increments.
func (c Codec) SDP(rtp netip.AddrPort, version int) string {
	ipv := "IP4"
	if rtp.Addr().Is6() {
		ipv = "IP6"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "v=0\r\no=- 1 %d IN %s %s\r\ns=-\r\nc=IN %s %s\r\nt=0 0\r\n", version, ipv, rtp.Addr(), ipv, rtp.Addr())
	fmt.Fprintf(&b, "m=audio %d RTP/AVP %d %d\r\n", rtp.Port(), c.PT, dtmfPT)
	fmt.Fprintf(&b, "a=rtpmap:%d %s/8000\r\n", c.PT, c.Name)
	if c.Fmtp != "" {
		fmt.Fprintf(&b, "a=fmtp:%d %s\r\n", c.PT, c.Fmtp)
	}
	fmt.Fprintf(&b, "a=rtpmap:%d telephone-event/8000\r\na=fmtp:%d 0-16\r\n", dtmfPT, dtmfPT)
	fmt.Fprintf(&b, "a=ptime:%d\r\na=sendrecv\r\n", PacketTime.Milliseconds())
	return b.String()
}
