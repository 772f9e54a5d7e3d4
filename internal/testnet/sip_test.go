//go:build linux

package testnet

import (
	"bytes"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"testing"
)

// sipMessage is a SIP message split into its parts.
type sipMessage struct {
	start   string
	headers map[string][]string // by lower-case name
	body    string
}

// parseSIP checks that b is a well-formed SIP message as SendCalls must
// produce it and returns its parts.
func parseSIP(b []byte) (sipMessage, error) {
	head, body, ok := bytes.Cut(b, []byte("\r\n\r\n"))
	if !ok {
		return sipMessage{}, fmt.Errorf("no blank line ending the headers")
	}
	lines := strings.Split(string(head), "\r\n")
	m := sipMessage{start: lines[0], headers: map[string][]string{}, body: string(body)}
	for _, l := range lines {
		if strings.ContainsAny(l, "\r\n") {
			return m, fmt.Errorf("bare CR or LF in %q", l)
		}
	}
	for _, l := range lines[1:] {
		name, value, ok := strings.Cut(l, ": ")
		if !ok {
			return m, fmt.Errorf("malformed header %q", l)
		}
		m.headers[strings.ToLower(name)] = append(m.headers[strings.ToLower(name)], value)
	}
	request := !strings.HasPrefix(m.start, "SIP/2.0 ")
	if request && !strings.HasSuffix(m.start, " SIP/2.0") {
		return m, fmt.Errorf("malformed start line %q", m.start)
	}
	want := []string{"via", "from", "to", "call-id", "cseq", "content-length"}
	if request {
		want = append(want, "max-forwards")
	}
	if method := strings.Fields(m.start)[0]; method == "INVITE" || method == "ACK" {
		want = append(want, "contact")
	}
	if strings.Fields(m.start)[0] == "BYE" && len(m.headers["contact"]) != 0 {
		return m, fmt.Errorf("%q: Contact in BYE", m.start)
	}
	for _, h := range want {
		if len(m.headers[h]) != 1 {
			return m, fmt.Errorf("%q: want one %s header, have %q", m.start, h, m.headers[h])
		}
	}
	if n, err := strconv.Atoi(m.headers["content-length"][0]); err != nil || n != len(body) {
		return m, fmt.Errorf("%q: Content-Length %s for a body of %d bytes", m.start, m.headers["content-length"][0], len(body))
	}
	if !strings.HasPrefix(m.headers["via"][0], "SIP/2.0/UDP ") || !strings.Contains(m.headers["via"][0], ";branch=z9hG4bK") {
		return m, fmt.Errorf("%q: malformed Via %q", m.start, m.headers["via"][0])
	}
	if (len(body) > 0) != (len(m.headers["content-type"]) == 1) {
		return m, fmt.Errorf("%q: body and Content-Type disagree", m.start)
	}
	if len(body) > 0 && !strings.HasSuffix(m.body, "\r\n") {
		return m, fmt.Errorf("%q: body does not end in CRLF", m.start)
	}
	return m, nil
}

// kind names a SIP message by its method or status code and CSeq method,
// "INVITE" or "200 BYE".
func (m sipMessage) kind() string {
	if code, ok := strings.CutPrefix(m.start, "SIP/2.0 "); ok {
		cseq := strings.Fields(m.headers["cseq"][0])
		return code[:3] + " " + cseq[len(cseq)-1]
	}
	return strings.Fields(m.start)[0]
}

// sdpMedia returns the connection address and media port of an SDP body.
func sdpMedia(body string) (netip.AddrPort, error) {
	var addr netip.Addr
	var port int
	for l := range strings.SplitSeq(strings.TrimSuffix(body, "\r\n"), "\r\n") {
		if c, ok := strings.CutPrefix(l, "c=IN "); ok {
			a, err := netip.ParseAddr(c[4:])
			if err != nil {
				return netip.AddrPort{}, err
			}
			addr = a
		}
		if m, ok := strings.CutPrefix(l, "m=audio "); ok {
			f := strings.Fields(m)
			if len(f) != 3 || f[1] != "RTP/AVP" || f[2] != "0" {
				return netip.AddrPort{}, fmt.Errorf("bad media line %q", l)
			}
			p, err := strconv.Atoi(f[0])
			if err != nil {
				return netip.AddrPort{}, err
			}
			port = p
		}
	}
	return netip.AddrPortFrom(addr, uint16(port)), nil
}

func TestDialogMessages(t *testing.T) {
	tests := []struct {
		name string
		a, b netip.Addr
	}{
		{"ipv4", netip.MustParseAddr("10.1.2.1"), netip.MustParseAddr("10.1.2.2")},
		{"ipv6", netip.MustParseAddr("fd00::1:2:0:1"), netip.MustParseAddr("fd00::1:2:0:2")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDialog(7, 3, tt.a, tt.b)
			wantKinds := []string{"INVITE", "100 INVITE", "180 INVITE", "200 INVITE", "ACK", "BYE", "200 BYE"}
			for i, b := range d.messages() {
				m, err := parseSIP(b)
				if err != nil {
					t.Fatalf("message %d: %v\n%s", i, err, b)
				}
				if m.kind() != wantKinds[i] {
					t.Errorf("message %d is %s, want %s", i, m.kind(), wantKinds[i])
				}
				if got := m.headers["call-id"][0]; got != "call-7@lc-test" {
					t.Errorf("%s: Call-ID %q", m.kind(), got)
				}
				if got := m.headers["from"][0]; !strings.HasPrefix(got, "<sip:alice7@") || !strings.HasSuffix(got, ";tag=a7") {
					t.Errorf("%s: From %q", m.kind(), got)
				}
				if got, want := m.headers["via"][0], host(tt.a)+":5060;"; !strings.Contains(got, want) {
					t.Errorf("%s: Via %q lacks %q", m.kind(), got, want)
				}
				switch i {
				case msgInvite, msgOK:
					want := map[int]netip.AddrPort{msgInvite: d.callerRTP, msgOK: d.calleeRTP}[i]
					if got, err := sdpMedia(m.body); err != nil || got != want {
						t.Errorf("%s: SDP media %v (%v), want %v", m.kind(), got, err, want)
					}
				}
			}
			if d.callerRTP.Port() != 20006 || d.calleeRTP.Port() != 30006 {
				t.Errorf("RTP ports %v %v", d.callerRTP, d.calleeRTP)
			}
		})
	}
}
