//go:build linux

package testnet

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"
)

// Calls describes the calls SendCalls plays. The zero value plays none.
type Calls struct {
	N    int           // number of calls, at most 17768
	RTP  int           // RTP packets per direction per call; 0 sends signalling only
	Gap  time.Duration // pause before every packet but the first; 0 sends back to back
	IPv6 bool          // use Addr6 instead of Addr
}

// SendCalls plays c.N complete calls over the link, one after the other,
// and returns their Call-IDs in order and the number of UDP datagrams
// sent, which is c.N × (7 + 2 × c.RTP).
//
// Call k (from 0) is alice<k>, SIP port 5060 and RTP port 20000+2k on
// side A, calling bob<k>, SIP port 5060 and RTP port 30000+2k on side B,
// with Call-ID "call-<k>@lc-test". On the wire it is: INVITE with an SDP
// offer (A→B), 100 Trying, 180 Ringing, 200 OK with the SDP answer
// (B→A), ACK (A→B); then c.RTP RTP packets each way, alternating A→B and
// B→A, PCMU with 160 bytes of payload and timestamps 20 ms apart; then BYE
// (A→B) and 200 OK (B→A). Every message is valid SIP with CRLF line ends
// and an exact Content-Length. Tags, branches, SSRCs, sequence numbers
// and timestamps derive from k, so the UDP payloads are the same on every
// run apart from the Pair's addresses in them.
//
// All packets are sent from the calling goroutine in the order above, so
// a capture on either veth end sees them in that order. Before sending,
// SendCalls binds every port it sends to, on both sides, with sockets that
// discard what they receive, so the kernel answers nothing (no ICMP).
// Before returning it waits until every datagram has arrived, and fails if
// one did not; then it closes the sockets.
func (p *Pair) SendCalls(c Calls) (callIDs []string, packets int, err error) {
	if c.N < 0 || c.N > maxSlots || c.RTP < 0 || c.Gap < 0 {
		return nil, 0, fmt.Errorf("bad calls %+v", c)
	}
	a, b := p.Addr[0], p.Addr[1]
	if c.IPv6 {
		a, b = p.Addr6[0], p.Addr6[1]
	}
	dialogs := make([]dialog, c.N)
	for k := range dialogs {
		dialogs[k] = newDialog(k, k, a, b)
	}
	var eps [2][]*net.UDPConn
	for i, side := range [2]netip.Addr{a, b} {
		addrs := []netip.AddrPort{netip.AddrPortFrom(side, sipPort)}
		for _, d := range dialogs {
			addrs = append(addrs, [2]netip.AddrPort{d.callerRTP, d.calleeRTP}[i])
		}
		eps[i], err = p.listen(i, addrs...)
		if err != nil {
			closeAll(eps[0])
			return nil, 0, err
		}
	}
	defer func() {
		err = errors.Join(err, closeAll(eps[0]), closeAll(eps[1]))
	}()

	var base [2]udpCounters
	for i := range base {
		if base[i], err = p.udp(i); err != nil {
			return nil, 0, err
		}
	}
	s := sender{gap: c.Gap}
	var buf [rtpPacketLen]byte
	for k, d := range dialogs {
		callIDs = append(callIDs, d.callID)
		sipA, sipB := eps[0][0], eps[1][0]
		rtpA, rtpB := eps[0][1+k], eps[1][1+k]
		ms := d.messages()
		for m := msgInvite; m <= msgAck; m++ {
			if err := s.sip(sipA, sipB, d, m, ms[m]); err != nil {
				return nil, s.total(), err
			}
		}
		up, down := newRTPStream(k, 0), newRTPStream(k, 1)
		for range c.RTP {
			if err := s.send(rtpA, d.calleeRTP, 1, up.next(buf[:])); err != nil {
				return nil, s.total(), err
			}
			if err := s.send(rtpB, d.callerRTP, 0, down.next(buf[:])); err != nil {
				return nil, s.total(), err
			}
		}
		for _, m := range []int{msgBye, msgByeOK} {
			if err := s.sip(sipA, sipB, d, m, ms[m]); err != nil {
				return nil, s.total(), err
			}
		}
	}
	got, err := p.settle(base, s.sent)
	if err != nil {
		return nil, s.total(), err
	}
	if got != s.sent {
		return nil, s.total(), fmt.Errorf("sent %v datagrams to A and B, %v arrived", s.sent, got)
	}
	return callIDs, s.total(), nil
}

// sender sends single datagrams, pausing between them and counting them
// by destination side.
type sender struct {
	gap  time.Duration
	sent [2]int // datagrams sent to side A and side B
}

// total returns the number of datagrams sent.
func (s *sender) total() int { return s.sent[0] + s.sent[1] }

// send sends b from conn to dst on side to.
func (s *sender) send(conn *net.UDPConn, dst netip.AddrPort, to int, b []byte) error {
	if s.gap > 0 && s.total() > 0 {
		time.Sleep(s.gap)
	}
	if _, err := conn.WriteToUDPAddrPort(b, dst); err != nil {
		return fmt.Errorf("send to %s: %w", dst, err)
	}
	s.sent[to]++
	return nil
}

// sip sends message m of dialog d, b, from the SIP socket of its sender.
func (s *sender) sip(sipA, sipB *net.UDPConn, d dialog, m int, b []byte) error {
	if fromCaller(m) {
		return s.send(sipA, d.callee, 1, b)
	}
	return s.send(sipB, d.caller, 0, b)
}
