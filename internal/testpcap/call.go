package testpcap

import (
	"iter"
	"math/rand/v2"
	"net/netip"
	"time"
)

// Call is one call of a synthetic load, played by Packets. Times are
// whole microseconds from Start on, as a classic pcap stores them.
//
// An answered call goes INVITE (offer), 100 Trying, 180 Ringing, Ring
// later 200 OK (answer), ACK, then Talk of RTP in both directions, one
// packet each way every 20 ms (the callee's 10 ms after the caller's),
// then BYE and its 200 OK. A cancelled call goes INVITE, 100, 180, Ring
// later CANCEL, 200 OK (CANCEL), 487 Request Terminated, ACK, and has no
// media. SIP messages of a transaction are 10 ms apart. Over TCP the
// call opens its connection (SYN, SYN-ACK, ACK, 1 ms apart) before the
// INVITE and closes it (FIN, FIN, ACK) 10 ms after the last SIP message.
type Call struct {
	Dialog Dialog
	Start  time.Time // time of the call's first packet
	Codec  Codec     // offered and sent by both sides; the zero Codec means PCMU
	// TCP carries the SIP over one connection of its own from
	// Dialog.Caller (the client, so an ephemeral port) to Dialog.Callee.
	TCP       bool
	Ring      time.Duration // from 180 Ringing to the 200 OK or the CANCEL
	Talk      time.Duration // media time of an answered call, in whole 20 ms packets
	Cancelled bool          // the caller cancels while it rings
	// ReInvite makes the caller send a re-INVITE halfway through the
	// media (at least one packet of Talk is needed) that moves its RTP
	// to port CallerRTP+2; the callee answers 200 OK with its unchanged
	// endpoint, the caller ACKs, and both directions go on with the
	// same SSRCs and sequence numbers on the new port.
	ReInvite bool
	// RTCP adds an RTCP sender report each way every 5 s of media, from
	// and to the RTP ports + 1.
	RTCP bool
	// Seed picks the SSRCs, the first RTP sequence numbers and
	// timestamps, and the TCP initial sequence numbers.
	Seed uint64
}

const (
	sipStep      = 10 * time.Millisecond
	tcpStep      = time.Millisecond
	calleeOffset = 10 * time.Millisecond // of the callee's RTP after the caller's
	rtcpInterval = 5 * time.Second
	calleeTag    = "callee-tag"
)

const fromCaller, fromCallee = true, false

// Packets returns the call's frames in time order, the first one at
// Start. Each iteration builds the frames anew, identical each time.
func (c Call) Packets() iter.Seq[Packet] {
	return func(yield func(Packet) bool) {
		newPlayer(c, yield).play()
	}
}

// End returns the time of the call's last packet, without building any
// frame.
func (c Call) End() time.Time {
	p := newPlayer(c, nil)
	p.play()
	return p.last
}

// player plays one call, emitting frames at increasing times.
type player struct {
	c        Call
	d        Dialog
	codec    Codec
	now      time.Time // when the next SIP message goes
	last     time.Time // time of the latest frame emitted
	yield    func(Packet) bool
	stopped  bool // yield returned false: emit nothing more
	cseq     int  // of the caller's latest transaction
	conn     *TCPConn
	out, bak rtpStream // caller to callee, callee to caller
}

// newPlayer returns a player of c that passes frames to yield; with a nil
// yield it only follows time, building no frame.
func newPlayer(c Call, yield func(Packet) bool) *player {
	p := &player{c: c, d: c.Dialog, codec: c.Codec, now: c.Start, yield: yield}
	if p.codec.Name == "" {
		p.codec = PCMU
	}
	rng := rand.New(rand.NewPCG(c.Seed, c.Seed^0x9e3779b97f4a7c15))
	p.out = rtpStream{codec: p.codec, src: p.d.CallerRTP, dst: p.d.CalleeRTP,
		ssrc: rng.Uint32(), seq: uint16(rng.Uint32()), ts: rng.Uint32(), cname: p.d.From}
	p.bak = rtpStream{codec: p.codec, src: p.d.CalleeRTP, dst: p.d.CallerRTP,
		ssrc: rng.Uint32(), seq: uint16(rng.Uint32()), ts: rng.Uint32(), cname: p.d.To}
	if c.TCP {
		p.d.Transport = "TCP"
		p.conn = NewTCPConn(p.d.Caller, p.d.Callee, rng.Uint32(), rng.Uint32())
	}
	return p
}

// emit passes the frame built by frame, sent at at, to yield.
func (p *player) emit(at time.Time, frame func() []byte) {
	if p.stopped {
		return
	}
	p.last = at
	if p.yield != nil && !p.yield(Packet{Time: at, Data: frame()}) {
		p.stopped = true
	}
}

// sip sends msg now, over the call's TCP connection or over UDP, and
// moves time on by step.
func (p *player) sip(fromCaller bool, msg []byte, step time.Duration) {
	p.emit(p.now, func() []byte {
		switch {
		case p.conn != nil:
			return p.conn.Send(fromCaller, msg)
		case fromCaller:
			return UDP(p.d.Caller, p.d.Callee, msg)
		default:
			return UDP(p.d.Callee, p.d.Caller, msg)
		}
	})
	p.now = p.now.Add(step)
}

func (p *player) play() {
	d := p.d
	if p.conn != nil {
		p.tcp(p.conn.SYN, p.conn.SYNACK, func() []byte { return p.conn.Send(fromCaller, nil) })
	}
	p.cseq = 1
	p.sip(fromCaller, d.Request("INVITE", 1, "", p.codec.SDP(d.CallerRTP, 1)), sipStep)
	p.sip(fromCallee, d.Response(100, "Trying", "INVITE", 1, "", ""), sipStep)
	p.sip(fromCallee, d.Response(180, "Ringing", "INVITE", 1, calleeTag, ""), p.c.Ring)
	if p.c.Cancelled {
		p.sip(fromCaller, d.request("CANCEL", "INVITE", 1, "", ""), sipStep)
		p.sip(fromCallee, d.response(200, "OK", "CANCEL", "INVITE", 1, calleeTag, ""), sipStep)
		p.sip(fromCallee, d.Response(487, "Request Terminated", "INVITE", 1, calleeTag, ""), sipStep)
		p.sip(fromCaller, d.request("ACK", "INVITE", 1, calleeTag, ""), sipStep)
	} else {
		p.sip(fromCallee, d.Response(200, "OK", "INVITE", 1, calleeTag, p.codec.SDP(d.CalleeRTP, 1)), sipStep)
		p.sip(fromCaller, d.Request("ACK", 1, calleeTag, ""), sipStep)
		p.media()
		p.cseq++
		p.sip(fromCaller, d.Request("BYE", p.cseq, calleeTag, ""), sipStep)
		p.sip(fromCallee, d.Response(200, "OK", "BYE", p.cseq, calleeTag, ""), sipStep)
	}
	if p.conn != nil {
		p.tcp(func() []byte { return p.conn.FIN(fromCaller) },
			func() []byte { return p.conn.FIN(fromCallee) },
			func() []byte { return p.conn.Send(fromCaller, nil) })
	}
}

// tcp sends the three segments of a handshake or a close, tcpStep apart.
func (p *player) tcp(frames ...func() []byte) {
	for _, f := range frames {
		p.emit(p.now, f)
		p.now = p.now.Add(tcpStep)
	}
}

// media sends Talk of RTP each way, RTCP if asked for, and the re-INVITE
// halfway, which falls between two caller packets.
func (p *player) media() {
	n := int(p.c.Talk / PacketTime)
	every := int(rtcpInterval / PacketTime)
	start := p.now
	for k := 0; k < n && !p.stopped; k++ {
		tick := start.Add(time.Duration(k) * PacketTime)
		rtcp := p.c.RTCP && k%every == every-1
		p.emit(tick, p.out.rtp)
		if rtcp {
			p.emit(tick.Add(time.Millisecond), p.out.rtcpAt(tick.Add(time.Millisecond)))
		}
		p.emit(tick.Add(calleeOffset), p.bak.rtp)
		if rtcp {
			p.emit(tick.Add(calleeOffset+time.Millisecond), p.bak.rtcpAt(tick.Add(calleeOffset+time.Millisecond)))
		}
		if p.c.ReInvite && k == n/2 {
			p.now = tick.Add(calleeOffset + 2*time.Millisecond)
			p.reinvite()
		}
	}
	p.now = start.Add(time.Duration(n) * PacketTime)
}

// reinvite moves the caller's media to the next even port, in 6 ms.
func (p *player) reinvite() {
	d := p.d
	moved := netip.AddrPortFrom(d.CallerRTP.Addr(), d.CallerRTP.Port()+2)
	p.cseq++
	const step = 3 * time.Millisecond
	p.sip(fromCaller, d.Request("INVITE", p.cseq, calleeTag, p.codec.SDP(moved, 2)), step)
	p.sip(fromCallee, d.Response(200, "OK", "INVITE", p.cseq, calleeTag, p.codec.SDP(d.CalleeRTP, 1)), step)
	p.sip(fromCaller, d.Request("ACK", p.cseq, calleeTag, ""), 0)
	p.out.src, p.bak.dst = moved, moved
}

// rtpStream is one direction of a call's media.
type rtpStream struct {
	codec           Codec
	src, dst        netip.AddrPort
	ssrc            uint32
	seq             uint16 // of the next packet
	ts              uint32 // of the next packet
	packets, octets uint32 // sent so far, for sender reports
	cname           string
}

// rtp returns the next RTP frame of the stream.
func (s *rtpStream) rtp() []byte {
	f := UDP(s.src, s.dst, s.codec.RTP(s.seq, s.ts, s.ssrc))
	s.seq++
	s.ts += samplesPerPacket
	s.packets++
	s.octets += uint32(s.codec.Payload)
	return f
}

// rtcpAt returns a builder of the stream's sender report sent at at.
func (s *rtpStream) rtcpAt(at time.Time) func() []byte {
	return func() []byte {
		src := netip.AddrPortFrom(s.src.Addr(), s.src.Port()+1)
		dst := netip.AddrPortFrom(s.dst.Addr(), s.dst.Port()+1)
		return UDP(src, dst, RTCPSenderReport(s.ssrc, at, s.ts, s.packets, s.octets, s.cname))
	}
}
