package main

import (
	"cmp"
	"context"
	"log/slog"
	"sync/atomic"

	"github.com/lc-voip/lc/internal/processor"
	"github.com/lc-voip/lc/internal/script"
	"github.com/lc-voip/lc/internal/spool"
)

// spooledEvent is a processor.Event as the spool stores it: exactly one
// field is set.
type spooledEvent struct {
	File *processor.FileClosed
	Call *processor.CallCompleted
}

func spooled(e processor.Event) spooledEvent {
	switch e := e.(type) {
	case processor.FileClosed:
		return spooledEvent{File: &e}
	case processor.CallCompleted:
		return spooledEvent{Call: &e}
	}
	panic("unknown event type " + e.Name())
}

func (s spooledEvent) event() processor.Event {
	if s.File != nil {
		return *s.File
	}
	return *s.Call
}

// hookSpool sits between the processing loop and the hook engine in live
// capture: Put never waits, and a pump goroutine feeds the engine, waiting
// for room there instead of the loop.
type hookSpool struct {
	queue  *spool.Queue[spooledEvent]
	log    *slog.Logger
	cancel context.CancelFunc
	done   chan struct{}
	final  atomic.Pointer[spool.Stats] // the figures when the pump stopped
}

// spill puts a spool in front of the engine that holds memory events (0:
// as many as the engine's default queue) before it keeps the rest under
// dir. Without hooks there is nothing to spool.
func (r *runningHooks) spill(dir string, memory int, log *slog.Logger) {
	if r.engine == nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	sp := &hookSpool{
		queue:  spool.New[spooledEvent](spool.Config{Dir: dir, Memory: cmp.Or(memory, script.DefaultQueueSize)}),
		log:    log,
		cancel: cancel,
		done:   make(chan struct{}),
	}
	go sp.pump(ctx, r.engine.Submit)
	r.spool = sp
}

// pump hands spooled events to submit, in order, until the spool is
// closed and empty or ctx is done.
func (sp *hookSpool) pump(ctx context.Context, submit func(processor.Event)) {
	defer close(sp.done)
	for {
		v, ok, err := sp.queue.Get(ctx)
		if err != nil { // counted in the queue's Lost
			sp.log.Error("hook events lost: spooled copies cannot be read back", "error", err)
			continue
		}
		if !ok {
			return
		}
		submit(v.event())
	}
}

// put queues e without waiting; an event that cannot be kept is logged and
// counted as lost.
func (sp *hookSpool) put(e processor.Event) {
	if err := sp.queue.Put(spooled(e)); err != nil {
		sp.log.Error("hook event lost: cannot spool it to disk", "event", e.Name(), "error", err)
	}
}

// close lets the pump drain the spool into the engine until ctx is done,
// then removes the spill file. Events still queued then are never run;
// stats reports them as Queued.
func (sp *hookSpool) close(ctx context.Context) {
	sp.queue.Close()
	stop := context.AfterFunc(ctx, sp.cancel)
	<-sp.done
	stop()
	final := sp.queue.Stats()
	sp.final.Store(&final)
	if err := sp.queue.Remove(); err != nil {
		sp.log.Error("removing the hook spool file", "error", err)
	}
}

// stats returns the spool's figures: Queued events waiting (after close:
// never run), OnDisk of them on disk, Spilled ever written to disk, Lost
// never delivered because writing or reading them back failed.
func (sp *hookSpool) stats() spool.Stats {
	if f := sp.final.Load(); f != nil {
		return *f
	}
	return sp.queue.Stats()
}
