package main

import (
	"bytes"
	"errors"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/lc-voip/lc/internal/testenv"
	"github.com/lc-voip/lc/internal/testpcap"
)

// redecodeRun runs lc process on capture with extra arguments and returns
// its output directory, its --events lines and its exit status.
func redecodeRun(tb testing.TB, capture string, extra ...string) (out string, events []byte, code int, stderr string) {
	tb.Helper()
	dir := tb.TempDir()
	out = filepath.Join(dir, "out")
	eventsPath := filepath.Join(dir, "events.jsonl")
	args := append([]string{"process", "-r", capture, "-o", out, "--events", eventsPath, "--progress", "never"}, extra...)
	code, _, stderr = run(tb, nil, args...)
	if code == exitUsage {
		tb.Fatalf("lc %q: usage error:\n%s", args, stderr)
	}
	events, err := os.ReadFile(eventsPath)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		tb.Fatal(err)
	}
	return out, events, code, stderr
}

// TestRedecode re-reads lc's files with gopacket (see checkRedecode) for
// the captures the other tests of lc process use, and for a generated one
// that mixes SIP over UDP and TCP with RTP.
func TestRedecode(t *testing.T) {
	mixed := mixedCapture(t)
	tests := []struct {
		name    string
		capture string
		args    []string
		calls   int
		tcp     bool // SIP over TCP: some records are TCP segments
		frags   bool // some call records are IP fragments
		parts   bool // some call has several files of a kind
	}{
		{name: "sample", capture: samplePath, calls: 3},
		{name: "two calls", capture: twoCalls(t), calls: 2},
		{name: "parts", capture: multiPartCapture(t), args: []string{"--per-call-max-size", "64K"}, calls: 2, parts: true},
		{name: "mixed", capture: mixed, calls: mixedCalls, tcp: true, frags: true},
		{name: "mixed in parts", capture: mixed, args: []string{"--per-call-max-size", "64K"}, calls: mixedCalls, tcp: true, frags: true, parts: true},
		{name: "mixed, gzip", capture: mixed, args: []string{"--compress", "gzip"}, calls: mixedCalls, tcp: true, frags: true},
		{name: "mixed in parts, zstd", capture: mixed, args: []string{"--per-call-max-size", "64K", "--compress", "zstd"}, calls: mixedCalls, tcp: true, frags: true, parts: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, events, code, stderr := redecodeRun(t, tt.capture, tt.args...)
			if code != exitOK {
				t.Fatalf("exit %d:\n%s", code, stderr)
			}
			rep := checkRedecode(t, tt.capture, out, events)
			t.Logf("%+v", rep)
			if rep.Calls != tt.calls || len(rep.Skipped) > 0 || len(rep.InputUndecodable) > 0 {
				t.Errorf("%d calls, want %d; files not read: %q; undecodable records: %v", rep.Calls, tt.calls, rep.Skipped, rep.InputUndecodable)
			}
			if (rep.TCPSegments > 0) != tt.tcp || (rep.Fragments > 0) != tt.frags {
				t.Errorf("%d TCP segments and %d fragments in call files: want some of each %v, %v", rep.TCPSegments, rep.Fragments, tt.tcp, tt.frags)
			}
			if parts := bytes.Contains(events, []byte(`"part":1`)); parts != tt.parts {
				t.Errorf("files in several parts: %v, want %v", parts, tt.parts)
			}
		})
	}
}

// TestRedecodeSharedCaptures re-reads lc's files for each of the public
// captures TestConformance compares with tshark. It needs no tshark, and
// checks what lc wrote whatever its exit status (the corrupt capture
// among them stops lc with an error).
func TestRedecodeSharedCaptures(t *testing.T) {
	dir, captures := testenv.SharedCaptures(t)
	for _, name := range captures {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			capture := filepath.Join(dir, filepath.FromSlash(name))
			out, events, code, stderr := redecodeRun(t, capture)
			if code != exitOK {
				t.Logf("exit %d:\n%s", code, stderr)
			}
			t.Logf("%+v", checkRedecode(t, capture, out, events))
		})
	}
}

// mixedCalls is the number of calls in mixedCapture.
const mixedCalls = 12 + 5

// mixedCapture writes a capture that mixes SIP over UDP and TCP with RTP
// and RTCP, and returns its path: a small load (G.711 and G.729, SIP over
// TCP, re-INVITEs that move the media, cancelled calls), two calls on one
// TCP connection whose messages are cut across segments and share
// segments, a call with compact and lower-case Call-ID headers, one whose
// SIP and RTP come in IPv4 fragments, and one over IPv6.
func mixedCapture(t *testing.T) string {
	t.Helper()
	start := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	calls, err := testpcap.Plan(testpcap.LoadConfig{
		Calls: 12, Concurrent: 5, Talk: 4 * time.Second, Seed: 3, Start: start,
		G729: 0.25, TCP: 0.5, ReInvite: 0.25, Cancel: 0.2, RTCP: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	pkts := slices.Collect(testpcap.Merge(calls))
	pkts = append(pkts, sharedTCPCalls(start.Add(700*time.Millisecond), testpcap.NewDialog(101), testpcap.NewDialog(102))...)
	pkts = append(pkts, compactCall(start.Add(1100*time.Millisecond), testpcap.NewDialog(103))...)
	pkts = append(pkts, fragmentedCall(start.Add(1300*time.Millisecond), testpcap.NewDialog(104))...)
	v6 := testpcap.NewDialog(105)
	v6.Caller, v6.Callee = netip.MustParseAddrPort("[fd00::105:1]:5060"), netip.MustParseAddrPort("[fd00::105:2]:5060")
	v6.CallerRTP, v6.CalleeRTP = netip.MustParseAddrPort("[fd00::105:1]:40000"), netip.MustParseAddrPort("[fd00::105:2]:40002")
	tl := &testpcap.Timeline{Now: start.Add(1700 * time.Millisecond)}
	tl.BasicCall(v6, 20)
	pkts = append(pkts, tl.Pkts...)
	slices.SortStableFunc(pkts, func(a, b testpcap.Packet) int { return a.Time.Compare(b.Time) })
	path := filepath.Join(t.TempDir(), "mixed.pcap")
	testpcap.WriteFile(t, path, pkts)
	return path
}

// sharedTCPCalls plays calls a and b over one TCP connection: a's INVITE
// in two segments, the second of which also carries the head of b's; both
// 100 Trying in one segment, both 200 OK and both ACKs likewise; a's BYE
// cut inside its Call-ID. Media goes over UDP.
func sharedTCPCalls(start time.Time, a, b testpcap.Dialog) []testpcap.Packet {
	const ms = time.Millisecond
	client := netip.AddrPortFrom(a.Caller.Addr(), 50000)
	for _, d := range []*testpcap.Dialog{&a, &b} {
		d.Transport, d.Caller, d.Callee = "TCP", client, a.Callee
	}
	conn := testpcap.NewTCPConn(client, a.Callee, 1000, 900000)
	tl := &testpcap.Timeline{Now: start}
	up := func(msgs ...[]byte) { tl.Add(conn.Send(true, slices.Concat(msgs...)), 10*ms) }
	down := func(msgs ...[]byte) { tl.Add(conn.Send(false, slices.Concat(msgs...)), 10*ms) }
	tl.Add(conn.SYN(), ms)
	tl.Add(conn.SYNACK(), ms)
	tl.Add(conn.Send(true, nil), ms)

	inviteA := a.Request("INVITE", 1, "", testpcap.SDP(a.CallerRTP))
	inviteB := b.Request("INVITE", 1, "", testpcap.SDP(b.CallerRTP))
	up(inviteA[:40])
	up(inviteA[40:], inviteB[:60])
	up(inviteB[60:])
	down(a.Response(100, "Trying", "INVITE", 1, "", ""), b.Response(100, "Trying", "INVITE", 1, "", ""))
	down(a.Response(200, "OK", "INVITE", 1, "ta", testpcap.SDP(a.CalleeRTP)), b.Response(200, "OK", "INVITE", 1, "tb", testpcap.SDP(b.CalleeRTP)))
	up(a.Request("ACK", 1, "ta", ""), b.Request("ACK", 1, "tb", ""))
	for i := range 10 {
		for k, d := range []testpcap.Dialog{a, b} {
			ssrc := uint32(0xa000 + 2*k)
			tl.Add(testpcap.UDP(d.CallerRTP, d.CalleeRTP, testpcap.RTP(uint16(i), uint32(i*160), ssrc)), 0)
			tl.Add(testpcap.UDP(d.CalleeRTP, d.CallerRTP, testpcap.RTP(uint16(i), uint32(i*160), ssrc+1)), 10*ms)
		}
	}
	bye := a.Request("BYE", 2, "ta", "")
	cut := bytes.Index(bye, []byte("Call-ID: ")) + len("Call-ID: ca")
	up(bye[:cut])
	up(bye[cut:])
	down(a.Response(200, "OK", "BYE", 2, "ta", ""))
	up(b.Request("BYE", 2, "tb", ""))
	down(b.Response(200, "OK", "BYE", 2, "tb", ""))
	tl.Add(conn.FIN(true), ms)
	tl.Add(conn.FIN(false), ms)
	tl.Add(conn.Send(true, nil), 0)
	return tl.Pkts
}

// compactCall plays a UDP call whose messages name the Call-ID in
// compact form ("i: ") or in lower case with space before the colon
// ("call-id :"), in turn.
func compactCall(start time.Time, d testpcap.Dialog) []testpcap.Packet {
	const ms = time.Millisecond
	forms := [][]byte{[]byte("i: "), []byte("call-id :  ")}
	n := 0
	tl := &testpcap.Timeline{Now: start}
	send := func(src, dst netip.AddrPort, msg []byte) {
		msg = bytes.Replace(msg, []byte("Call-ID: "), forms[n%len(forms)], 1)
		n++
		tl.Add(testpcap.UDP(src, dst, msg), 10*ms)
	}
	send(d.Caller, d.Callee, d.Request("INVITE", 1, "", testpcap.SDP(d.CallerRTP)))
	send(d.Callee, d.Caller, d.Response(200, "OK", "INVITE", 1, "tc", testpcap.SDP(d.CalleeRTP)))
	send(d.Caller, d.Callee, d.Request("ACK", 1, "tc", ""))
	for i := range 10 {
		tl.Add(testpcap.UDP(d.CallerRTP, d.CalleeRTP, testpcap.RTP(uint16(i), uint32(i*160), 0xc1)), 0)
		tl.Add(testpcap.UDP(d.CalleeRTP, d.CallerRTP, testpcap.RTP(uint16(i), uint32(i*160), 0xc2)), 20*ms)
	}
	send(d.Caller, d.Callee, d.Request("BYE", 2, "tc", ""))
	send(d.Callee, d.Caller, d.Response(200, "OK", "BYE", 2, "tc", ""))
	return tl.Pkts
}

// fragmentedCall plays a UDP call whose INVITE and 200 OK come in IPv4
// fragments of at most 200 bytes, the 200 OK's last fragment first, and
// whose first RTP packet each way in fragments of 96 bytes.
func fragmentedCall(start time.Time, d testpcap.Dialog) []testpcap.Packet {
	const ms = time.Millisecond
	tl := &testpcap.Timeline{Now: start}
	add := func(frames [][]byte) {
		for _, f := range frames {
			tl.Add(f, ms)
		}
	}
	add(testpcap.IPv4Fragments(d.Caller, d.Callee, 7001, d.Request("INVITE", 1, "", testpcap.SDP(d.CallerRTP)), 200))
	ok := testpcap.IPv4Fragments(d.Callee, d.Caller, 7002, d.Response(200, "OK", "INVITE", 1, "tf", testpcap.SDP(d.CalleeRTP)), 200)
	add(append(ok[len(ok)-1:], ok[:len(ok)-1]...))
	tl.Add(testpcap.UDP(d.Caller, d.Callee, d.Request("ACK", 1, "tf", "")), 10*ms)
	add(testpcap.IPv4Fragments(d.CallerRTP, d.CalleeRTP, 7003, testpcap.RTP(0, 0, 0xf1), 96))
	add(testpcap.IPv4Fragments(d.CalleeRTP, d.CallerRTP, 7004, testpcap.RTP(0, 0, 0xf2), 96))
	for i := 1; i < 10; i++ {
		tl.Add(testpcap.UDP(d.CallerRTP, d.CalleeRTP, testpcap.RTP(uint16(i), uint32(i*160), 0xf1)), 0)
		tl.Add(testpcap.UDP(d.CalleeRTP, d.CallerRTP, testpcap.RTP(uint16(i), uint32(i*160), 0xf2)), 20*ms)
	}
	tl.Add(testpcap.UDP(d.Caller, d.Callee, d.Request("BYE", 2, "tf", "")), 10*ms)
	tl.Add(testpcap.UDP(d.Callee, d.Caller, d.Response(200, "OK", "BYE", 2, "tf", "")), 0)
	return tl.Pkts
}

// TestSIPCallID checks the Call-ID parser the re-decode check reads SIP
// with.
func TestSIPCallID(t *testing.T) {
	tests := []struct {
		name string
		msg  string
		id   string
		ok   bool
	}{
		{"request", "INVITE sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nCall-ID: abc@h\r\n\r\n", "abc@h", true},
		{"response", "SIP/2.0 200 OK\r\nCall-ID: abc@h\r\nContent-Length: 0\r\n\r\n", "abc@h", true},
		{"compact", "BYE sip:b@h SIP/2.0\r\ni: x1\r\n\r\n", "x1", true},
		{"case and space", "ACK sip:b@h SIP/2.0\r\ncall-id :  x2 \r\n\r\n", "x2", true},
		{"folded", "ACK sip:b@h SIP/2.0\r\nCall-ID:\r\n x3\r\n\r\n", "x3", true},
		{"bare LF", "ACK sip:b@h SIP/2.0\nI: x4\n\n", "x4", true},
		{"first of two", "ACK sip:b@h SIP/2.0\r\nCall-ID: x5\r\nCall-ID: x6\r\n\r\n", "x5", true},
		{"in the body only", "ACK sip:b@h SIP/2.0\r\nContent-Length: 12\r\n\r\nCall-ID: x7\r\n", "", false},
		{"not SIP", "GET / HTTP/1.1\r\nCall-ID: x8\r\n\r\n", "", false},
		{"no Call-ID", "OPTIONS sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n\r\n", "", false},
		{"Call-Info is not Call-ID", "SIP/2.0 180 Ringing\r\nCall-Info: <x9>\r\n\r\n", "", false},
		{"empty", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, ok := sipCallID([]byte(tt.msg))
			if id != tt.id || ok != tt.ok {
				t.Errorf("sipCallID(%q) = %q, %v; want %q, %v", tt.msg, id, ok, tt.id, tt.ok)
			}
		})
	}
	stream := "ll-ID: cut\r\nSIP/2.0 100 Trying\r\ni: a1\r\n\r\nBYE sip:b@h SIP/2.0\r\nCall-ID: a2\r\n"
	if got := headerCallIDs([]byte(stream)); !slices.Equal(got, []string{"a1", "a2"}) {
		t.Errorf("headerCallIDs = %q, want [a1 a2]", got)
	}
}
