package script

import (
	"context"
	"log/slog"
	"strings"
	"sync"

	"github.com/lc-voip/lc/internal/event"
)

// SpoolStats are the figures of an Engine's spool (EngineConfig.Spool).
type SpoolStats struct {
	Queued  int64 // events waiting in the spool now; after Close, left unrun
	OnDisk  int64 // of which only the journal holds (their memory was given up)
	Spilled int64 // events ever left to the journal alone because the spool's memory was full
	Lost    int64 // events whose hooks will not run: the spool was full without a journal, or the journal could not give one back
}

// spoolEntry is an event waiting in the spool: the event, or, once its
// memory was given up, its ID in the journal.
type spoolEntry struct {
	ev event.Event
	id string
}

// spooler sits between Submit and the queue when EngineConfig.Spool is
// set: put never waits, and a pump goroutine moves events to the queue,
// waiting for room there instead of the caller. The first memory events
// waiting are held in memory; past that, with a journal, an event is held
// by the journal alone (it was journaled before it was spooled) and read
// back when its turn comes, so the spool's memory stays bounded whatever
// the backlog; without a journal it is dropped and counted as lost. Order
// is kept throughout.
type spooler struct {
	memory  int
	journal Journal // nil without one
	log     *slog.Logger
	cancel  context.CancelFunc
	done    chan struct{}

	// Guarded by mu.
	mu       sync.Mutex
	wake     *sync.Cond
	fifo     []spoolEntry
	head     int // fifo[head:] wait
	inMemory int
	closed   bool
	stats    SpoolStats
}

// startSpool starts a spool that holds memory events in memory, and its
// pump into the queue.
func (e *Engine) startSpool(memory int) *spooler {
	ctx, cancel := context.WithCancel(context.Background())
	sp := &spooler{memory: memory, journal: e.cfg.Journal, log: e.log, cancel: cancel, done: make(chan struct{})}
	sp.wake = sync.NewCond(&sp.mu)
	context.AfterFunc(ctx, func() {
		sp.mu.Lock()
		sp.wake.Broadcast()
		sp.mu.Unlock()
	})
	go sp.pump(ctx, e.enqueue)
	return sp
}

// put spools ev without waiting.
func (sp *spooler) put(ev event.Event) {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	entry := spoolEntry{ev: ev}
	if sp.inMemory >= sp.memory {
		if sp.journal == nil {
			sp.stats.Lost++
			sp.log.Error("hook event lost: the spool is full and there is no journal", event.LogAttrs(ev)...)
			return
		}
		entry = spoolEntry{id: journalKey(ev)}
		sp.stats.Spilled++
		sp.stats.OnDisk++
	} else {
		sp.inMemory++
	}
	sp.fifo = append(sp.fifo, entry)
	sp.stats.Queued++
	sp.wake.Signal()
}

// next waits for the next event, and reports false when the spool is
// closed and empty or ctx is done.
func (sp *spooler) next(ctx context.Context) (spoolEntry, bool) {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	for sp.head == len(sp.fifo) && !sp.closed && ctx.Err() == nil {
		sp.wake.Wait()
	}
	if sp.head == len(sp.fifo) || ctx.Err() != nil {
		return spoolEntry{}, false
	}
	entry := sp.fifo[sp.head]
	sp.fifo[sp.head] = spoolEntry{}
	sp.head++
	if sp.head > len(sp.fifo)/2 { // reuse the slice's front
		sp.fifo = append(sp.fifo[:0], sp.fifo[sp.head:]...)
		sp.head = 0
	}
	sp.stats.Queued--
	if entry.ev != nil {
		sp.inMemory--
	} else {
		sp.stats.OnDisk--
	}
	return entry, true
}

// pump hands spooled events to enqueue, in order, until the spool is
// closed and empty or ctx is done.
func (sp *spooler) pump(ctx context.Context, enqueue func(job)) {
	defer close(sp.done)
	for {
		entry, ok := sp.next(ctx)
		if !ok {
			return
		}
		ev := entry.ev
		if ev == nil {
			var err error
			if ev, err = sp.readBack(entry.id); err != nil {
				sp.mu.Lock()
				sp.stats.Lost++
				sp.mu.Unlock()
				sp.log.Error("hook event lost: the journal cannot give it back", "event_id", strings.TrimPrefix(entry.id, JournalPrefix), "error", err)
				continue
			}
		}
		enqueue(job{ev: ev})
	}
}

// readBack reads the event with journal key id from the journal.
func (sp *spooler) readBack(id string) (event.Event, error) {
	data, err := sp.journal.Data(id)
	if err != nil {
		return nil, err
	}
	return event.Decode(data)
}

// close lets the pump drain the spool into the queue until ctx is done.
// Events still spooled then are never run here (with a journal, the next
// start runs them); stats reports them as Queued.
func (sp *spooler) close(ctx context.Context) {
	sp.mu.Lock()
	sp.closed = true
	sp.wake.Broadcast()
	sp.mu.Unlock()
	stop := context.AfterFunc(ctx, sp.cancel)
	<-sp.done
	stop()
}

// figures returns the spool's figures.
func (sp *spooler) figures() SpoolStats {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	return sp.stats
}
