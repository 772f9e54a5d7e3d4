package natsbus

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lc-voip/lc/internal/event"
	"github.com/lc-voip/lc/internal/natsbus/natstest"
	"github.com/lc-voip/lc/internal/testenv"
)

// counter is a hook that does nothing but count, and says when it has
// run n events.
type counter struct {
	n    int64
	runs atomic.Int64
	done chan struct{}
}

func (c *counter) Name() string          { return "count" }
func (c *counter) Wants(event.Type) bool { return true }

func (c *counter) Run(context.Context, event.Event) error {
	if c.runs.Add(1) == c.n {
		close(c.done)
	}
	return nil
}

// TestThroughput measures events per second published by a Publisher
// to the embedded server, then taken from it by one Worker (4 hook
// slots) with a hook that does nothing: events alone, then with every
// call's two 100 KB files in an object store.
func TestThroughput(t *testing.T) {
	testenv.Long(t)
	tests := []struct {
		name  string
		calls int
		size  int // of each file; 0: no object store
	}{
		{"events", 5000, 0},
		{"object store 100KB files", 500, 100_000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := natstest.Start(t)
			root := t.TempDir()
			var all []event.Event
			for i := range tt.calls {
				if tt.size == 0 {
					all = append(all, testCall(i)...)
				} else {
					evs, _ := fileCall(t, root, i, tt.size)
					all = append(all, evs...)
				}
			}
			cfg := Config{URL: srv.URL(), Node: "n1"}
			wcfg := WorkerConfig{AckWait: time.Minute}
			if tt.size > 0 {
				cfg.Files, cfg.Root = "pcaps", root
				wcfg.Bus.Files = "pcaps"
				t.Setenv("TMPDIR", t.TempDir())
			}
			start := time.Now()
			publishWith(t, cfg, all)
			published := time.Since(start)
			h := &counter{n: int64(len(all)), done: make(chan struct{})}
			start = time.Now()
			w := startWorker(t, srv.URL(), h, wcfg)
			select {
			case <-h.done:
			case <-time.After(5 * time.Minute):
				t.Fatalf("%d of %d events ran", h.runs.Load(), len(all))
			}
			consumed := time.Since(start)
			w.stop(t)
			rate := func(d time.Duration) float64 { return float64(len(all)) / d.Seconds() }
			t.Logf("%d events (%d calls): published in %s (%.0f events/s); then one worker ran their hooks in %s (%.0f events/s, %.0f calls/s)",
				len(all), tt.calls, published.Round(time.Millisecond), rate(published), consumed.Round(time.Millisecond), rate(consumed), float64(tt.calls)/consumed.Seconds())
			if tt.size > 0 {
				mb := float64(2*tt.calls*tt.size) / 1e6
				t.Logf("files: %.0f MB, put at %.1f MB/s, fetched at %.1f MB/s", mb, mb/published.Seconds(), mb/consumed.Seconds())
			}
		})
	}
}
