package processor

import (
	"testing"
	"time"

	"github.com/lc-voip/lc/internal/event"
	"github.com/lc-voip/lc/internal/testenv"
	"github.com/lc-voip/lc/internal/testpcap"
)

// TestManyConcurrentCalls opens 2,000 calls at once with an open-file
// limit of 32: every call must still get complete files. The same at the
// scale of a busy trunk, 20,000 calls with the default limit, is
// TestManyConcurrentCallsAtScale.
func TestManyConcurrentCalls(t *testing.T) {
	manyConcurrentCalls(t, 2000, func(c *Config) { c.MaxOpenFiles = 32 })
}

// TestManyConcurrentCallsAtScale opens 20,000 calls at once with the
// default open-file limit; it writes 40,000 files: long suite.
func TestManyConcurrentCallsAtScale(t *testing.T) {
	testenv.Long(t)
	manyConcurrentCalls(t, 20000, nil)
}

// manyConcurrentCalls opens n calls, each with an RTP packet, before
// ending any, with the configuration tune makes.
func manyConcurrentCalls(t *testing.T, n int, tune func(*Config)) {
	tl := &testpcap.Timeline{Now: t0}
	dialogs := make([]testpcap.Dialog, n)
	for i := range dialogs {
		d := testpcap.NewDialog(i)
		dialogs[i] = d
		tl.Add(testpcap.UDP(d.Caller, d.Callee, d.Request("INVITE", 1, "", testpcap.SDP(d.CallerRTP))), 0)
		tl.Add(testpcap.UDP(d.Callee, d.Caller, d.Response(200, "OK", "INVITE", 1, "t", testpcap.SDP(d.CalleeRTP))), 0)
	}
	for _, d := range dialogs {
		tl.Add(testpcap.UDP(d.CallerRTP, d.CalleeRTP, testpcap.RTP(1, 160, 1)), 0)
	}
	tl.Now = tl.Now.Add(time.Second)
	for _, d := range dialogs {
		tl.Add(testpcap.UDP(d.Caller, d.Callee, d.Request("BYE", 2, "t", "")), 0)
	}
	out := t.TempDir()
	events, st := runPackets(t, out, tl.Pkts, tune)
	checkAccounting(t, out, tl.Pkts, st)
	if st.Calls[event.StateCompleted] != int64(n) || st.Peak != int64(n) {
		t.Fatalf("completed %d calls with %d open at most, want %d and %d", st.Calls[event.StateCompleted], st.Peak, n, n)
	}
	var sip, rtp int
	for _, e := range events {
		if fc, ok := e.(event.FileClosed); ok {
			switch {
			case fc.Kind == event.KindSIP && fc.Packets == 3:
				sip++
			case fc.Kind == event.KindRTP && fc.Packets == 1:
				rtp++
			default:
				t.Fatalf("unexpected file %+v", fc)
			}
		}
	}
	if sip != n || rtp != n {
		t.Fatalf("%d SIP and %d RTP files, want %d each", sip, rtp, n)
	}
	if st.Evicted == 0 {
		t.Fatal("the open-file limit was never reached")
	}
}
