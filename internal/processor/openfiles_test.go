package processor

import (
	"testing"
	"time"

	"github.com/lc-voip/lc/internal/testpcap"
)

// TestManyConcurrentCalls opens 20,000 calls at once with the default
// open-file limit: every call must still get complete files.
func TestManyConcurrentCalls(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 40,000 files")
	}
	const n = 20000
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
	events, st := runPackets(t, out, tl.Pkts, nil)
	checkAccounting(t, out, tl.Pkts, st)
	if st.Calls[StateCompleted] != n || st.Peak != n {
		t.Fatalf("completed %d calls with %d open at most, want %d and %d", st.Calls[StateCompleted], st.Peak, n, n)
	}
	var sip, rtp int
	for _, e := range events {
		if fc, ok := e.(FileClosed); ok {
			switch {
			case fc.Kind == KindSIP && fc.Packets == 3:
				sip++
			case fc.Kind == KindRTP && fc.Packets == 1:
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
