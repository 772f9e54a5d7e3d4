package script

import (
	"context"
	"log/slog"
	"sync/atomic"

	"github.com/lc-voip/lc/internal/event"
	"github.com/lc-voip/lc/internal/spool"
)

// spooled is an event as the spool holds it: as it is in memory, as its
// JSON on disk.
type spooled struct{ ev event.Event }

// GobEncode writes the event's JSON.
func (s spooled) GobEncode() ([]byte, error) { return event.AppendJSON(nil, s.ev), nil }

// GobDecode reads the event's JSON.
func (s *spooled) GobDecode(data []byte) error {
	ev, err := event.Decode(data)
	s.ev = ev
	return err
}

// spooler sits between Submit and the queue when EngineConfig.SpoolDir is
// set: put never waits, and a pump goroutine moves events to the queue,
// waiting for room there instead of the caller.
type spooler struct {
	queue  *spool.Queue[spooled]
	log    *slog.Logger
	cancel context.CancelFunc
	done   chan struct{}
	final  atomic.Pointer[spool.Stats] // the figures when the pump stopped
}

// startSpool starts a spool that holds memory events before it keeps the
// rest under dir, and its pump into the queue.
func (e *Engine) startSpool(dir string, memory int) *spooler {
	ctx, cancel := context.WithCancel(context.Background())
	sp := &spooler{
		queue:  spool.New[spooled](spool.Config{Dir: dir, Memory: memory}),
		log:    e.log,
		cancel: cancel,
		done:   make(chan struct{}),
	}
	go sp.pump(ctx, e.enqueue)
	return sp
}

// pump hands spooled events to enqueue, in order, until the spool is
// closed and empty or ctx is done.
func (sp *spooler) pump(ctx context.Context, enqueue func(job)) {
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
		enqueue(job{ev: v.ev})
	}
}

// put spools ev without waiting; an event that cannot be kept is logged
// and counted as lost.
func (sp *spooler) put(ev event.Event) {
	if err := sp.queue.Put(spooled{ev}); err != nil {
		sp.log.Error("hook event lost: cannot spool it to disk", append(event.LogAttrs(ev), "error", err)...)
	}
}

// close lets the pump drain the spool into the queue until ctx is done,
// then removes the spill file. Events still spooled then are never run;
// stats reports them as Queued.
func (sp *spooler) close(ctx context.Context) {
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

// stats returns the spool's figures.
func (sp *spooler) stats() spool.Stats {
	if f := sp.final.Load(); f != nil {
		return *f
	}
	return sp.queue.Stats()
}
