package natsbus

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/lc-voip/lc/internal/event"
	"github.com/lc-voip/lc/internal/natsbus/natstest"
)

// slowHook is a recorder whose runs take a while, so that a test can
// act while workers hold messages.
type slowHook struct {
	*recorder
	took time.Duration
}

func (h slowHook) Run(ctx context.Context, ev event.Event) error {
	select {
	case <-time.After(h.took):
	case <-ctx.Done():
		return ctx.Err()
	}
	return h.recorder.Run(ctx, ev)
}

// checkAtLeastOnce checks that every event of every call ran, that the
// first runs of a call's events were in order, and that a call's events
// ran as often as one another (a message delivered again runs all its
// hooks again). It returns how many calls ran more than once.
func (r *recorder) checkAtLeastOnce(tb testing.TB, calls [][]event.Event) (again int) {
	tb.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, evs := range calls {
		key := evs[0].Key()
		got := r.runs[key]
		var first []string
		for i, ev := range evs {
			if r.count[ev.EventID()] != r.count[evs[0].EventID()] {
				tb.Errorf("%s: event %d ran %d times, the first %d", key, i, r.count[ev.EventID()], r.count[evs[0].EventID()])
			}
			if !slices.Contains(first, ev.EventID()) {
				first = append(first, ev.EventID())
			}
		}
		var order []string
		for _, id := range got {
			if !slices.Contains(order, id) {
				order = append(order, id)
			}
		}
		if fmt.Sprint(order) != fmt.Sprint(first) {
			tb.Errorf("%s ran %v, want %v first", key, got, first)
		}
		if r.count[evs[0].EventID()] > 1 {
			again++
		}
	}
	return again
}

// TestWorkersServerRestart: the server, with file storage, restarts
// while two workers consume. No call is lost, every call's hooks run in
// order, whole, at least once (a call whose ack the restart lost is
// delivered again, as the delivery guarantee allows), and both workers,
// not restarted, take calls again: with every hook held, each fills the
// slots it has for messages from a batch bigger than the two hold, and
// takes no more.
func TestWorkersServerRestart(t *testing.T) {
	srv := natstest.Start(t)
	const n, more = 60, 20
	var calls [][]event.Event
	for i := range n {
		calls = append(calls, testCall(i))
	}
	all := flatten(calls)
	publishAll(t, srv.URL(), all)
	rec := newRecorder()
	hook := slowHook{recorder: rec, took: 10 * time.Millisecond}
	cfg := WorkerConfig{AckWait: 2 * time.Second} // longer than the restart, so that no call runs on two workers at once
	workers := []*runningWorker{startWorker(t, srv.URL(), hook, cfg), startWorker(t, srv.URL(), hook, cfg)}

	rec.waitRuns(t, len(all)/3)
	srv.Restart()
	rec.mu.Lock()
	before := len(rec.count)
	rec.mu.Unlock()
	if before == len(all) {
		t.Fatal("every event ran before the server restarted")
	}
	rec.waitRuns(t, len(all))
	waitSettled(t, workers, n)

	// Every hook now waits, and a worker holds at most 2×4 messages:
	// with more calls than the two may hold, each fills its slots.
	const slots = 8
	var atBatch []int64
	for _, w := range workers {
		atBatch = append(atBatch, w.w.Stats().Received)
	}
	unblock := make(chan struct{})
	rec.mu.Lock()
	rec.block, rec.started = unblock, make(chan string, 10*more)
	rec.mu.Unlock()
	var batch [][]event.Event
	for i := range more {
		batch = append(batch, testCall(n+i))
	}
	publishAll(t, srv.URL(), flatten(batch))
	deadline := time.Now().Add(30 * time.Second)
	for i, w := range workers {
		for w.w.Stats().Held < slots {
			if time.Now().After(deadline) {
				t.Fatalf("worker %d holds %d of the calls published after the restart, want %d: %+v", i, w.w.Stats().Held, slots, w.w.Stats())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	time.Sleep(100 * time.Millisecond)
	for i, w := range workers {
		if held := w.w.Stats().Held; held != slots {
			t.Errorf("worker %d holds %d messages, want %d", i, held, slots)
		}
	}
	close(unblock)
	calls = append(calls, batch...)
	rec.waitRuns(t, len(flatten(calls)))
	waitSettled(t, workers, n+more)
	for _, w := range workers {
		w.stop(t)
	}
	for _, err := range rec.errs {
		t.Error(err)
	}
	again := rec.checkAtLeastOnce(t, calls)
	var received int64
	for i, w := range workers {
		st := w.w.Stats()
		received += st.Received
		t.Logf("worker %d: %+v, %d of the last batch", i, st, st.Received-atBatch[i])
	}
	t.Logf("%d events ran before the restart; %d of %d calls ran twice or more", before, again, len(calls))
	if received < n+more {
		t.Errorf("%d messages received, want at least %d", received, n+more)
	}
}

// waitSettled waits until the workers have acknowledged n messages and
// hold none, or fails the test.
func waitSettled(tb testing.TB, workers []*runningWorker, n int64) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var acked, held int64
		for _, w := range workers {
			st := w.w.Stats()
			acked += st.Acked
			held += st.Held
		}
		if acked >= n && held == 0 {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%d messages acked, %d held, want %d acked", acked, held, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
