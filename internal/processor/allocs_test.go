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
	const n = 2000
	pkts := make([]capture.Packet, n)
	at := tl.Now
	for i := range pkts {
		data := testpcap.UDP(d.CallerRTP, d.CalleeRTP, testpcap.RTP(uint16(i), uint32(i*160), 0x1111))
		pkts[i] = capture.Packet{Data: data, LinkType: uint16(layers.LinkTypeEthernet), Frame: 10 + i,
			Info: gopacket.CaptureInfo{Timestamp: at, CaptureLength: len(data), Length: len(data)}}
		at = at.Add(20 * time.Millisecond)
	}
	for i := range 100 { // warm up: buffers grow to their size
		if err := r.p.Packet(&pkts[i]); err != nil {
			t.Fatal(err)
		}
	}
	i := 100
	allocs := testing.AllocsPerRun(1000, func() {
		if err := r.p.Packet(&pkts[i]); err != nil {
			t.Fatal(err)
		}
		i++
	})
	if allocs != 0 {
		t.Errorf("%.2f allocations per RTP packet, want 0", allocs)
	}
}
