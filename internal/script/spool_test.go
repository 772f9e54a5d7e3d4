package script

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/lc-voip/lc/internal/event"
	"github.com/lc-voip/lc/internal/journal"
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
// waits); past the spool's memory only the journal holds them; once the
// hook moves, every event runs, in order, read back from the journal,
// and the journal is left with nothing open.
func TestSpoolKeepsCaptureMoving(t *testing.T) {
	hook := &gatedHook{gate: make(chan struct{})}
	j, _, err := journal.Open(t.TempDir(), journal.Options{Sync: journal.SyncOff})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	r := NewEngine(EngineConfig{Concurrency: 1, QueueSize: 2, Spool: true, SpoolMemory: 2, Journal: j}, Set{Hooks: []Hook{hook}})

	const n = 1000
	done := make(chan struct{})
	go func() {
		for i := range n {
			r.Submit(event.Identified(event.CallCompleted{CallID: "call-" + strconv.Itoa(i), CallDate: time.Unix(int64(i), 0)}))
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("submit waited for the stuck hook")
	}
	st := *r.Stats().Spool
	if st.Spilled == 0 || st.OnDisk == 0 || st.Lost != 0 {
		t.Fatalf("with the hook stuck, nothing is left to the journal alone, or something was lost: %+v", st)
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
	if st := hs.Spool; st.Queued != 0 || st.Lost != 0 || st.OnDisk != 0 {
		t.Errorf("after the drain: %+v", st)
	}
	if open := j.Items(); len(open) != 0 {
		t.Errorf("the journal still holds %d items", len(open))
	}
}

// TestSpoolWithoutJournal: without a journal, an event that finds the
// spool's memory full is lost and counted, never waited for.
func TestSpoolWithoutJournal(t *testing.T) {
	hook := &gatedHook{gate: make(chan struct{})}
	r := NewEngine(EngineConfig{Concurrency: 1, QueueSize: 2, Spool: true, SpoolMemory: 2}, Set{Hooks: []Hook{hook}})
	const n = 50
	for i := range n {
		r.Submit(event.Identified(event.CallCompleted{CallID: "call-" + strconv.Itoa(i)}))
	}
	close(hook.gate)
	hs := r.Close(context.Background())
	if hs.Spool.Lost == 0 || hs.Runs+hs.Spool.Lost != n {
		t.Errorf("%d runs and %d lost of %d events", hs.Runs, hs.Spool.Lost, n)
	}
}
