package processor

import (
	"net/netip"
	"strings"
	"time"

	"github.com/lc-voip/lc/internal/testpcap"
)

// scenario is a synthetic capture and the configuration to run it with.
type scenario struct {
	name  string
	build func(t *testpcap.Timeline)
	cfg   func(*Config)
}

var t0 = time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)

const ms = time.Millisecond

// scenarios cover the call lifecycle and the file rules of DESIGN.md.
var scenarios = []scenario{
	{name: "basic", build: func(t *testpcap.Timeline) { t.BasicCall(testpcap.NewDialog(1), 10) }},
	{name: "failed", build: func(t *testpcap.Timeline) {
		d := testpcap.NewDialog(2)
		t.Add(testpcap.UDP(d.Caller, d.Callee, d.Request("INVITE", 1, "", testpcap.SDP(d.CallerRTP))), 10*ms)
		t.Add(testpcap.UDP(d.Callee, d.Caller, d.Response(100, "Trying", "INVITE", 1, "", "")), 10*ms)
		t.Add(testpcap.UDP(d.Callee, d.Caller, d.Response(486, "Busy Here", "INVITE", 1, "t2", "")), 10*ms)
		t.Add(testpcap.UDP(d.Caller, d.Callee, d.Request("ACK", 1, "t2", "")), 10*ms)
	}},
	{name: "cancelled", build: func(t *testpcap.Timeline) {
		d := testpcap.NewDialog(3)
		t.Add(testpcap.UDP(d.Caller, d.Callee, d.Request("INVITE", 1, "", testpcap.SDP(d.CallerRTP))), 10*ms)
		t.Add(testpcap.UDP(d.Callee, d.Caller, d.Response(180, "Ringing", "INVITE", 1, "t3", "")), time.Second)
		t.Add(testpcap.UDP(d.Caller, d.Callee, d.Request("CANCEL", 1, "", "")), 10*ms)
		t.Add(testpcap.UDP(d.Callee, d.Caller, d.Response(200, "OK", "CANCEL", 1, "t3", "")), 10*ms)
		t.Add(testpcap.UDP(d.Callee, d.Caller, d.Response(487, "Request Terminated", "INVITE", 1, "t3", "")), 10*ms)
		t.Add(testpcap.UDP(d.Caller, d.Callee, d.Request("ACK", 1, "t3", "")), 10*ms)
	}},
	{name: "auth-retry", build: func(t *testpcap.Timeline) {
		d := testpcap.NewDialog(4)
		t.Add(testpcap.UDP(d.Caller, d.Callee, d.Request("INVITE", 1, "", testpcap.SDP(d.CallerRTP))), 10*ms)
		t.Add(testpcap.UDP(d.Callee, d.Caller, d.Response(407, "Proxy Authentication Required", "INVITE", 1, "t4", "")), 10*ms)
		t.Add(testpcap.UDP(d.Caller, d.Callee, d.Request("ACK", 1, "t4", "")), 10*ms)
		t.Add(testpcap.UDP(d.Caller, d.Callee, d.Request("INVITE", 2, "", testpcap.SDP(d.CallerRTP))), 10*ms)
		t.Add(testpcap.UDP(d.Callee, d.Caller, d.Response(200, "OK", "INVITE", 2, "t5", testpcap.SDP(d.CalleeRTP))), 10*ms)
		t.Add(testpcap.UDP(d.Caller, d.Callee, d.Request("ACK", 2, "t5", "")), 10*ms)
		t.Add(testpcap.UDP(d.CallerRTP, d.CalleeRTP, testpcap.RTP(1, 160, 7)), 20*ms)
		t.Add(testpcap.UDP(d.Callee, d.Caller, d.Request("BYE", 3, "t5", "")), 10*ms)
		t.Add(testpcap.UDP(d.Caller, d.Callee, d.Response(200, "OK", "BYE", 3, "t5", "")), 10*ms)
	}},
	{name: "auth-abandoned", build: func(t *testpcap.Timeline) {
		d := testpcap.NewDialog(5)
		t.Add(testpcap.UDP(d.Caller, d.Callee, d.Request("INVITE", 1, "", "")), 10*ms)
		t.Add(testpcap.UDP(d.Callee, d.Caller, d.Response(401, "Unauthorized", "INVITE", 1, "t6", "")), 10*ms)
		t.Add(testpcap.UDP(d.Caller, d.Callee, d.Request("ACK", 1, "t6", "")), 40*time.Second)
		o := testpcap.NewDialog(6)
		t.Add(testpcap.UDP(o.Caller, o.Callee, o.Request("OPTIONS", 1, "", "")), 0)
	}},
	{name: "idle-and-shutdown", build: func(t *testpcap.Timeline) {
		idle, open := testpcap.NewDialog(7), testpcap.NewDialog(8)
		for _, d := range []testpcap.Dialog{idle, open} {
			t.Add(testpcap.UDP(d.Caller, d.Callee, d.Request("INVITE", 1, "", testpcap.SDP(d.CallerRTP))), 10*ms)
			t.Add(testpcap.UDP(d.Callee, d.Caller, d.Response(200, "OK", "INVITE", 1, "tt", testpcap.SDP(d.CalleeRTP))), 10*ms)
			t.Add(testpcap.UDP(d.Caller, d.Callee, d.Request("ACK", 1, "tt", "")), 10*ms)
		}
		for i := range 100 { // only the second call keeps talking, for 6 minutes
			t.Add(testpcap.UDP(open.CallerRTP, open.CalleeRTP, testpcap.RTP(uint16(i), 0, 9)), 4*time.Second)
		}
	}},
	{name: "mid-call-start", build: func(t *testpcap.Timeline) {
		d := testpcap.NewDialog(9)
		t.Add(testpcap.UDP(d.Caller, d.Callee, d.Request("BYE", 5, "tag9", "")), 10*ms)
		t.Add(testpcap.UDP(d.Callee, d.Caller, d.Response(200, "OK", "BYE", 5, "tag9", "")), 10*ms)
	}},
	{name: "early-media-and-reinvite", build: func(t *testpcap.Timeline) {
		d := testpcap.NewDialog(10)
		moved := netip.AddrPortFrom(d.CalleeRTP.Addr(), 40000)
		t.Add(testpcap.UDP(d.Caller, d.Callee, d.Request("INVITE", 1, "", testpcap.SDP(d.CallerRTP))), 10*ms)
		t.Add(testpcap.UDP(d.Callee, d.Caller, d.Response(183, "Session Progress", "INVITE", 1, "t10", testpcap.SDP(d.CalleeRTP))), 10*ms)
		t.Add(testpcap.UDP(d.CalleeRTP, d.CallerRTP, testpcap.RTP(1, 160, 1)), 20*ms)
		t.Add(testpcap.UDP(d.Callee, d.Caller, d.Response(200, "OK", "INVITE", 1, "t10", testpcap.SDP(d.CalleeRTP))), 10*ms)
		t.Add(testpcap.UDP(d.Caller, d.Callee, d.Request("ACK", 1, "t10", "")), 10*ms)
		t.Add(testpcap.UDP(d.Caller, d.Callee, d.Request("INVITE", 2, "t10", testpcap.SDP(d.CallerRTP))), 10*ms)
		t.Add(testpcap.UDP(d.Callee, d.Caller, d.Response(200, "OK", "INVITE", 2, "t10", testpcap.SDP(moved))), 10*ms)
		t.Add(testpcap.UDP(moved, d.CallerRTP, testpcap.RTP(2, 320, 1)), 20*ms)
		t.Add(testpcap.UDP(d.Caller, d.Callee, d.Request("BYE", 3, "t10", "")), 10*ms)
	}},
	{name: "non-call-sip", build: func(t *testpcap.Timeline) {
		d := testpcap.NewDialog(11)
		t.Add(testpcap.UDP(d.Caller, d.Callee, d.Request("REGISTER", 1, "", "")), 10*ms)
		t.Add(testpcap.UDP(d.Callee, d.Caller, d.Response(200, "OK", "REGISTER", 1, "r", "")), 10*ms)
		t.Add(testpcap.UDP(d.Caller, d.Callee, d.Request("OPTIONS", 2, "", "")), 10*ms)
		t.Add(testpcap.UDP(d.Caller, d.Callee, []byte("INVITE sip:x SIP/2.0\r\nVia: nothing\r\n\r\n")), 10*ms) // no Call-ID
		t.Add(testpcap.UDP(d.Caller, d.Callee, []byte("\x00\x01junk on a SIP port")), 10*ms)
	}},
	{name: "tcp", build: func(t *testpcap.Timeline) {
		a, b := testpcap.NewDialog(12), testpcap.NewDialog(13)
		b.Caller, b.Callee = a.Caller, a.Callee // one connection, two calls
		inv := a.Request("INVITE", 1, "", testpcap.SDP(a.CallerRTP))
		two := append(a.Request("ACK", 1, "ta", ""), b.Request("INVITE", 1, "", testpcap.SDP(b.CallerRTP))...)
		seq := uint32(1000)
		seg := func(p []byte) {
			t.Add(testpcap.TCP(a.Caller, a.Callee, seq, 1, "PA", p), 5*ms)
			seq += uint32(len(p))
		}
		t.Add(testpcap.TCP(a.Caller, a.Callee, seq-1, 0, "S", nil), 5*ms)
		seg(inv[:100]) // the INVITE split over two segments
		seg(inv[100:])
		t.Add(testpcap.TCP(a.Callee, a.Caller, 1, seq, "PA", a.Response(200, "OK", "INVITE", 1, "ta", testpcap.SDP(a.CalleeRTP))), 5*ms)
		seg(two) // the ACK of one call and the INVITE of another
		seg(a.Request("BYE", 2, "ta", ""))
		t.Add(testpcap.UDP(b.Callee, b.Caller, b.Response(486, "Busy Here", "INVITE", 1, "tb", "")), 5*ms)
	}},
	{name: "fragmented-invite", build: func(t *testpcap.Timeline) {
		d := testpcap.NewDialog(14)
		sdp := testpcap.SDP(d.CallerRTP) + "a=x-padding:" + strings.Repeat("p", 2000) + "\r\n"
		for _, f := range testpcap.IPv4Fragments(d.Caller, d.Callee, 77, d.Request("INVITE", 1, "", sdp), 1480) {
			t.Add(f, ms)
		}
		t.Add(testpcap.UDP(d.Callee, d.Caller, d.Response(603, "Decline", "INVITE", 1, "t14", "")), ms)
	}},
	{name: "hostile-call-id", build: func(t *testpcap.Timeline) {
		for i, id := range []string{"../../etc/passwd", ".hidden", "a;rm -rf /;$(x)`y`", strings.Repeat("L", 300)} {
			d := testpcap.NewDialog(20 + i)
			d.CallID = id
			t.Add(testpcap.UDP(d.Caller, d.Callee, d.Request("INVITE", 1, "", "")), ms)
			t.Add(testpcap.UDP(d.Callee, d.Caller, d.Response(404, "Not Found", "INVITE", 1, "x", "")), ms)
		}
	}},
	{name: "rotation", build: func(t *testpcap.Timeline) {
		d := testpcap.NewDialog(30)
		t.BasicCall(d, 400) // ~140 KB of RTP: three parts of 64 KiB
		o := testpcap.NewDialog(31)
		for range 3 { // other traffic, then silence longer than the idle timeout
			t.Add(testpcap.UDP(o.Caller, o.Callee, o.Request("OPTIONS", 1, "", "")), time.Minute)
		}
	}, cfg: func(c *Config) {
		c.PerCallMaxSize = 64 << 10
		c.RotateIdle = 30 * time.Second
	}},
	{name: "forked-early-dialogs", build: func(t *testpcap.Timeline) {
		d := testpcap.NewDialog(40)
		legA := netip.AddrPortFrom(d.CalleeRTP.Addr(), 41000)
		legB := netip.AddrPortFrom(d.CalleeRTP.Addr(), 42000)
		t.Add(testpcap.UDP(d.Caller, d.Callee, d.Request("INVITE", 1, "", testpcap.SDP(d.CallerRTP))), 10*ms)
		t.Add(testpcap.UDP(d.Callee, d.Caller, d.Response(183, "Session Progress", "INVITE", 1, "leg-a", testpcap.SDP(legA))), 10*ms)
		t.Add(testpcap.UDP(d.Callee, d.Caller, d.Response(183, "Session Progress", "INVITE", 1, "leg-b", testpcap.SDP(legB))), 10*ms)
		t.Add(testpcap.UDP(legA, d.CallerRTP, testpcap.RTP(1, 160, 0xa)), 10*ms)
		t.Add(testpcap.UDP(legB, d.CallerRTP, testpcap.RTP(1, 160, 0xb)), 10*ms)
		t.Add(testpcap.UDP(d.Callee, d.Caller, d.Response(200, "OK", "INVITE", 1, "leg-b", testpcap.SDP(legB))), 10*ms)
		t.Add(testpcap.UDP(d.Caller, d.Callee, d.Request("ACK", 1, "leg-b", "")), 10*ms)
		t.Add(testpcap.UDP(d.Callee, d.Caller, d.Request("BYE", 2, "leg-b", "")), 10*ms)
	}},
	{name: "ipv6", build: func(t *testpcap.Timeline) {
		d := testpcap.NewDialog(41)
		v6 := func(ap netip.AddrPort, host byte) netip.AddrPort {
			return netip.AddrPortFrom(netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 15: host}), ap.Port())
		}
		d.Caller, d.CallerRTP = v6(d.Caller, 1), v6(d.CallerRTP, 1)
		d.Callee, d.CalleeRTP = v6(d.Callee, 2), v6(d.CalleeRTP, 2)
		t.BasicCall(d, 2)
	}},
	{name: "max-duration", build: func(t *testpcap.Timeline) {
		t.BasicCall(testpcap.NewDialog(42), 100) // 2 s of RTP
	}, cfg: func(c *Config) { c.MaxCallDuration = time.Second }},
	{name: "odd-timestamps", build: func(t *testpcap.Timeline) {
		d := testpcap.NewDialog(43)
		t.Add(testpcap.UDP(d.Caller, d.Callee, d.Request("INVITE", 1, "", "")), 10*ms)
		t.Now = t.Now.Add(-5 * time.Second) // a packet from the past
		t.Add(testpcap.UDP(d.Callee, d.Caller, d.Response(100, "Trying", "INVITE", 1, "", "")), 5*time.Second)
		now := t.Now
		t.Now = time.Unix(3, 0) // a timestamp no capture of a call can have
		t.Add(testpcap.UDP(d.Callee, d.Caller, d.Response(180, "Ringing", "INVITE", 1, "t", "")), 0)
		t.Now = now.Add(20 * ms)
		t.Add(testpcap.UDP(d.Callee, d.Caller, d.Response(480, "Temporarily Unavailable", "INVITE", 1, "t", "")), 0)
	}},
	// One packet a year ahead, in the middle of a call's RTP, and one a
	// year behind: counted, written, processed as of the clock; the calls
	// around them are untouched.
	{name: "stray-future", build: func(t *testpcap.Timeline) {
		d := testpcap.NewDialog(44)
		t.Add(testpcap.UDP(d.Caller, d.Callee, d.Request("INVITE", 1, "", testpcap.SDP(d.CallerRTP))), 10*ms)
		t.Add(testpcap.UDP(d.Callee, d.Caller, d.Response(200, "OK", "INVITE", 1, "t", testpcap.SDP(d.CalleeRTP))), 10*ms)
		t.Add(testpcap.UDP(d.CallerRTP, d.CalleeRTP, testpcap.RTP(1, 160, 7)), 20*ms)
		strayAt(t, 365*24*time.Hour, testpcap.UDP(d.CallerRTP, d.CalleeRTP, testpcap.RTP(2, 320, 7)))
		t.Add(testpcap.UDP(d.CallerRTP, d.CalleeRTP, testpcap.RTP(3, 480, 7)), 20*ms)
		t.Add(testpcap.UDP(d.Caller, d.Callee, d.Request("BYE", 2, "t", "")), 10*ms)
		t.Add(testpcap.UDP(d.Callee, d.Caller, d.Response(200, "OK", "BYE", 2, "t", "")), 10*ms)
		t.BasicCall(testpcap.NewDialog(45), 2)
	}},
	{name: "stray-past", build: func(t *testpcap.Timeline) {
		t.BasicCall(testpcap.NewDialog(46), 2)
		o := testpcap.NewDialog(47)
		strayAt(t, -365*24*time.Hour, testpcap.UDP(o.Caller, o.Callee, o.Request("INVITE", 1, "", "")))
		t.BasicCall(testpcap.NewDialog(48), 2)
	}},
	// The capture resumes three days later: the call left open ends by
	// its idle timeout at the jump, and the next call is filed at its own
	// time.
	{name: "clock-resumes", build: func(t *testpcap.Timeline) {
		d := testpcap.NewDialog(49)
		t.Add(testpcap.UDP(d.Caller, d.Callee, d.Request("INVITE", 1, "", "")), 10*ms)
		t.Add(testpcap.UDP(d.Callee, d.Caller, d.Response(200, "OK", "INVITE", 1, "t", "")), 10*ms)
		t.Now = t.Now.Add(72 * time.Hour)
		t.BasicCall(testpcap.NewDialog(50), 5)
	}},
	// A stray packet a year ahead among other traffic: the other files
	// still rotate by age and close when idle on the clock's time.
	{name: "stray-other", build: func(t *testpcap.Timeline) {
		o := testpcap.NewDialog(53)
		for i := range 10 {
			if i == 3 {
				strayAt(t, 365*24*time.Hour, testpcap.UDP(o.Caller, o.Callee, o.Request("OPTIONS", i, "", "")))
			}
			t.Add(testpcap.UDP(o.Caller, o.Callee, o.Request("OPTIONS", i, "", "")), 500*ms)
		}
		t.Now = t.Now.Add(3 * time.Second)
		t.Add(testpcap.UDP(o.Caller, o.Callee, o.Request("OPTIONS", 99, "", "")), 0)
	}, cfg: func(c *Config) { c.RotateMaxAge, c.RotateIdle = 2*time.Second, 2*time.Second }},
	// A call ends (408 to the INVITE), and its CANCEL is retransmitted
	// for 30 s past the grace period: one call, the late CANCELs in other.
	// One more, after the remembered window, starts a partial call.
	{name: "late-retransmissions", build: func(t *testpcap.Timeline) {
		d := testpcap.NewDialog(54)
		t.Add(testpcap.UDP(d.Caller, d.Callee, d.Request("INVITE", 1, "", "")), 10*ms)
		t.Add(testpcap.UDP(d.Callee, d.Caller, d.Response(408, "Request Timeout", "INVITE", 1, "t", "")), 10*time.Second)
		for range 4 {
			t.Add(testpcap.UDP(d.Caller, d.Callee, d.Request("CANCEL", 1, "", "")), 8*time.Second)
		}
		t.Now = t.Now.Add(10 * time.Second)
		t.Add(testpcap.UDP(d.Caller, d.Callee, d.Request("CANCEL", 1, "", "")), 0)
	}},
	// Credentials sent after the auth wait: a new INVITE transaction (a
	// higher CSeq) under an ended Call-ID is a new call, which says whose
	// follow-up it is; the late ACK of the first goes to other.
	{name: "invite-after-auth-wait", build: func(t *testpcap.Timeline) {
		d := testpcap.NewDialog(55)
		t.Add(testpcap.UDP(d.Caller, d.Callee, d.Request("INVITE", 1, "", "")), 10*ms)
		t.Add(testpcap.UDP(d.Callee, d.Caller, d.Response(407, "Proxy Authentication Required", "INVITE", 1, "t1", "")), 40*time.Second)
		t.Add(testpcap.UDP(d.Caller, d.Callee, d.Request("ACK", 1, "t1", "")), 10*ms)
		t.Add(testpcap.UDP(d.Caller, d.Callee, d.Request("INVITE", 2, "", "")), 10*ms)
		t.Add(testpcap.UDP(d.Callee, d.Caller, d.Response(200, "OK", "INVITE", 2, "t2", "")), 10*ms)
		t.Add(testpcap.UDP(d.Caller, d.Callee, d.Request("BYE", 3, "t2", "")), 10*ms)
	}},
	// With room for one call, a second that starts while the first is
	// open is not followed: its packets go to the other files.
	{name: "call-limit", build: func(t *testpcap.Timeline) {
		a, b := testpcap.NewDialog(51), testpcap.NewDialog(52)
		t.Add(testpcap.UDP(a.Caller, a.Callee, a.Request("INVITE", 1, "", testpcap.SDP(a.CallerRTP))), 10*ms)
		t.Add(testpcap.UDP(b.Caller, b.Callee, b.Request("INVITE", 1, "", testpcap.SDP(b.CallerRTP))), 10*ms)
		t.Add(testpcap.UDP(a.Callee, a.Caller, a.Response(200, "OK", "INVITE", 1, "ta", testpcap.SDP(a.CalleeRTP))), 10*ms)
		t.Add(testpcap.UDP(b.Callee, b.Caller, b.Response(200, "OK", "INVITE", 1, "tb", testpcap.SDP(b.CalleeRTP))), 10*ms)
		t.Add(testpcap.UDP(a.Caller, a.Callee, a.Request("BYE", 2, "ta", "")), 10*ms)
		t.Add(testpcap.UDP(b.Caller, b.Callee, b.Request("BYE", 2, "tb", "")), 10*ms)
	}, cfg: func(c *Config) { c.MaxCalls = 1 }},
}

// strayAt adds data at off from the timeline's time, which does not move.
func strayAt(t *testpcap.Timeline, off time.Duration, data []byte) {
	now := t.Now
	t.Now = now.Add(off)
	t.Add(data, 0)
	t.Now = now
}
