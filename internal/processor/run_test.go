package processor

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/lc-voip/lc/internal/capture"
	"github.com/lc-voip/lc/internal/testpcap"
)

// gatedSource hands out its packets, stopping before packet at until gate
// is closed, and then ends with end.
type gatedSource struct {
	pkts []capture.Packet
	at   int
	gate chan struct{}
	end  error
	read int
}

func (s *gatedSource) Next() (capture.Packet, error) {
	if s.read == s.at {
		<-s.gate
	}
	if s.read == len(s.pkts) {
		return capture.Packet{}, s.end
	}
	s.read++
	return s.pkts[s.read-1], nil
}

// optionsTraffic is n OPTIONS requests, 10 ms apart, as capture packets.
func optionsTraffic(n int) []capture.Packet {
	o := testpcap.NewDialog(1)
	tl := &testpcap.Timeline{Now: t0}
	for i := range n {
		tl.Add(testpcap.UDP(o.Caller, o.Callee, o.Request("OPTIONS", i+1, "", "")), 10*ms)
	}
	pkts := make([]capture.Packet, n)
	for i, p := range tl.Pkts {
		pkts[i] = capture.Packet{Data: p.Data, LinkType: uint16(layers.LinkTypeEthernet), Frame: i + 1,
			Info: gopacket.CaptureInfo{Timestamp: p.Time, CaptureLength: len(p.Data), Length: len(p.Data)}}
	}
	return pkts
}

// TestRunDoesNotHoldPackets: while the source waits (a quiet pipe), every
// packet it handed out before is processed; the source's error ends Run
// after the packets before it.
func TestRunDoesNotHoldPackets(t *testing.T) {
	r := startRun(t, t.TempDir(), nil)
	src := &gatedSource{pkts: optionsTraffic(10), at: 7, gate: make(chan struct{}), end: errors.New("capture broken")}
	done := make(chan error, 1)
	go func() { done <- r.p.Run(context.Background(), src) }()
	deadline := time.Now().Add(10 * time.Second)
	for r.p.Counters().Packets.Load() != 7 {
		if time.Now().After(deadline) {
			t.Fatalf("%d packets processed while the source waits after 7", r.p.Counters().Packets.Load())
		}
		time.Sleep(time.Millisecond)
	}
	close(src.gate)
	if err := <-done; err == nil || err.Error() != "capture broken" {
		t.Fatalf("Run = %v, want the source's error", err)
	}
	if st := r.close(); st.Packets != 10 {
		t.Errorf("%d packets processed, want 10", st.Packets)
	}
}

// TestRunStopsAfterWhatWasRead: when ctx is done, Run stops reading and
// processes every packet read before it returns ctx's error, so that
// what was read and what was processed agree.
func TestRunStopsAfterWhatWasRead(t *testing.T) {
	r := startRun(t, t.TempDir(), nil)
	src := &gatedSource{pkts: optionsTraffic(3*readAhead + 1500), at: 1500, gate: make(chan struct{}), end: io.EOF}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.p.Run(ctx, src) }()
	for r.p.Counters().Packets.Load() < 1500 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	close(src.gate)
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v, want context.Canceled", err)
	}
	if st := r.close(); st.Packets != int64(src.read) || src.read == len(src.pkts) {
		t.Errorf("%d packets read, %d processed; want the same, and reading stopped early", src.read, st.Packets)
	}
}
