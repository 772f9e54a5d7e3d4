package script

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/lc-voip/lc/internal/event"
)

// gatedHook records the Call-IDs it runs for; each run waits for gate.
type gatedHook struct {
	gate chan struct{}
	mu   sync.Mutex
	ran  []string
}

func (*gatedHook) Name() string          { return "gated" }
func (*gatedHook) Wants(event.Type) bool { return true }
func (h *gatedHook) Run(ctx context.Context, ev event.Event) error {
	select {
	case <-h.gate:
	case <-ctx.Done():
		return ctx.Err()
	}
	h.mu.Lock()
	h.ran = append(h.ran, ev.(event.CallCompleted).CallID)
	h.mu.Unlock()
	return nil
}

// TestSpoolKeepsCaptureMoving: in live capture, events go to the spool.
// With the one hook worker stuck and a queue of two, submitting a
// thousand events still returns at once (the processing loop never
// waits); the events past the memory part wait on disk; once the hook
// moves, every event runs, in order, and the spill file is gone.
func TestSpoolKeepsCaptureMoving(t *testing.T) {
	hook := &gatedHook{gate: make(chan struct{})}
	dir := t.TempDir()
	r := NewEngine(EngineConfig{Concurrency: 1, QueueSize: 2, SpoolDir: dir, SpoolMemory: 2}, Set{Hooks: []Hook{hook}})

	const n = 1000
	done := make(chan struct{})
	go func() {
		for i := range n {
			r.Submit(event.CallCompleted{CallID: "call-" + strconv.Itoa(i), CallDate: time.Unix(int64(i), 0)})
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("submit waited for the stuck hook")
	}
	st := *r.Stats().Spool
	if st.Spilled == 0 || st.OnDisk == 0 {
		t.Fatalf("nothing waits on disk with the hook stuck: %+v", st)
	}
	if files, _ := filepath.Glob(filepath.Join(dir, ".lc-spool-*")); len(files) != 1 {
		t.Fatalf("spill files in the output directory: %v", files)
	}
	close(hook.gate)
	hs := r.Close(context.Background())
	if hs.Runs != n || hs.Failed != 0 {
		t.Fatalf("%d runs, %d failed; want %d, 0", hs.Runs, hs.Failed, n)
	}
	for i, id := range hook.ran {
		if want := "call-" + strconv.Itoa(i); id != want {
			t.Fatalf("run %d was for %s, want %s: order lost", i, id, want)
		}
	}
	if st := hs.Spool; st.Queued != 0 || st.Lost != 0 {
		t.Errorf("after the drain: %+v", st)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("left in the output directory: %v", entries)
	}
}
