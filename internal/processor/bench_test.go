package processor

import (
	"flag"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/lc-voip/lc/internal/capture"
	"github.com/lc-voip/lc/internal/event"
	"github.com/lc-voip/lc/internal/testpcap"
)

var benchCapture = flag.String("bench-capture", "", "write the benchmark capture (1,000 calls, ~1M packets) to this path and stop")

// The benchmark load: 1,000 calls of 10 s each (500 RTP packets each way),
// one starting every 100 ms: about 100 calls open at once, 1,007,000 packets.
const (
	benchCalls = 1000
	benchRTP   = 500
	benchGap   = 100 * time.Millisecond
)

var benchLoad = sync.OnceValue(func() []*capture.Packet {
	tp := testpcap.Calls(benchCalls, benchRTP, t0, benchGap)
	pkts := make([]*capture.Packet, len(tp))
	for i, p := range tp {
		pkts[i] = &capture.Packet{
			Data:     p.Data,
			Info:     gopacket.CaptureInfo{Timestamp: p.Time, CaptureLength: len(p.Data), Length: len(p.Data)},
			LinkType: uint16(layers.LinkTypeEthernet),
			Frame:    i + 1,
		}
	}
	return pkts
})

// TestWriteBenchCapture writes the benchmark load as a pcap file when
// -bench-capture is given, for whole-program timing against tcpdump.
func TestWriteBenchCapture(t *testing.T) {
	if *benchCapture == "" {
		t.Skip("no -bench-capture path given")
	}
	testpcap.WriteFile(t, *benchCapture, testpcap.Calls(benchCalls, benchRTP, t0, benchGap))
}

// BenchmarkProcess runs the whole processor, files included, over the
// benchmark load. peak-heap-MiB is the most heap the processor held above
// the preloaded packets, sampled every 64Ki packets.
func BenchmarkProcess(b *testing.B) {
	pkts := benchLoad()
	var bytes int64
	for _, p := range pkts {
		bytes += int64(len(p.Data))
	}
	b.SetBytes(bytes)
	b.ReportAllocs()
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	base, peak := ms.HeapAlloc, uint64(0)
	var calls int64
	for b.Loop() {
		cfg := DefaultConfig()
		cfg.OutputDir = b.TempDir()
		p, err := New(cfg)
		if err != nil {
			b.Fatal(err)
		}
		for i, pkt := range pkts {
			if err := p.Packet(pkt); err != nil {
				b.Fatal(err)
			}
			if i%(64<<10) == 0 {
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapAlloc-min(base, ms.HeapAlloc))
			}
		}
		if err := p.Close(); err != nil {
			b.Fatal(err)
		}
		calls = p.Stats().Calls[event.StateCompleted]
	}
	if calls != benchCalls {
		b.Fatalf("%d calls completed, want %d", calls, benchCalls)
	}
	b.ReportMetric(float64(len(pkts))*float64(b.N)/b.Elapsed().Seconds(), "pkts/s")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
}
