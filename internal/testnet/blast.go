//go:build linux

package testnet

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"golang.org/x/net/ipv4"
)

// Load describes the traffic Blast sends.
type Load struct {
	Rate     int           // packets per second, 1 to MaxLoadRate
	Duration time.Duration // how long to send, up to MaxLoadDuration
	Calls    int           // calls in progress at any time, up to 17768; 0 means DefaultLoadCalls
}

// Bounds and defaults of a Load.
const (
	MaxLoadRate      = 1_000_000
	MaxLoadDuration  = 10 * time.Second
	DefaultLoadCalls = 64
)

const (
	// loadRTP is the number of RTP packets of a call under Load, both
	// directions together; with its five SIP messages 1% of its packets
	// are SIP.
	loadRTP = 495

	// loadBurst is the most RTP packets sent with one sendmmsg call.
	loadBurst = 16

	// loadStep bounds the packets sent between two looks at the clock.
	loadStep = 256

	// loadLate is how long after its Duration a Load may go on sending the
	// packets that fell due at the end, while the last sleep overran.
	loadLate = 10 * time.Millisecond
)

// Blast sends IPv4 SIP and RTP over the link at about l.Rate packets per
// second for l.Duration and returns the number of datagrams sent and the
// rate achieved: sent divided by the time spent sending. It stops after
// l.Rate × l.Duration datagrams or 10 ms after l.Duration is over,
// whichever comes first, so a rate the machine cannot reach shows as a
// lower achieved rate rather than a longer run.
//
// l.Calls calls run at once, in the same ports and roles as in SendCalls,
// with Call-IDs "load-<n>@lc-test". Each call is INVITE (A→B), 200 OK
// (B→A) and ACK (A→B), then 495 RTP packets alternating in bursts of up
// to 16 between A→B and B→A, then BYE (A→B) and 200 OK (B→A), after which
// a new call takes over its ports. 1% of a call's packets are SIP; the
// first calls set up together at the start, which adds 3 × l.Calls SIP
// messages early on. The calls take turns in a fixed order and the packets
// of each call are the same on every run, but how the bursts interleave
// depends on timing.
//
// Packets go out from one goroutine: RTP bursts through sendmmsg
// (golang.org/x/net/ipv4 WriteBatch), SIP one by one. Pacing looks at the
// clock between sends and sleeps when ahead, so packets leave in small
// bursts at the requested average rate. All destination ports are bound
// by discarding sockets, as in SendCalls. Before returning Blast waits
// for the datagrams in flight to arrive; datagrams the kernel lost on the
// way are not an error, but one that finds no bound port is.
func (p *Pair) Blast(l Load) (sent int, achieved float64, err error) {
	if l.Calls == 0 {
		l.Calls = DefaultLoadCalls
	}
	if l.Rate < 1 || l.Rate > MaxLoadRate || l.Duration <= 0 || l.Duration > MaxLoadDuration ||
		l.Calls < 0 || l.Calls > maxSlots {
		return 0, 0, fmt.Errorf("bad load %+v", l)
	}
	b, err := p.newBlaster(l.Calls)
	if err != nil {
		return 0, 0, err
	}
	defer func() { err = errors.Join(err, b.close()) }()

	var base [2]udpCounters
	for i := range base {
		if base[i], err = p.udp(i); err != nil {
			return 0, 0, err
		}
	}
	total := int(float64(l.Rate) * l.Duration.Seconds())
	perPacket := time.Second / time.Duration(l.Rate)
	start := time.Now()
	elapsed := time.Duration(0)
	for sent < total && elapsed < l.Duration+loadLate {
		due := min(int(float64(l.Rate)*elapsed.Seconds()), total) - sent
		if due <= 0 {
			// Sleep until a burst is due.
			time.Sleep(time.Duration(min(sent+loadBurst, total))*perPacket - elapsed)
		} else {
			n, err := b.send(min(due, loadStep))
			sent += n
			if err != nil {
				return sent, 0, err
			}
		}
		elapsed = time.Since(start)
	}
	achieved = float64(sent) / elapsed.Seconds()
	if _, err := p.settle(base, b.sent); err != nil {
		return sent, achieved, err
	}
	return sent, achieved, nil
}

// loadCall is one port slot of a Blast and the call now using it.
type loadCall struct {
	slot    int
	d       dialog
	msgs    [msgCount][]byte
	step    int                 // index into loadSteps
	rtpLeft int                 // RTP packets still to send in the media step
	dir     int                 // direction of the next RTP burst: 0 A→B, 1 B→A
	streams [2]rtpStream        // RTP of each direction
	dst     [2]net.Addr         // RTP destination of each direction
	rtp     [2]*ipv4.PacketConn // RTP socket of each direction (on side A, on side B)
}

// loadSteps is the life of a call under Load; stepMedia stands for the
// RTP.
var loadSteps = [...]int{msgInvite, msgOK, msgAck, stepMedia, msgBye, msgByeOK}

const stepMedia = -1

// blaster holds the sockets and calls of one Blast. It is used by one
// goroutine.
type blaster struct {
	p     *Pair
	conns [2][]*net.UDPConn // all sockets of each side, SIP first
	sip   [2]*net.UDPConn
	calls []loadCall
	next  int    // call whose turn is next
	calln int    // calls started so far
	sent  [2]int // datagrams sent to side A and side B

	batch [loadBurst]ipv4.Message
	bufs  [loadBurst][rtpPacketLen]byte
}

// newBlaster opens the sockets for calls concurrent calls.
func (p *Pair) newBlaster(calls int) (*blaster, error) {
	b := &blaster{p: p, calls: make([]loadCall, calls)}
	for i := range 2 {
		addrs := []netip.AddrPort{netip.AddrPortFrom(p.Addr[i], sipPort)}
		for k := range calls {
			d := newDialog(0, k, p.Addr[0], p.Addr[1])
			addrs = append(addrs, [2]netip.AddrPort{d.callerRTP, d.calleeRTP}[i])
		}
		conns, err := p.listen(i, addrs...)
		if err != nil {
			b.close()
			return nil, err
		}
		b.conns[i] = conns
		b.sip[i] = conns[0]
	}
	for k := range b.calls {
		c := &b.calls[k]
		c.slot = k
		c.rtp = [2]*ipv4.PacketConn{ipv4.NewPacketConn(b.conns[0][1+k]), ipv4.NewPacketConn(b.conns[1][1+k])}
		b.startCall(c)
	}
	for i := range b.batch {
		b.batch[i].Buffers = [][]byte{b.bufs[i][:]}
	}
	return b, nil
}

// startCall puts a new call in c's slot.
func (b *blaster) startCall(c *loadCall) {
	n := b.calln
	b.calln++
	c.d = newDialog(n, c.slot, b.p.Addr[0], b.p.Addr[1])
	c.d.callID = fmt.Sprintf("load-%d@lc-test", n)
	c.msgs = c.d.messages()
	c.step, c.rtpLeft, c.dir = 0, loadRTP, 0
	c.streams = [2]rtpStream{newRTPStream(n, 0), newRTPStream(n, 1)}
	c.dst = [2]net.Addr{net.UDPAddrFromAddrPort(c.d.calleeRTP), net.UDPAddrFromAddrPort(c.d.callerRTP)}
}

// send sends up to budget (at least 1) datagrams, the calls taking turns,
// and returns how many it sent.
func (b *blaster) send(budget int) (int, error) {
	sent := 0
	for sent < budget {
		c := &b.calls[b.next]
		b.next = (b.next + 1) % len(b.calls)
		n, err := b.turn(c, budget-sent)
		sent += n
		if err != nil {
			return sent, err
		}
	}
	return sent, nil
}

// turn sends c's next SIP message or its next RTP burst of at most budget
// packets.
func (b *blaster) turn(c *loadCall, budget int) (int, error) {
	m := loadSteps[c.step]
	if m != stepMedia {
		from, to, dst := 0, 1, c.d.callee
		if !fromCaller(m) {
			from, to, dst = 1, 0, c.d.caller
		}
		if _, err := b.sip[from].WriteToUDPAddrPort(c.msgs[m], dst); err != nil {
			return 0, fmt.Errorf("send to %s: %w", dst, err)
		}
		b.sent[to]++
		if c.step++; c.step == len(loadSteps) {
			b.startCall(c)
		}
		return 1, nil
	}
	dir := c.dir
	n := min(budget, loadBurst, c.rtpLeft)
	ms := b.batch[:n]
	for i := range ms {
		c.streams[dir].next(b.bufs[i][:])
		ms[i].Addr = c.dst[dir]
	}
	for len(ms) > 0 {
		w, err := c.rtp[dir].WriteBatch(ms, 0)
		b.sent[1-dir] += w
		if err != nil {
			return n - len(ms) + w, fmt.Errorf("send to %s: %w", c.dst[dir], err)
		}
		ms = ms[w:]
	}
	c.dir = 1 - dir
	if c.rtpLeft -= n; c.rtpLeft == 0 {
		c.step++
	}
	return n, nil
}

// close closes every socket.
func (b *blaster) close() error {
	return errors.Join(closeAll(b.conns[0]), closeAll(b.conns[1]))
}
