package natsbus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lc-voip/lc/internal/event"
	"github.com/lc-voip/lc/internal/script"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Defaults of WorkerConfig.
const (
	DefaultAckWait    = time.Minute
	DefaultRetryDelay = time.Second
	maxRetryDelay     = 5 * time.Minute
)

// WorkerConfig configures a Worker. Zero fields take the defaults.
type WorkerConfig struct {
	Bus Config // URL and Node are not used: the Worker is given its connection
	// Consumer is the durable pull consumer all workers share.
	Consumer string
	// AckWait is how long the stream waits for a message's ack before it
	// delivers it to another worker. A Worker says it is still working
	// (InProgress) every AckWait/3 while it holds a message, so it need
	// not exceed the hooks' time limits; it bounds how long the messages
	// of a worker that died wait.
	AckWait time.Duration
	// MaxDeliver is how often a message is delivered at most: a message
	// whose hooks failed is delivered again after RetryDelay, doubling,
	// and after the last delivery it goes to the dead-letter subject.
	MaxDeliver int
	RetryDelay time.Duration
	// Engine configures the hook engine; its Journal and Journaled are
	// the Worker's.
	Engine script.EngineConfig
	Logger *slog.Logger // nil discards
}

func (c WorkerConfig) withDefaults() WorkerConfig {
	c.Bus = c.Bus.withDefaults()
	if c.Consumer == "" {
		c.Consumer = DefaultConsumer
	}
	if c.AckWait <= 0 {
		c.AckWait = DefaultAckWait
	}
	if c.MaxDeliver <= 0 {
		c.MaxDeliver = DefaultMaxDeliver
	}
	if c.RetryDelay <= 0 {
		c.RetryDelay = DefaultRetryDelay
	}
	if c.Engine.Concurrency <= 0 {
		c.Engine.Concurrency = script.DefaultConcurrency
	}
	if c.Engine.QueueSize <= 0 {
		c.Engine.QueueSize = 4 * c.Engine.Concurrency
	}
	return c
}

// WorkerStats are a Worker's figures.
type WorkerStats struct {
	Received int64 // messages delivered to this worker
	Acked    int64 // of which done: every hook ran and none failed, or no hook wanted them
	Retried  int64 // given back to be delivered again: a hook failed, or the worker stopped
	Dead     int64 // put on the dead-letter subject after the last delivery
	Held     int64 // held now: queued or running
	Fetched  int64 // files fetched from the object store (Config.Files)
	Hooks    script.EngineStats
}

// A Worker runs the hook engine on the events of a shared durable pull
// consumer: the CallCompleted events (lc.*.call) and the FileClosed
// events of files of no call (lc.*.pcap).
//
// A call is one unit of work: when the Worker takes a call's message, it
// reads the call's FileClosed events from lc.<node>.pcap.<hash> (they are
// stored before the call's message) and submits them, then the call, to
// its engine, which runs them in order on one goroutine at a time; the
// message is acknowledged when the call's hooks have all run. So a call's
// hooks run in order and never overlap, whichever worker takes it, as
// long as no worker holds a message past AckWait without saying it is
// still working.
//
// Flow: a Worker holds at most twice the engine's Concurrency messages,
// and asks the consumer for messages only when it has room for them, so
// that every message it is given is at once held and said to be in
// progress: none waits in a client buffer while its AckWait runs out. The
// messages it holds are prepared (the call's file events read, its files
// fetched) in parallel and submitted to the engine as each is ready, so
// that a slow fetch holds up its own message only.
//
// Goroutines: Run's fetch loop; per held message, one that prepares it
// and one that tells the stream it is still in progress; the submitting
// goroutine (the engine's one); the engine's workers.
type Worker struct {
	cfg    WorkerConfig
	nc     *nats.Conn
	js     jetstream.JetStream
	log    *slog.Logger
	set    script.Set
	engine *script.Engine
	stream jetstream.Stream
	files  jetstream.ObjectStore // Bus.Files; nil without

	slots    chan struct{}  // one taken per message held: the fetch loop waits for room
	ready    chan *ticket   // prepared messages with events to submit, to the submitting goroutine
	prepares sync.WaitGroup // the goroutines preparing messages

	received, acked, retried, dead, fetched atomic.Int64

	// Guarded by mu.
	mu      sync.Mutex
	tickets map[string][]*ticket // by the ID of the event that completes them
	failed  map[string]bool      // event IDs a hook failed for
	held    map[*ticket]struct{} // every ticket not yet settled
}

// ticket is a message the Worker holds: the events submitted for it,
// the last of which completes it.
type ticket struct {
	msg     jetstream.Msg
	evs     []event.Event // to submit, once prepared
	stop    func()        // stops the in-progress pings
	cleanup func()        // removes the files fetched for it; nil when none were
}

// end stops t's pings and removes its files.
func (t *ticket) end() {
	t.stop()
	if t.cleanup != nil {
		t.cleanup()
	}
}

// NewWorker returns a Worker that consumes on nc and runs set's hooks.
func NewWorker(nc *nats.Conn, cfg WorkerConfig, set script.Set) (*Worker, error) {
	cfg = cfg.withDefaults()
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	w := &Worker{
		cfg: cfg, nc: nc, js: js, log: log.With("component", "worker"),
		tickets: make(map[string][]*ticket), failed: make(map[string]bool), held: make(map[*ticket]struct{}),
		slots: make(chan struct{}, 2*cfg.Engine.Concurrency),
	}
	w.ready = make(chan *ticket, cap(w.slots))
	w.set = script.Set{Release: set.Release}
	for _, h := range set.Hooks {
		w.set.Hooks = append(w.set.Hooks, trackedHook{Hook: h, w: w})
	}
	ec := cfg.Engine
	ec.Journal, ec.Journaled = workerJournal{w}, nil
	w.engine = script.NewEngine(ec, w.set)
	return w, nil
}

// Run takes messages until ctx is done, then lets the hooks of what it
// holds run until drain is done, gives back (Nak) what it could not
// finish, and returns. It returns an error only when ctx was not done: the
// consumer could not be made, or it was deleted (then the hooks of what it
// holds run to their end).
func (w *Worker) Run(ctx, drain context.Context) error {
	w.engine.LimitWaits(drain)
	cons, err := w.subscribe(ctx)
	if err == nil {
		if stop, werr := w.watchMaxDeliveries(); werr != nil {
			w.log.Warn("messages that run out of deliveries unacknowledged will not be put on the dead-letter subject", "error", werr)
		} else {
			defer stop()
		}
		submitted := make(chan struct{})
		go func() {
			defer close(submitted)
			w.submit()
		}()
		err = w.fetch(ctx, cons)
		w.prepares.Wait()
		close(w.ready)
		<-submitted
	}
	w.engine.Close(drain)
	w.mu.Lock()
	left := make([]*ticket, 0, len(w.held))
	for t := range w.held {
		left = append(left, t)
	}
	w.mu.Unlock()
	for _, t := range left {
		w.settle(t, giveBack, "the worker stopped")
	}
	if ferr := w.nc.Flush(); ferr != nil && !errors.Is(ferr, nats.ErrConnectionClosed) {
		w.log.Warn("flush acks", "error", ferr)
	}
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// Stats returns the figures so far. Safe from any goroutine.
func (w *Worker) Stats() WorkerStats {
	w.mu.Lock()
	held := int64(len(w.held))
	w.mu.Unlock()
	return WorkerStats{
		Received: w.received.Load(), Acked: w.acked.Load(), Retried: w.retried.Load(), Dead: w.dead.Load(),
		Held: held, Fetched: w.fetched.Load(), Hooks: w.engine.Stats(),
	}
}
