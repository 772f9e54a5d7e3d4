package processor

import (
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/lc-voip/lc/internal/capture"
	"github.com/lc-voip/lc/internal/testpcap"
)

// TestRTPPathAllocs: once a call is set up, an RTP packet of it is
// matched and written without an allocation.
func TestRTPPathAllocs(t *testing.T) {
	r := startRun(t, t.TempDir(), nil)
	d := testpcap.NewDialog(1)
	tl := &testpcap.Timeline{Now: t0}
	tl.Add(testpcap.UDP(d.Caller, d.Callee, d.Request("INVITE", 1, "", testpcap.SDP(d.CallerRTP))), 10*ms)
	tl.Add(testpcap.UDP(d.Callee, d.Caller, d.Response(200, "OK", "INVITE", 1, "t1", testpcap.SDP(d.CalleeRTP))), 10*ms)
	tl.Add(testpcap.UDP(d.Caller, d.Callee, d.Request("ACK", 1, "t1", "")), 10*ms)
	r.feed(tl.Pkts...)
	allocs := allocsPerPacket(t, r, tl.Now, 20*time.Millisecond, func(i int) []byte {
		return testpcap.UDP(d.CallerRTP, d.CalleeRTP, testpcap.RTP(uint16(i), uint32(i*160), 0x1111))
	})
	if allocs != 0 {
		t.Errorf("%.2f allocations per RTP packet, want 0", allocs)
	}
}

// allocsPerPacket feeds r 1,100 packets made by data, step apart from
// start, and returns the allocations per packet of the last 1,000: the
// first 100 let buffers grow to their size.
func allocsPerPacket(t *testing.T, r *outputRun, start time.Time, step time.Duration, data func(i int) []byte) float64 {
	t.Helper()
	const n = 1100
	pkts := make([]capture.Packet, n)
	at := start
	for i := range pkts {
		b := data(i)
		pkts[i] = capture.Packet{Data: b, LinkType: uint16(layers.LinkTypeEthernet), Frame: 10 + i,
			Info: gopacket.CaptureInfo{Timestamp: at, CaptureLength: len(b), Length: len(b)}}
		at = at.Add(step)
	}
	for i := range 100 {
		if err := r.p.Packet(&pkts[i]); err != nil {
			t.Fatal(err)
		}
	}
	i := 100
	return testing.AllocsPerRun(n-i-1, func() {
		if err := r.p.Packet(&pkts[i]); err != nil {
			t.Fatal(err)
		}
		i++
	})
}

// TestSIPPathAllocs: once a call is set up, its in-dialog messages
// (retransmitted provisional and final answers, OPTIONS, a session refresh
// re-INVITE repeating the SDP already seen, ACK) are parsed, matched and
// written without an allocation.
func TestSIPPathAllocs(t *testing.T) {
	r := startRun(t, t.TempDir(), nil)
	d := testpcap.NewDialog(1)
	offer, answer := testpcap.SDP(d.CallerRTP), testpcap.SDP(d.CalleeRTP)
	tl := &testpcap.Timeline{Now: t0}
	tl.Add(testpcap.UDP(d.Caller, d.Callee, d.Request("INVITE", 1, "", offer)), 10*ms)
	tl.Add(testpcap.UDP(d.Callee, d.Caller, d.Response(200, "OK", "INVITE", 1, "t1", answer)), 10*ms)
	tl.Add(testpcap.UDP(d.Caller, d.Callee, d.Request("ACK", 1, "t1", "")), 10*ms)
	r.feed(tl.Pkts...)
	cycle := [][]byte{
		testpcap.UDP(d.Callee, d.Caller, d.Response(180, "Ringing", "INVITE", 1, "t1", "")),
		testpcap.UDP(d.Callee, d.Caller, d.Response(200, "OK", "INVITE", 1, "t1", "")),
		testpcap.UDP(d.Caller, d.Callee, d.Request("OPTIONS", 2, "t1", "")),
		testpcap.UDP(d.Callee, d.Caller, d.Response(200, "OK", "OPTIONS", 2, "t1", "")),
		testpcap.UDP(d.Caller, d.Callee, d.Request("INVITE", 3, "t1", offer)),
		testpcap.UDP(d.Callee, d.Caller, d.Response(200, "OK", "INVITE", 3, "t1", answer)),
		testpcap.UDP(d.Caller, d.Callee, d.Request("ACK", 3, "t1", "")),
	}
	allocs := allocsPerPacket(t, r, tl.Now, 50*time.Millisecond, func(i int) []byte { return cycle[i%len(cycle)] })
	if allocs != 0 {
		t.Errorf("%.2f allocations per in-dialog SIP packet, want 0", allocs)
	}
	if got := len(r.p.calls); got != 1 {
		t.Errorf("%d open calls, want 1", got)
	}
}

// TestRepeatedSDPTakesBackEndpoints: skipping an SDP body a call learned
// already (what keeps TestSIPPathAllocs at 0) must not change where an
// endpoint's packets go. The latest SDP that names an endpoint owns it, so
// a session refresh repeating an earlier offer takes the endpoint back from
// a later call that announced it, and from the call's own stream that a
// changed offer moved it to.
func TestRepeatedSDPTakesBackEndpoints(t *testing.T) {
	r := startRun(t, t.TempDir(), nil)
	a, b := testpcap.NewDialog(1), testpcap.NewDialog(2)
	offer := testpcap.SDP(a.CallerRTP)
	moved := offer + "a=rtcp:40000\r\n" // the same RTP endpoint in another stream
	tl := &testpcap.Timeline{Now: t0}
	tl.Add(testpcap.UDP(a.Caller, a.Callee, a.Request("INVITE", 1, "", offer)), 10*ms)
	tl.Add(testpcap.UDP(a.Callee, a.Caller, a.Response(200, "OK", "INVITE", 1, "t1", testpcap.SDP(a.CalleeRTP))), 10*ms)
	tl.Add(testpcap.UDP(a.Caller, a.Callee, a.Request("ACK", 1, "t1", "")), 10*ms)
	// A refresh: the call now knows its offer and answer.
	tl.Add(testpcap.UDP(a.Caller, a.Callee, a.Request("INVITE", 2, "t1", offer)), 10*ms)
	r.feed(tl.Pkts...)
	steps := []struct {
		name       string
		msg        []byte
		wantCall   string
		wantStream int
	}{
		{"second call announces the endpoint", testpcap.UDP(b.Caller, b.Callee, b.Request("INVITE", 1, "", offer)), b.CallID, 0},
		{"first call repeats its offer", testpcap.UDP(a.Caller, a.Callee, a.Request("INVITE", 3, "t1", offer)), a.CallID, 0},
		{"first call moves it to a new stream", testpcap.UDP(a.Caller, a.Callee, a.Request("INVITE", 4, "t1", moved)), a.CallID, 2},
		{"first call repeats its offer again", testpcap.UDP(a.Caller, a.Callee, a.Request("INVITE", 5, "t1", offer)), a.CallID, 0},
	}
	for _, st := range steps {
		tl.Pkts = nil
		tl.Add(st.msg, 10*ms)
		r.feed(tl.Pkts...)
		o, ok := r.p.media[endpointOf(a.CallerRTP)]
		if !ok {
			t.Fatalf("%s: no call owns %v", st.name, a.CallerRTP)
		}
		if o.c.id != st.wantCall || o.stream != st.wantStream {
			t.Fatalf("%s: %v belongs to %q stream %d, want %q stream %d", st.name, a.CallerRTP, o.c.id, o.stream, st.wantCall, st.wantStream)
		}
	}
}
