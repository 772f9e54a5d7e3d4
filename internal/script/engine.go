package script

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/lc-voip/lc/internal/processor"
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
}

// EngineStats counts what an Engine did. Runs = Succeeded + Failed.
type EngineStats struct {
	Events    int64 // events accepted that at least one hook wanted
	Runs      int64 // hook runs finished
	Failed    int64 // of which failed (timeouts included)
	TimedOut  int64 // of which ran out of time
	Unrun     int64 // hook runs never started: the drain deadline passed first
	FullWaits int64 // times Submit had to wait for room in the queue
	Pending   int64 // events queued or running now
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
// Goroutines: Concurrency workers, started by NewEngine and ended by Close.
// Submit and Close are called by one goroutine (the processing loop);
// Stats may be called from any.
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
	hooks   *hookSet // what new events run
}

// keyJobs are the jobs of one key; the first is running or ready.
type keyJobs struct {
	jobs []job
}

// job is an event and the hooks it was submitted under.
type job struct {
	ev    processor.Event
	hooks *hookSet
}

// hookSet is a generation of hooks: the ones given to NewEngine, then each
// given to Replace. Guarded by Engine.mu.
type hookSet struct {
	hooks   []Hook
	pending int    // jobs queued or running under this set
	retired bool   // replaced: no new job will use it
	release func() // called once when retired and no job uses it
}

// releaseIfIdle returns the set's release function when it may be called
// now, and forgets it; the caller calls it without holding the lock.
func (s *hookSet) releaseIfIdle() func() {
	if !s.retired || s.pending > 0 || s.release == nil {
		return nil
	}
	r := s.release
	s.release = nil
	return r
}

// NewEngine starts the workers.
func NewEngine(cfg EngineConfig, hooks []Hook) *Engine {
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
		cfg:    cfg,
		log:    log.With("component", "hooks"),
		hooks:  &hookSet{hooks: hooks},
		runCtx: ctx,
		abort:  abort,
		keys:   make(map[string]*keyJobs),
	}
	e.work = sync.NewCond(&e.mu)
	e.room = sync.NewCond(&e.mu)
	e.wg.Add(cfg.Concurrency)
	for range cfg.Concurrency {
		go e.worker()
	}
	return e
}

// Submit queues ev for every hook that wants it, waiting while the queue
// is full. It must not be called after Close.
func (e *Engine) Submit(ev processor.Event) {
	key := eventKey(ev)
	e.mu.Lock()
	defer e.mu.Unlock()
	set := e.hooks
	if !wants(set.hooks, ev) {
		return
	}
	if e.count >= e.cfg.QueueSize {
		e.stats.FullWaits++
		for e.count >= e.cfg.QueueSize && !e.stopped && !e.noWait {
			e.room.Wait()
		}
		if e.count >= e.cfg.QueueSize {
			n := hookCount(job{ev: ev, hooks: set})
			e.stats.Unrun += n
			e.log.Debug("hooks not run: shutdown deadline passed", "event", ev.Name(), "key", key, "hooks", n)
			return
		}
	}
	e.stats.Events++
	e.count++
	set.pending++
	j := job{ev: ev, hooks: set}
	if kj, ok := e.keys[key]; ok {
		kj.jobs = append(kj.jobs, j)
		return
	}
	e.keys[key] = &keyJobs{jobs: []job{j}}
	e.ready = append(e.ready, key)
	e.work.Signal()
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

// Replace makes hooks the ones that events submitted from now on run.
// Events already queued or running keep the hooks they were submitted
// under. releaseOld, if not nil, is called once, on some goroutine of the
// Engine or of the caller, when no event uses the replaced hooks any more
// (their Lua VMs can then be closed, say).
func (e *Engine) Replace(hooks []Hook, releaseOld func()) {
	e.mu.Lock()
	old := e.hooks
	old.retired, old.release = true, releaseOld
	e.hooks = &hookSet{hooks: hooks}
	release := old.releaseIfIdle()
	e.mu.Unlock()
	if release != nil {
		release()
	}
}

func wants(hooks []Hook, ev processor.Event) bool {
	for _, h := range hooks {
		if h.Wants(ev) {
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
		j.hooks.pending--
		release := j.hooks.releaseIfIdle()
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

// run runs every hook of j that wants its event, in order.
func (e *Engine) run(j job) {
	ev := j.ev
	for _, h := range j.hooks.hooks {
		if !h.Wants(ev) {
			continue
		}
		if e.runCtx.Err() != nil {
			e.count1(func(s *EngineStats) { s.Unrun++ })
			continue
		}
		start := time.Now()
		err := h.Run(e.runCtx, ev)
		if e.cfg.Observe != nil {
			e.cfg.Observe(h.Name(), time.Since(start), err)
		}
		e.count1(func(s *EngineStats) {
			s.Runs++
			if err != nil {
				s.Failed++
				if errors.Is(err, ErrTimeout) {
					s.TimedOut++
				}
			}
		})
	}
}

func (e *Engine) count1(f func(*EngineStats)) {
	e.mu.Lock()
	f(&e.stats)
	e.mu.Unlock()
}

// Close stops accepting events and waits until every queued event has
// run, or ctx is done. Then running hooks are told to stop (their commands
// are killed), and the hook runs that never started are counted as Unrun
// and logged. Close returns the final counts.
func (e *Engine) Close(ctx context.Context) EngineStats {
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
				e.log.Debug("hooks not run: shutdown deadline passed", "event", j.ev.Name(), "key", key, "hooks", n)
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
	defer e.mu.Unlock()
	return e.stats
}

// hookCount is the number of hooks of j that want its event.
func hookCount(j job) int64 {
	var n int64
	for _, h := range j.hooks.hooks {
		if h.Wants(j.ev) {
			n++
		}
	}
	return n
}

// Stats returns the counts so far. Safe from any goroutine.
func (e *Engine) Stats() EngineStats {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.stats
	s.Pending = int64(e.count)
	return s
}
