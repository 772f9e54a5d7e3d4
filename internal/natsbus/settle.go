package natsbus

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/lc-voip/lc/internal/event"
	"github.com/lc-voip/lc/internal/script"
	"github.com/nats-io/nats.go/jetstream"
)

// ping tells the stream every AckWait/3 that msg is still being worked
// on, until the returned function is called.
func (w *Worker) ping(msg jetstream.Msg) func() {
	done := make(chan struct{})
	go func() {
		tick := time.NewTicker(w.cfg.AckWait / 3)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				msg.InProgress()
			case <-done:
				return
			}
		}
	}()
	return sync.OnceFunc(func() { close(done) })
}

// finish is called when the hooks of event id have all run: it settles
// the ticket that id completes, if any.
func (w *Worker) finish(id string) {
	w.mu.Lock()
	ts := w.tickets[id]
	if len(ts) == 0 {
		w.mu.Unlock()
		return
	}
	t := ts[0]
	if len(ts) == 1 {
		delete(w.tickets, id)
	} else {
		w.tickets[id] = ts[1:]
	}
	result := done
	for _, e := range t.evs {
		if w.failed[e.EventID()] {
			result = failed
			delete(w.failed, e.EventID())
		}
	}
	w.mu.Unlock()
	w.settle(t, result, "a hook failed")
}

// outcome is how a held message ends.
type outcome int

const (
	done     outcome = iota // acknowledged
	failed                  // delivered again after a delay; after the last delivery, a dead letter
	giveBack                // delivered again, to this worker or another; never a dead letter
)

// settle ends t's message as result says; reason says why it is not
// done.
func (w *Worker) settle(t *ticket, result outcome, reason string) {
	if !w.release(t) {
		return
	}
	if result == done {
		w.acked.Add(1)
		if err := t.msg.Ack(); err != nil {
			w.log.Warn("ack", "subject", t.msg.Subject(), "error", err)
		}
		return
	}
	n := uint64(1)
	if md, err := t.msg.Metadata(); err == nil {
		n = md.NumDelivered
	}
	if result == failed && n >= uint64(w.cfg.MaxDeliver) {
		w.putDead(t, n, reason)
		return
	}
	w.retried.Add(1)
	delay := min(w.cfg.RetryDelay<<min(n-1, 20), maxRetryDelay)
	if result == giveBack {
		delay = 0
	}
	w.log.Warn("message given back, to be delivered again", "subject", t.msg.Subject(), "deliveries", n, "reason", reason, "delay", delay)
	t.msg.NakWithDelay(delay)
}

// release ends t and frees its slot, and reports whether it was held:
// false when it was settled already.
func (w *Worker) release(t *ticket) bool {
	w.mu.Lock()
	_, held := w.held[t]
	delete(w.held, t)
	w.mu.Unlock()
	if !held {
		return false
	}
	t.end()
	w.free(1)
	return true
}

// trackedHook is a hook of a Worker: it notes the events it failed for.
type trackedHook struct {
	script.Hook
	w *Worker
}

func (h trackedHook) Run(ctx context.Context, ev event.Event) error {
	err := h.Hook.Run(ctx, ev)
	if err != nil && ctx.Err() == nil {
		h.w.mu.Lock()
		h.w.failed[ev.EventID()] = true
		h.w.mu.Unlock()
	}
	return err
}

// workerJournal is how a Worker learns that an event's hooks have all
// run: the engine ends its journal item. It keeps nothing: the stream is
// the Worker's journal.
type workerJournal struct{ w *Worker }

func (workerJournal) Begin(string, []byte) error { return nil }
func (workerJournal) Note(string, []byte) error  { return nil }
func (j workerJournal) End(id string) error {
	j.w.finish(strings.TrimPrefix(id, script.JournalPrefix))
	return nil
}
func (workerJournal) Data(string) ([]byte, error) { return nil, errors.New("a worker keeps no event") }
