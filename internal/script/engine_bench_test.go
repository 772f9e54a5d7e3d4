package script

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/lc-voip/lc/internal/capture"
	"github.com/lc-voip/lc/internal/event"
	"github.com/lc-voip/lc/internal/processor"
	"github.com/lc-voip/lc/internal/script/runner"
	"github.com/lc-voip/lc/internal/script/template"
	"github.com/lc-voip/lc/internal/testpcap"
)

// latencyHook runs /bin/true for every event and records how long after
// Submit the child was running.
type latencyHook struct {
	runner    *runner.Runner
	mu        sync.Mutex
	submitted map[string]time.Time
	latencies []time.Duration
	done      chan struct{}
}

func (h *latencyHook) Name() string          { return "latency" }
func (h *latencyHook) Wants(event.Type) bool { return true }
func (h *latencyHook) Run(ctx context.Context, ev event.Event) error {
	h.mu.Lock()
	t0 := h.submitted[ev.(event.FileClosed).Path]
	h.mu.Unlock()
	wait := time.Since(t0)
	res := h.runner.Run(ctx, []string{"/bin/true"})
	h.mu.Lock()
	h.latencies = append(h.latencies, wait+res.StartDelay)
	h.mu.Unlock()
	h.done <- struct{}{}
	return res.Err
}

// BenchmarkEventToChild measures the time from Submit to the hook's child
// process running, through the queue and a worker, one event at a time.
func BenchmarkEventToChild(b *testing.B) {
	h := &latencyHook{runner: &runner.Runner{}, submitted: map[string]time.Time{}, done: make(chan struct{})}
	e := NewEngine(EngineConfig{Concurrency: DefaultConcurrency}, Set{Hooks: []Hook{h}})
	i := 0
	for b.Loop() {
		ev := event.FileClosed{Path: fmt.Sprint("/x/", i)}
		i++
		h.mu.Lock()
		h.submitted[ev.Path] = time.Now()
		h.mu.Unlock()
		e.Submit(ev)
		<-h.done
	}
	e.Close(b.Context())
	slices.Sort(h.latencies)
	pct := func(p float64) float64 {
		return float64(h.latencies[int(p*float64(len(h.latencies)-1))].Microseconds())
	}
	b.ReportMetric(pct(0.5), "p50-µs")
	b.ReportMetric(pct(0.99), "p99-µs")
}

// noopHook wants every event and does nothing.
type noopHook struct{}

func (noopHook) Name() string                           { return "noop" }
func (noopHook) Wants(event.Type) bool                  { return true }
func (noopHook) Run(context.Context, event.Event) error { return nil }

var hookLoad = sync.OnceValue(func() []*capture.Packet {
	tp := testpcap.Calls(500, 200, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), 50*time.Millisecond)
	pkts := make([]*capture.Packet, len(tp))
	for i, p := range tp {
		pkts[i] = &capture.Packet{Data: p.Data, LinkType: uint16(layers.LinkTypeEthernet), Frame: i + 1,
			Info: gopacket.CaptureInfo{Timestamp: p.Time, CaptureLength: len(p.Data), Length: len(p.Data)}}
	}
	return pkts
})

// BenchmarkProcessHooks compares processing 500 calls (201,000 packets,
// 1,500 events) with no hooks, with a Go no-op hook on every event, and
// with a /bin/true command on every event. The time is the processing
// loop's; draining the hook queue afterwards is not counted. Run it with
// TMPDIR on a tmpfs (TMPDIR=/dev/shm): on ext4 the cost of recreating
// thousands of just-deleted files grows from run to run and hides the
// hooks' cost.
func BenchmarkProcessHooks(b *testing.B) {
	pkts := hookLoad()
	for _, bc := range []struct {
		name  string
		hooks func() []Hook
	}{
		{"none", func() []Hook { return nil }},
		{"noop", func() []Hook { return []Hook{noopHook{}} }},
		{"true", func() []Hook {
			return []Hook{
				NewCommandHook("pcap-command", event.TypeFileClosed, mustTemplate(b, "true %pcap%", Placeholders(event.TypeFileClosed)), &runner.Runner{}, nil),
				NewCommandHook("voip-command", event.TypeCallCompleted, mustTemplate(b, "true %callid%", Placeholders(event.TypeCallCompleted)), &runner.Runner{}, nil),
			}
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				cfg := processor.DefaultConfig()
				cfg.OutputDir = filepath.Join(b.TempDir(), "out")
				var e *Engine
				if hooks := bc.hooks(); hooks != nil {
					e = NewEngine(EngineConfig{}, Set{Hooks: hooks})
					cfg.Emit = e.Submit
				}
				p, err := processor.New(cfg)
				if err != nil {
					b.Fatal(err)
				}
				for _, pkt := range pkts {
					if err := p.Packet(pkt); err != nil {
						b.Fatal(err)
					}
				}
				if err := p.Close(); err != nil {
					b.Fatal(err)
				}
				// Neither draining the queue nor removing the files is
				// processing time; removing them keeps runs comparable.
				b.StopTimer()
				if e != nil {
					if st := e.Close(b.Context()); st.Failed != 0 {
						b.Fatalf("%d hooks failed", st.Failed)
					}
				}
				if err := os.RemoveAll(cfg.OutputDir); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(len(pkts))*float64(b.N)/b.Elapsed().Seconds(), "pkts/s")
		})
	}
}

func mustTemplate(tb testing.TB, s string, allowed []string) *template.Template {
	tb.Helper()
	t, err := template.Parse(s, allowed)
	if err != nil {
		tb.Fatal(err)
	}
	return t
}
