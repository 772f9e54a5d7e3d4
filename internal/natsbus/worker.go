package natsbus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
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

// subscribe makes the stream and the consumer, waiting for the broker
// until ctx is done.
func (w *Worker) subscribe(ctx context.Context) (jetstream.Consumer, error) {
	for attempt := 0; ; attempt++ {
		cons, err := w.trySubscribe(ctx)
		if err == nil {
			return cons, nil
		}
		if attempt == 0 {
			w.log.Warn("cannot reach the stream; trying again", "stream", w.cfg.Bus.Stream, "error", err)
		}
		if !sleep(ctx, backoff(attempt, 10*time.Second)) {
			return nil, err
		}
	}
}

func (w *Worker) trySubscribe(ctx context.Context) (jetstream.Consumer, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	s, err := ensureStream(ctx, w.js, w.cfg.Bus)
	if err != nil {
		return nil, err
	}
	w.stream = s
	if w.cfg.Bus.Files != "" {
		if w.files, err = ensureBucket(ctx, w.js, w.cfg.Bus.Files, w.cfg.Bus.MaxAge); err != nil {
			return nil, err
		}
	}
	cc := jetstream.ConsumerConfig{
		Durable:     w.cfg.Consumer,
		Description: "lc hooks worker",
		AckPolicy:   jetstream.AckExplicitPolicy,
		AckWait:     w.cfg.AckWait,
		MaxDeliver:  w.cfg.MaxDeliver,
	}
	if multipleFilters(w.nc.ConnectedServerVersion()) {
		cc.FilterSubjects = []string{subjectRoot + ".*." + callToken, subjectRoot + ".*." + pcapToken}
	} else {
		// Before 2.10 a consumer has one filter: lc.*.* takes the dead
		// letters too, which take skips.
		cc.FilterSubject = subjectRoot + ".*.*"
	}
	cons, err := s.CreateOrUpdateConsumer(ctx, cc)
	if err != nil {
		return nil, fmt.Errorf("consumer %s: %w", w.cfg.Consumer, err)
	}
	return cons, nil
}

// fetchWait is how long one pull request waits for messages. A Worker
// told to stop ends its last pull within it, and gives back what that
// pull brings.
const fetchWait = 500 * time.Millisecond

// fetch asks for as many messages as there is room for, and takes them,
// until ctx is done; it returns an error when the consumer is gone. A
// pull request lost with the connection ends on the client's side after
// fetchWait and a second, so a restarted server costs no more than that.
func (w *Worker) fetch(ctx context.Context, cons jetstream.Consumer) error {
	failures := 0 // in a row
	for {
		room := w.room(ctx)
		if room == 0 {
			return nil
		}
		batch, err := cons.Fetch(room, jetstream.FetchMaxWait(fetchWait))
		if err == nil {
			for msg := range batch.Messages() {
				room--
				w.take(ctx, msg)
			}
			err = batch.Error()
		}
		w.free(room)
		if err == nil || ctx.Err() != nil || w.nc.IsClosed() {
			failures = 0
			continue
		}
		if w.gone(ctx, cons, err) {
			return fmt.Errorf("consumer %s of stream %s was deleted; the worker stops rather than make it again, which would deliver every message the stream holds again", w.cfg.Consumer, w.cfg.Bus.Stream)
		}
		failures++
		level := slog.LevelDebug
		if failures == 1 {
			level = slog.LevelWarn
		}
		w.log.Log(ctx, level, "cannot take messages; trying again", "error", err, "failures_in_a_row", failures)
		sleep(ctx, 100*time.Millisecond)
	}
}

// gone reports whether the pull that failed with err failed because the
// consumer, or its stream, no longer exists.
func (w *Worker) gone(ctx context.Context, cons jetstream.Consumer, err error) bool {
	if errors.Is(err, jetstream.ErrConsumerDeleted) {
		return true
	}
	if !errors.Is(err, nats.ErrNoResponders) {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, getTimeout)
	defer cancel()
	_, err = cons.Info(ctx)
	return errors.Is(err, jetstream.ErrConsumerNotFound) || errors.Is(err, jetstream.ErrStreamNotFound)
}

// room waits until the Worker may hold one more message, and returns how
// many more it may hold, their slots taken; 0 when ctx is done first.
func (w *Worker) room(ctx context.Context) int {
	select {
	case w.slots <- struct{}{}:
	case <-ctx.Done():
		return 0
	}
	if ctx.Err() != nil {
		w.free(1)
		return 0
	}
	n := 1
	for n < cap(w.slots) {
		select {
		case w.slots <- struct{}{}:
			n++
		default:
			return n
		}
	}
	return n
}

// free gives back n slots.
func (w *Worker) free(n int) {
	for range n {
		<-w.slots
	}
}

// multipleFilters reports whether a server of version v takes a consumer
// with several filter subjects: 2.10 and later.
func multipleFilters(v string) bool {
	var major, minor int
	if _, err := fmt.Sscanf(v, "%d.%d", &major, &minor); err != nil {
		return true // not a version we know: assume a new server
	}
	return major > 2 || major == 2 && minor >= 10
}

// isWork reports whether subject is one a worker runs the hooks of:
// lc.<node>.call or lc.<node>.pcap.
func isWork(subject string) bool {
	parts := strings.Split(subject, ".")
	return len(parts) == 3 && parts[0] == subjectRoot && (parts[2] == callToken || parts[2] == pcapToken)
}

// take holds msg, in its slot, and has it prepared; a message that is
// not work (a dead letter, through the one filter of an old server) is
// acknowledged and its slot freed.
func (w *Worker) take(ctx context.Context, msg jetstream.Msg) {
	if !isWork(msg.Subject()) {
		msg.Ack()
		w.free(1)
		return
	}
	w.received.Add(1)
	t := &ticket{msg: msg, stop: w.ping(msg)}
	w.mu.Lock()
	w.held[t] = struct{}{}
	w.mu.Unlock()
	w.prepares.Add(1)
	go func() {
		defer w.prepares.Done()
		if w.prepare(ctx, t) {
			w.ready <- t // never waits: ready has room for every message held
		}
	}()
}

// prepare decodes t's message, reads the file events of a call, and
// fetches the files of the events the hooks want. It sets t.evs and
// reports true, or settles t when there is nothing to run or it cannot be
// prepared.
func (w *Worker) prepare(ctx context.Context, t *ticket) bool {
	if ctx.Err() != nil {
		w.settle(t, giveBack, "the worker stopped")
		return false
	}
	msg := t.msg
	ev, err := event.Decode(msg.Data())
	if err != nil {
		w.bury(t, fmt.Sprintf("not an lc event: %v", err))
		return false
	}
	evs := []event.Event{ev}
	if call, ok := ev.(event.CallCompleted); ok {
		files, err := w.callFiles(ctx, msg, call)
		if err != nil {
			w.settle(t, giveBack, fmt.Sprintf("read the call's files: %v", err))
			return false
		}
		evs = append(files, ev)
	}
	var wanted []event.Event
	for _, e := range evs {
		if wants(w.set.Hooks, e.Type()) {
			wanted = append(wanted, e)
		}
	}
	if len(wanted) == 0 {
		w.settle(t, done, "")
		return false
	}
	if root := msg.Headers().Get(HeaderRoot); w.files != nil && root != "" {
		local, cleanup, err := w.fetchFiles(ctx, w.files, nodeOf(msg.Subject()), root, wanted)
		if err != nil {
			result := failed // a file that cannot be fetched ends as a dead letter
			if ctx.Err() != nil {
				result = giveBack
			}
			w.settle(t, result, err.Error())
			return false
		}
		wanted, t.cleanup = local, cleanup
	}
	t.evs = wanted
	return true
}

// submit submits the events of each prepared message to the engine,
// until Run closes w.ready.
func (w *Worker) submit() {
	for t := range w.ready {
		last := t.evs[len(t.evs)-1].EventID()
		w.mu.Lock()
		w.tickets[last] = append(w.tickets[last], t)
		w.mu.Unlock()
		for _, e := range t.evs {
			w.engine.Submit(e)
		}
	}
}

func wants(hooks []script.Hook, t event.Type) bool {
	for _, h := range hooks {
		if h.Wants(t) {
			return true
		}
	}
	return false
}

// callFiles reads the FileClosed events of call's files, stored before
// msg on the call's files subject, in the order they were published; an
// event stored twice (published again beyond the duplicate window) is
// taken once.
func (w *Worker) callFiles(ctx context.Context, msg jetstream.Msg, call event.CallCompleted) ([]event.Event, error) {
	paths := call.Files()
	if len(paths) == 0 {
		return nil, nil
	}
	md, err := msg.Metadata()
	if err != nil {
		return nil, err
	}
	want := make(map[string]bool, len(paths))
	for _, p := range paths {
		want[p] = true
	}
	subject := CallFilesSubject(nodeOf(msg.Subject()), call.CallID)
	seen := make(map[string]bool)
	var files []event.Event
	for seq := uint64(1); seq < md.Sequence.Stream; {
		raw, err := w.getMsg(ctx, seq, subject)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			break
		}
		if err != nil {
			return nil, err
		}
		if raw.Sequence >= md.Sequence.Stream {
			break
		}
		seq = raw.Sequence + 1
		ev, err := event.Decode(raw.Data)
		f, ok := ev.(event.FileClosed)
		if err != nil || !ok || f.CallID != call.CallID || !want[f.Path] || seen[f.ID] {
			continue // another call of the same Call-ID, or a duplicate
		}
		seen[f.ID] = true
		files = append(files, f)
	}
	if len(files) < len(paths) {
		w.log.Warn("the stream no longer has every file event of the call; running the hooks of those it has",
			"callid", call.CallID, "files", len(paths), "found", len(files))
	}
	return files, nil
}

// getMsg tries up to three times, each within getTimeout, to read the
// first message on subject from seq on: a request lost with the
// connection is not waited for longer than that.
func (w *Worker) getMsg(ctx context.Context, seq uint64, subject string) (*jetstream.RawStreamMsg, error) {
	var err error
	for attempt := range 3 {
		if attempt > 0 && !sleep(ctx, backoff(attempt, time.Second)) {
			break
		}
		actx, cancel := context.WithTimeout(ctx, getTimeout)
		var raw *jetstream.RawStreamMsg
		raw, err = w.stream.GetMsg(actx, seq, jetstream.WithGetMsgSubject(subject))
		cancel()
		if err == nil || errors.Is(err, jetstream.ErrMsgNotFound) || ctx.Err() != nil {
			return raw, err
		}
	}
	return nil, err
}

// getTimeout bounds one attempt of getMsg.
const getTimeout = 2 * time.Second

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
