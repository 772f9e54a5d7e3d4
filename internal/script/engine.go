package script

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/lc-voip/lc/internal/event"
	"github.com/lc-voip/lc/internal/script/sandbox"
)

// errDrainDeadline stops the hooks still running when Close gives up.
var errDrainDeadline = errors.New("the shutdown deadline passed")

// Defaults for EngineConfig.
const (
	DefaultConcurrency = 10
	DefaultQueueSize   = 10000
)

// EngineConfig configures an Engine. Zero fields take the defaults.
type EngineConfig struct {
	Concurrency int          // workers running hooks at once
	QueueSize   int          // events accepted and not finished; Submit waits beyond it
	Logger      *slog.Logger // nil discards
	// Observe, when set, is called after every hook run with the hook's
	// name, how long it ran and its error, on the worker goroutine. It
	// must not block (metrics use it).
	Observe func(hook string, took time.Duration, err error)
	// Spool, when set, puts a spool in front of the queue: Submit never
	// waits; events beyond the queue wait in the spool, in order, in
	// memory up to SpoolMemory events (zero: QueueSize), then in the
	// Journal alone, read back when their turn comes (without a Journal
	// they are lost, and counted). Live capture uses it.
	Spool       bool
	SpoolMemory int
	// Journal, when set, makes hook work survive a crash: every event a
	// hook wants is begun in it (as its JSON, under JournalKey) before
	// it is queued, each hook run that ends (ok, failed or timed out)
	// is noted with the hook's name, and the event is ended when all
	// its hooks have. A run stopped by Close's deadline, or never
	// started, is not noted: the event stays in the journal and Replay
	// runs it after a restart. A journal error is logged and counted;
	// the event is queued all the same.
	Journal Journal
	// Journaled, when set, is called by Submit for every event, on the
	// caller's goroutine, once the event is in the Journal (when a hook
	// wants it) and before it is queued: lc ends there the journal item
	// of the call or file the event reports, which so always ends after
	// the event is durable and before its hooks can end.
	Journaled func(event.Event)
	// Done, when set, is called once for every event given to Submit or
	// Replay that the Engine is through with: after the last of its
	// hooks finished (ok, failed or timed out; with a Journal, after the
	// event is ended in it), on the worker's goroutine; or, when no hook
	// wants the event, at once, on the caller's goroutine (after
	// Journaled). It is not called for an event whose hooks did not all
	// run (stopped or never started when Close's deadline passed, or
	// lost by the spool), nor for one whose end the Journal failed to
	// record (it still holds it), nor by Submit for an event the journal
	// holds already (ErrPending): its Replay calls it. Every call comes
	// before Close returns. It must not block: lc's disk retention
	// learns from it that the files an event reports may go.
	Done func(event.Event)
}

// ErrPending is what a Journal's Begin returns for an event it holds
// already: an event of an earlier run, replayed, that a recovery reports
// again. Submit then leaves it to the replay.
var ErrPending = errors.New("the event is in the journal already")

// Journal is where an Engine keeps its events durable; package journal
// implements it. It must be safe for concurrent use.
type Journal interface {
	Begin(id string, data []byte) error
	Note(id string, data []byte) error
	End(id string) error
	// Data returns the data item id was begun with, while it is open.
	Data(id string) ([]byte, error)
}

// JournalPrefix starts the journal keys of events: "event:" and the
// event's ID.
const JournalPrefix = "event:"

// EngineStats counts what an Engine did. Runs = Succeeded + Failed.
type EngineStats struct {
	Events    int64 // events accepted that at least one hook wanted
	Runs      int64 // hook runs finished
	Failed    int64 // of which failed (timeouts included)
	TimedOut  int64 // of which ran out of time
	Unrun     int64 // hook runs never started: the drain deadline passed first
	FullWaits int64 // times Submit had to wait for room in the queue
	Pending   int64 // events queued or running now
	Replayed  int64 // events taken from the journal of an earlier run (Replay)
	// JournalErrors counts the journal writes that failed: those events
	// are not durable, their hooks run all the same.
	JournalErrors int64
	// Spool is the spool's figures (see EngineConfig.Spool), nil
	// without one.
	Spool *SpoolStats
	// Hooks are the Runs, Failed and TimedOut of each hook, by name: every
	// hook of the sets given to NewEngine and Replace, at zero until it
	// runs. A Stats result owns its map.
	Hooks map[string]HookStats
}

// HookStats counts the runs of one hook.
type HookStats struct {
	Runs     int64 // runs finished
	Failed   int64 // of which failed (timeouts included)
	TimedOut int64 // of which ran out of time
}

// count counts a finished run of hook that returned err, in the totals
// and in the hook's own counts.
func (s *EngineStats) count(hook string, err error) {
	one := s.Hooks[hook]
	s.Runs++
	one.Runs++
	if err != nil {
		s.Failed++
		one.Failed++
		if errors.Is(err, ErrTimeout) {
			s.TimedOut++
			one.TimedOut++
		}
	}
	s.Hooks[hook] = one
}

// know makes the hooks of set known to s.Hooks, at zero.
func (s *EngineStats) know(set Set) {
	if s.Hooks == nil {
		s.Hooks = make(map[string]HookStats, len(set.Hooks))
	}
	for _, h := range set.Hooks {
		if _, ok := s.Hooks[h.Name()]; !ok {
			s.Hooks[h.Name()] = HookStats{}
		}
	}
}

// Engine runs hooks for events on a pool of workers, off the processing
// goroutine.
//
// Ordering: the hooks of one event run one after the other, in the order
// given; the events of one call (its FileClosed events, then its
// CallCompleted) run one after the other in submission order and never
// overlap; events of different calls run in parallel on up to Concurrency
// workers. Each event is run exactly once.
//
// Back-pressure: at most QueueSize events are queued or running; Submit
// waits for room beyond that (counted in FullWaits), so nothing is dropped
// until the context given to LimitWaits is done: from then on an event
// that finds the queue full is not queued, and its hook runs are counted
// as Unrun.
//
// Failures: a hook run that fails is logged here, once, at Error with the
// hook, the event and the error (a Lua error with its traceback), and
// counted; it never stops the Engine.
//
// Goroutines: Concurrency workers, started by NewEngine and ended by
// Close, and with a spool one pump that moves spooled events to the
// queue. Submit and Close are called by one goroutine (the processing
// loop); Stats, Replace and LimitWaits may be called from any.
type Engine struct {
	cfg EngineConfig
	log *slog.Logger

	runCtx context.Context // canceled when Close gives up: running hooks stop
	abort  context.CancelCauseFunc
	wg     sync.WaitGroup

	// Guarded by mu.
	mu      sync.Mutex
	work    *sync.Cond // workers wait here for a ready key, closing or stopped
	room    *sync.Cond // Submit waits here for room in the queue
	keys    map[string]*keyJobs
	ready   []string // keys whose next job may start, in order
	count   int      // events queued or running
	closing bool     // no more Submit; workers exit when idle
	stopped bool     // workers take no more jobs
	noWait  bool     // Submit no longer waits for room (LimitWaits)
	stats   EngineStats
	current *generation // what new events run

	spool *spooler // nil without EngineConfig.Spool
}

// keyJobs are the jobs of one key; the first is running or ready.
type keyJobs struct {
	jobs []job
}

// job is an event and the hooks it was submitted under.
type job struct {
	ev   event.Event
	gen  *generation
	done []string // hooks that ran in an earlier run (a replayed event)
}

// wanted reports whether hook h is to run for j.
func (j job) wanted(h Hook) bool {
	return h.Wants(j.ev.Type()) && !slices.Contains(j.done, h.Name())
}

// generation is a Set in use: the one given to NewEngine, then each given
// to Replace. Guarded by Engine.mu.
type generation struct {
	Set
	pending int  // jobs queued or running under this set
	retired bool // replaced or closed: no new job will use it
}

// releaseIfIdle returns the set's Release function when it may be called
// now, and forgets it; the caller calls it without holding the lock.
func (g *generation) releaseIfIdle() func() {
	if !g.retired || g.pending > 0 || g.Release == nil {
		return nil
	}
	r := g.Release
	g.Release = nil
	return r
}

// NewEngine starts the workers (and the spool's pump) for set.
func NewEngine(cfg EngineConfig, set Set) *Engine {
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = DefaultQueueSize
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, abort := context.WithCancelCause(context.Background())
	e := &Engine{
		cfg:     cfg,
		log:     log.With("component", "hooks"),
		current: &generation{Set: set},
		runCtx:  ctx,
		abort:   abort,
		keys:    make(map[string]*keyJobs),
	}
	e.stats.know(set)
	e.work = sync.NewCond(&e.mu)
	e.room = sync.NewCond(&e.mu)
	e.wg.Add(cfg.Concurrency)
	for range cfg.Concurrency {
		go e.worker()
	}
	if cfg.Spool {
		e.spool = e.startSpool(cmp.Or(cfg.SpoolMemory, cfg.QueueSize))
	}
	return e
}

// Submit queues ev for every hook that wants it, waiting while the queue
// is full; with a spool it never waits. It must not be called after
// Close.
func (e *Engine) Submit(ev event.Event) {
	e.mu.Lock()
	wanted := wants(e.current.Hooks, ev)
	e.mu.Unlock()
	if !wanted {
		e.journaled(ev)
		e.done(ev)
		return
	}
	if e.cfg.Journal != nil {
		err := e.cfg.Journal.Begin(journalKey(ev), event.AppendJSON(nil, ev))
		if errors.Is(err, ErrPending) {
			e.log.Debug("event in the journal already: its replay runs its hooks", event.LogAttrs(ev)...)
			e.journaled(ev)
			return
		}
		e.journal(err, ev)
	}
	e.journaled(ev)
	if e.spool != nil {
		e.spool.put(ev)
		return
	}
	e.enqueue(job{ev: ev})
}

// Replay queues ev, an event that an earlier run left in the journal;
// done are the hooks that ran for it then, which do not run again. Events
// are replayed in the order they were begun, before new ones.
func (e *Engine) Replay(ev event.Event, done []string) {
	e.count1(func(s *EngineStats) { s.Replayed++ })
	e.enqueue(job{ev: ev, done: done})
}

// journaled calls EngineConfig.Journaled, if set.
func (e *Engine) journaled(ev event.Event) {
	if e.cfg.Journaled != nil {
		e.cfg.Journaled(ev)
	}
}

// done calls EngineConfig.Done, if set.
func (e *Engine) done(ev event.Event) {
	if e.cfg.Done != nil {
		e.cfg.Done(ev)
	}
}

// journalKey is ev's key in the journal.
func journalKey(ev event.Event) string { return JournalPrefix + ev.EventID() }

// journal logs and counts a failed journal write for ev.
func (e *Engine) journal(err error, ev event.Event) {
	if err == nil {
		return
	}
	e.count1(func(s *EngineStats) { s.JournalErrors++ })
	e.log.Error("journal write failed: after a crash, this event's hooks may not run, or may run again", append(event.LogAttrs(ev), "error", err)...)
}

// enqueue queues j for every hook of the current set that wants it,
// waiting while the queue is full. An event no hook wants any more (a
// replay after the hooks changed) is done: it is ended in the journal.
func (e *Engine) enqueue(j job) {
	if !e.queue(j) {
		e.finish(j.ev)
	}
}

// finish ends ev in the journal, if any, and calls Done unless that
// failed: an event the journal still holds is not done.
func (e *Engine) finish(ev event.Event) {
	if e.cfg.Journal != nil {
		if err := e.cfg.Journal.End(journalKey(ev)); err != nil {
			e.journal(err, ev)
			return
		}
	}
	e.done(ev)
}

// queue is enqueue under the lock; it reports false when no hook wants
// j's event.
func (e *Engine) queue(j job) bool {
	ev := j.ev
	key := ev.Key()
	e.mu.Lock()
	defer e.mu.Unlock()
	gen := e.current
	j.gen = gen
	if hookCount(j) == 0 {
		return false
	}
	if e.count >= e.cfg.QueueSize {
		e.stats.FullWaits++
		for e.count >= e.cfg.QueueSize && !e.stopped && !e.noWait {
			e.room.Wait()
		}
		if e.count >= e.cfg.QueueSize {
			n := hookCount(j)
			e.stats.Unrun += n
			e.log.Debug("hooks not run: shutdown deadline passed", append(event.LogAttrs(ev), "hooks", n)...)
			return true
		}
	}
	e.stats.Events++
	e.count++
	gen.pending++
	if kj, ok := e.keys[key]; ok {
		kj.jobs = append(kj.jobs, j)
		return true
	}
	e.keys[key] = &keyJobs{jobs: []job{j}}
	e.ready = append(e.ready, key)
	e.work.Signal()
	return true
}

// LimitWaits bounds Submit's waits for room by ctx: once ctx is done, an
// event that finds the queue full is not queued and its hook runs are
// counted as Unrun, so that a shutdown whose deadline has passed does not
// wait for hooks it will not run. Safe from any goroutine.
func (e *Engine) LimitWaits(ctx context.Context) {
	context.AfterFunc(ctx, func() {
		e.mu.Lock()
		e.noWait = true
		e.room.Broadcast()
		e.mu.Unlock()
	})
}

// Replace makes set the hooks that events submitted from now on run.
// Events already queued or running keep the hooks they were submitted
// under; the old set's Release is called once, on some goroutine of the
// Engine or of the caller, when no event uses it any more.
func (e *Engine) Replace(set Set) {
	e.mu.Lock()
	old := e.current
	old.retired = true
	e.current = &generation{Set: set}
	e.stats.know(set)
	release := old.releaseIfIdle()
	e.mu.Unlock()
	if release != nil {
		release()
	}
}

func wants(hooks []Hook, ev event.Event) bool {
	for _, h := range hooks {
		if h.Wants(ev.Type()) {
			return true
		}
	}
	return false
}

func (e *Engine) worker() {
	defer e.wg.Done()
	for {
		e.mu.Lock()
		for len(e.ready) == 0 && !e.stopped && !(e.closing && e.count == 0) {
			e.work.Wait()
		}
		if e.stopped || len(e.ready) == 0 {
			e.mu.Unlock()
			return
		}
		key := e.ready[0]
		e.ready = e.ready[1:]
		j := e.keys[key].jobs[0]
		e.mu.Unlock()

		e.run(j)

		e.mu.Lock()
		j.gen.pending--
		release := j.gen.releaseIfIdle()
		kj := e.keys[key]
		kj.jobs = kj.jobs[1:]
		if len(kj.jobs) > 0 {
			e.ready = append(e.ready, key)
			e.work.Signal()
		} else {
			delete(e.keys, key)
		}
		e.count--
		e.room.Signal()
		if e.closing && e.count == 0 {
			e.work.Broadcast() // the idle workers can exit
		}
		e.mu.Unlock()
		if release != nil {
			release()
		}
	}
}

// run runs every hook of j that wants its event, in order, and logs the
// failures.
func (e *Engine) run(j job) {
	ev := j.ev
	key := journalKey(ev)
	finished := true
	for _, h := range j.gen.Hooks {
		if !j.wanted(h) {
			continue
		}
		if e.runCtx.Err() != nil {
			e.count1(func(s *EngineStats) { s.Unrun++ })
			finished = false
			continue
		}
		start := time.Now()
		err := h.Run(e.runCtx, ev)
		if context.Cause(e.runCtx) == errDrainDeadline {
			finished = false // stopped, not finished: run again after a restart
		} else if e.cfg.Journal != nil {
			e.journal(e.cfg.Journal.Note(key, []byte(h.Name())), ev)
		}
		if e.cfg.Observe != nil {
			e.cfg.Observe(h.Name(), time.Since(start), err)
		}
		if err != nil {
			e.logFailure(h, ev, err)
		}
		e.count1(func(s *EngineStats) { s.count(h.Name(), err) })
	}
	if finished {
		e.finish(ev)
	}
}

// logFailure logs a failed hook run with its event; a Lua error brings
// its traceback.
func (e *Engine) logFailure(h Hook, ev event.Event, err error) {
	attrs := append([]any{"hook", h.Name()}, event.LogAttrs(ev)...)
	attrs = append(attrs, "error", err)
	var le *sandbox.Error
	if errors.As(err, &le) && le.Traceback != "" {
		attrs = append(attrs, "traceback", le.Traceback)
	}
	e.log.Error("hook failed", attrs...)
}

func (e *Engine) count1(f func(*EngineStats)) {
	e.mu.Lock()
	f(&e.stats)
	e.mu.Unlock()
}

// Close stops accepting events and waits until every spooled and queued
// event has run, or ctx is done. Then running hooks are told to stop
// (their commands are killed), and the hook runs that never started are
// counted as Unrun and logged; events still in the spool are counted in
// Spool.Queued. The hooks in place are released. Close returns the final
// counts.
func (e *Engine) Close(ctx context.Context) EngineStats {
	if e.spool != nil {
		e.spool.close(ctx)
	}
	e.mu.Lock()
	e.closing = true
	e.work.Broadcast()
	e.mu.Unlock()

	done := make(chan struct{})
	go func() {
		e.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		e.abort(errDrainDeadline)
		e.mu.Lock()
		e.stopped = true
		for _, key := range slices.Sorted(maps.Keys(e.keys)) {
			kj := e.keys[key]
			pending := kj.jobs
			if !slices.Contains(e.ready, key) {
				pending = pending[1:] // the first is running and counts itself
			}
			for _, j := range pending {
				n := hookCount(j)
				e.stats.Unrun += n
				e.log.Debug("hooks not run: shutdown deadline passed", append(event.LogAttrs(j.ev), "hooks", n)...)
			}
		}
		if e.stats.Unrun > 0 {
			e.log.Warn("hooks not run: shutdown deadline passed", "hooks", e.stats.Unrun)
		}
		e.work.Broadcast()
		e.room.Broadcast()
		e.mu.Unlock()
		<-done
	}
	e.abort(nil)
	e.mu.Lock()
	e.current.retired = true
	release := e.current.releaseIfIdle()
	st := e.statsLocked()
	e.mu.Unlock()
	if release != nil {
		release()
	}
	return st
}

// hookCount is the number of hooks of j that want its event.
func hookCount(j job) int64 {
	var n int64
	for _, h := range j.gen.Hooks {
		if j.wanted(h) {
			n++
		}
	}
	return n
}

// Stats returns the counts so far. Safe from any goroutine.
func (e *Engine) Stats() EngineStats {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.statsLocked()
}

func (e *Engine) statsLocked() EngineStats {
	s := e.stats
	s.Hooks = maps.Clone(e.stats.Hooks)
	s.Pending = int64(e.count)
	if e.spool != nil {
		st := e.spool.figures()
		s.Spool = &st
	}
	return s
}
