package testpcap

import (
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// Dialog describes one synthetic call: who calls whom, from which SIP and
// RTP addresses.
type Dialog struct {
	CallID         string
	From, To       string // user@host
	Caller, Callee netip.AddrPort
	CallerRTP      netip.AddrPort
	CalleeRTP      netip.AddrPort
	Transport      string // in the Via headers; empty means UDP
}

// NewDialog returns the n-th of a family of distinct IPv4 dialogs.
func NewDialog(n int) Dialog {
	a := netip.AddrFrom4([4]byte{10, 1, byte(n >> 8), byte(n)})
	b := netip.AddrFrom4([4]byte{10, 2, byte(n >> 8), byte(n)})
	return Dialog{
		CallID:    fmt.Sprintf("call-%d@lc.test", n),
		From:      fmt.Sprintf("alice%d@a.example", n),
		To:        fmt.Sprintf("bob%d@b.example", n),
		Caller:    netip.AddrPortFrom(a, 5060),
		Callee:    netip.AddrPortFrom(b, 5060),
		CallerRTP: netip.AddrPortFrom(a, 20000+uint16(n%10000)*2),
		CalleeRTP: netip.AddrPortFrom(b, 30000+uint16(n%10000)*2),
	}
}

// SDP returns an audio offer or answer for an RTP endpoint.
func SDP(rtp netip.AddrPort) string {
	ipv := "IP4"
	if rtp.Addr().Is6() {
		ipv = "IP6"
	}
	return fmt.Sprintf("v=0\r\no=- 1 1 IN %[1]s %[2]s\r\ns=-\r\nc=IN %[1]s %[2]s\r\nt=0 0\r\n"+
		"m=audio %[3]d RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n", ipv, rtp.Addr(), rtp.Port())
}

// Request builds a request of the dialog from the caller. toTag is empty
// for the initial INVITE; sdp is the body, empty for none.
func (d Dialog) Request(method string, cseq int, toTag, sdp string) []byte {
	return d.request(method, method, cseq, toTag, sdp)
}

// request builds a request whose Via branch is that of the transaction
// started by txMethod: a CANCEL, and the ACK of a failed INVITE, share the
// branch of their INVITE.
func (d Dialog) request(method, txMethod string, cseq int, toTag, sdp string) []byte {
	uri := "sip:" + d.To
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s SIP/2.0\r\n", method, uri)
	d.via(&b, cseq, txMethod)
	fmt.Fprintf(&b, "Max-Forwards: 70\r\n")
	fmt.Fprintf(&b, "From: <sip:%s>;tag=caller-tag\r\n", d.From)
	to := fmt.Sprintf("To: <sip:%s>", d.To)
	if toTag != "" {
		to += ";tag=" + toTag
	}
	b.WriteString(to + "\r\n")
	fmt.Fprintf(&b, "Call-ID: %s\r\nCSeq: %d %s\r\n", d.CallID, cseq, method)
	fmt.Fprintf(&b, "Contact: <sip:%s>\r\n", d.Caller)
	body(&b, sdp)
	return []byte(b.String())
}

// Response builds a response to a request of the dialog.
func (d Dialog) Response(code int, reason, method string, cseq int, toTag, sdp string) []byte {
	return d.response(code, reason, method, method, cseq, toTag, sdp)
}

// response builds a response in the transaction started by txMethod.
func (d Dialog) response(code int, reason, method, txMethod string, cseq int, toTag, sdp string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "SIP/2.0 %d %s\r\n", code, reason)
	d.via(&b, cseq, txMethod)
	fmt.Fprintf(&b, "From: <sip:%s>;tag=caller-tag\r\n", d.From)
	to := fmt.Sprintf("To: <sip:%s>", d.To)
	if toTag != "" {
		to += ";tag=" + toTag
	}
	b.WriteString(to + "\r\n")
	fmt.Fprintf(&b, "Call-ID: %s\r\nCSeq: %d %s\r\n", d.CallID, cseq, method)
	body(&b, sdp)
	return []byte(b.String())
}

func (d Dialog) via(b *strings.Builder, cseq int, txMethod string) {
	transport := d.Transport
	if transport == "" {
		transport = "UDP"
	}
	fmt.Fprintf(b, "Via: SIP/2.0/%s %s;branch=z9hG4bK-%d-%s\r\n", transport, d.Caller, cseq, strings.ToLower(txMethod))
}

func body(b *strings.Builder, sdp string) {
	if sdp == "" {
		b.WriteString("Content-Length: 0\r\n\r\n")
		return
	}
	fmt.Fprintf(b, "Content-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s", len(sdp), sdp)
}

// RTP returns an RTP packet (PCMU, 160 bytes of payload).
func RTP(seq uint16, ts, ssrc uint32) []byte {
	return PCMU.RTP(seq, ts, ssrc)
}

// Timeline collects packets at increasing times.
type Timeline struct {
	Now  time.Time
	Pkts []Packet
}

// Add appends a frame at the current time, then moves time on by step.
func (t *Timeline) Add(data []byte, step time.Duration) {
	t.Pkts = append(t.Pkts, Packet{Time: t.Now, Data: data})
	t.Now = t.Now.Add(step)
}

// BasicCall appends a complete UDP call: INVITE, 100, 180, 200, ACK, rtp
// RTP packets each way (20 ms apart), BYE and its 200.
func (t *Timeline) BasicCall(d Dialog, rtp int) {
	const ms = time.Millisecond
	t.Add(UDP(d.Caller, d.Callee, d.Request("INVITE", 1, "", SDP(d.CallerRTP))), 10*ms)
	t.Add(UDP(d.Callee, d.Caller, d.Response(100, "Trying", "INVITE", 1, "", "")), 10*ms)
	t.Add(UDP(d.Callee, d.Caller, d.Response(180, "Ringing", "INVITE", 1, "callee-tag", "")), 500*ms)
	t.Add(UDP(d.Callee, d.Caller, d.Response(200, "OK", "INVITE", 1, "callee-tag", SDP(d.CalleeRTP))), 10*ms)
	t.Add(UDP(d.Caller, d.Callee, d.Request("ACK", 1, "callee-tag", "")), 10*ms)
	for i := range rtp {
		t.Add(UDP(d.CallerRTP, d.CalleeRTP, RTP(uint16(i), uint32(i*160), 0x1111)), 0)
		t.Add(UDP(d.CalleeRTP, d.CallerRTP, RTP(uint16(i), uint32(i*160), 0x2222)), 20*ms)
	}
	t.Add(UDP(d.Caller, d.Callee, d.Request("BYE", 2, "callee-tag", "")), 10*ms)
	t.Add(UDP(d.Callee, d.Caller, d.Response(200, "OK", "BYE", 2, "callee-tag", "")), 10*ms)
}
