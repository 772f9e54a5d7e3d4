//go:build linux

package testnet

import (
	"fmt"
	"net/netip"
	"strings"
)

// SIP and RTP ports. The call in port slot k uses RTP port rtpBaseA+2k on
// side A and rtpBaseB+2k on side B; the odd port above each would carry
// RTCP, which is not sent.
const (
	sipPort  = 5060
	rtpBaseA = 20000
	rtpBaseB = 30000

	// maxSlots keeps rtpBaseB+2k within the port range.
	maxSlots = (65535-rtpBaseB)/2 + 1
)

// dialog is one call from alice<n> on side A to bob<n> on side B.
type dialog struct {
	n                    int // call number: users, tags and branches
	callID               string
	caller, callee       netip.AddrPort // SIP
	callerRTP, calleeRTP netip.AddrPort
}

// newDialog returns call number n between a and b, using the RTP ports of
// slot k. Everything in its messages derives from n, k and the addresses,
// so a run repeats byte for byte.
func newDialog(n, k int, a, b netip.Addr) dialog {
	return dialog{
		n:         n,
		callID:    fmt.Sprintf("call-%d@lc-test", n),
		caller:    netip.AddrPortFrom(a, sipPort),
		callee:    netip.AddrPortFrom(b, sipPort),
		callerRTP: netip.AddrPortFrom(a, uint16(rtpBaseA+2*k)),
		calleeRTP: netip.AddrPortFrom(b, uint16(rtpBaseB+2*k)),
	}
}

// The messages of a dialog, in the order they are sent.
const (
	msgInvite = iota
	msgTrying
	msgRinging
	msgOK
	msgAck
	msgBye
	msgByeOK
	msgCount
)

// fromCaller reports whether message m of a dialog is sent by the caller.
func fromCaller(m int) bool {
	return m == msgInvite || m == msgAck || m == msgBye
}

// messages renders the seven messages of the dialog: INVITE with an SDP
// offer, 100, 180, 200 with the answer, ACK, BYE and its 200.
func (d dialog) messages() [msgCount][]byte {
	alice := fmt.Sprintf("alice%d", d.n)
	bob := fmt.Sprintf("bob%d", d.n)
	from := fmt.Sprintf("From: <sip:%s@%s>;tag=a%d", alice, host(d.caller.Addr()), d.n)
	to := fmt.Sprintf("To: <sip:%s@%s>", bob, host(d.callee.Addr()))
	toTagged := fmt.Sprintf("%s;tag=b%d", to, d.n)
	calleeContact := fmt.Sprintf("Contact: <sip:%s@%s>", bob, d.callee)
	target := fmt.Sprintf("sip:%s@%s", bob, d.callee) // the 200's Contact, for ACK and BYE

	// request and response list the headers of a message in a fixed
	// order; txn names the client transaction, which sets the branch.
	// RFC 3261 has Contact in INVITE and ACK but not in BYE.
	request := func(line, txn, to, cseq string, extra ...string) []string {
		h := []string{line,
			fmt.Sprintf("Via: SIP/2.0/UDP %s;branch=z9hG4bK-%d-%s", d.caller, d.n, txn),
			"Max-Forwards: 70", from, to, "Call-ID: " + d.callID, "CSeq: " + cseq,
		}
		if txn != "bye" {
			h = append(h, fmt.Sprintf("Contact: <sip:%s@%s>", alice, d.caller))
		}
		return append(h, extra...)
	}
	response := func(status, txn, to, cseq string, extra ...string) []string {
		h := request(status, txn, to, cseq)
		h = append(h[:2], h[3:7]...) // without Max-Forwards and Contact
		return append(h, extra...)
	}
	const sdpType = "Content-Type: application/sdp"

	var ms [msgCount][]byte
	ms[msgInvite] = message(request(fmt.Sprintf("INVITE sip:%s@%s SIP/2.0", bob, host(d.callee.Addr())),
		"invite", to, "1 INVITE", sdpType), sdp(alice, d.n, d.callerRTP))
	ms[msgTrying] = message(response("SIP/2.0 100 Trying", "invite", to, "1 INVITE"), "")
	ms[msgRinging] = message(response("SIP/2.0 180 Ringing", "invite", toTagged, "1 INVITE", calleeContact), "")
	ms[msgOK] = message(response("SIP/2.0 200 OK", "invite", toTagged, "1 INVITE", calleeContact, sdpType),
		sdp(bob, d.n, d.calleeRTP))
	ms[msgAck] = message(request("ACK "+target+" SIP/2.0", "ack", toTagged, "1 ACK"), "")
	ms[msgBye] = message(request("BYE "+target+" SIP/2.0", "bye", toTagged, "2 BYE"), "")
	ms[msgByeOK] = message(response("SIP/2.0 200 OK", "bye", toTagged, "2 BYE"), "")
	return ms
}

// message renders a SIP message (RFC 3261): lines[0] is the start line and
// the rest are headers; an exact Content-Length, a blank line and the body
// follow. Every line ends in CRLF.
func message(lines []string, body string) []byte {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l)
		b.WriteString("\r\n")
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(body), body)
	return []byte(b.String())
}

// sdp returns an audio offer or answer (RFC 4566) for PCMU at rtp.
func sdp(user string, session int, rtp netip.AddrPort) string {
	ipv := "IP4"
	if rtp.Addr().Is6() {
		ipv = "IP6"
	}
	a := rtp.Addr().String()
	return strings.Join([]string{
		"v=0",
		fmt.Sprintf("o=%s %d 1 IN %s %s", user, 1000+session, ipv, a),
		"s=lc test call",
		fmt.Sprintf("c=IN %s %s", ipv, a),
		"t=0 0",
		fmt.Sprintf("m=audio %d RTP/AVP 0", rtp.Port()),
		"a=rtpmap:0 PCMU/8000",
		"a=ptime:20",
		"a=sendrecv",
		"",
	}, "\r\n")
}

// host returns a as the host part of a SIP URI, in brackets for IPv6.
func host(a netip.Addr) string {
	if a.Is6() {
		return "[" + a.String() + "]"
	}
	return a.String()
}
