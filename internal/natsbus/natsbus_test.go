package natsbus

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lc-voip/lc/internal/event"
	"github.com/lc-voip/lc/internal/natsbus/natstest"
	"github.com/lc-voip/lc/internal/script"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// testCall returns the events of call i: its SIP and RTP files, then the
// call.
func testCall(i int) []event.Event {
	callID := fmt.Sprintf("call-%d@lc.test", i)
	dir := filepath.Join("/out/calls", callID)
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).Add(time.Duration(i) * time.Second)
	sip := event.Identified(event.FileClosed{Path: dir + "/sip.pcap", Kind: event.KindSIP, CallID: callID, Reason: event.ReasonCallEnd, Packets: 7, First: at, Last: at})
	rtp := event.Identified(event.FileClosed{Path: dir + "/rtp.pcap", Kind: event.KindRTP, CallID: callID, Reason: event.ReasonCallEnd, Packets: 100, First: at, Last: at})
	call := event.Identified(event.CallCompleted{CallID: callID, Dirname: dir, CallDate: at, EndDate: at, State: event.StateCompleted, Status: 200,
		SIPFiles: []string{dir + "/sip.pcap"}, RTPFiles: []string{dir + "/rtp.pcap"}})
	return []event.Event{sip, rtp, call}
}

// otherFile returns the event of an "other" file.
func otherFile(i int) event.Event {
	return event.Identified(event.FileClosed{Path: fmt.Sprintf("/out/other/%d.pcap", i), Kind: event.KindOther, Reason: event.ReasonRotateSize})
}

func connect(tb testing.TB, url string) *nats.Conn {
	tb.Helper()
	return connectWith(tb, Config{URL: url})
}

// jsFor is a JetStream context on a connection of its own to url.
func jsFor(tb testing.TB, url string) jetstream.JetStream {
	tb.Helper()
	js, err := jetstream.New(connect(tb, url))
	if err != nil {
		tb.Fatal(err)
	}
	return js
}

// lcStream is the stream lc made on the server at url.
func lcStream(tb testing.TB, url string) jetstream.Stream {
	tb.Helper()
	s, err := jsFor(tb, url).Stream(tb.Context(), DefaultStream)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// connectWith connects as cfg says: its URL, credentials and TLS files.
func connectWith(tb testing.TB, cfg Config) *nats.Conn {
	tb.Helper()
	nc, err := Connect(cfg, tb.Name(), nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(nc.Close)
	return nc
}

// publishAll publishes evs through a hook engine whose only hook is a
// Publisher, as lc process does, and waits until all are acknowledged.
func publishAll(tb testing.TB, url string, evs []event.Event) PublisherStats {
	tb.Helper()
	pub, err := NewPublisher(connect(tb, url), Config{URL: url, Node: "n1"}, nil)
	if err != nil {
		tb.Fatal(err)
	}
	eng := script.NewEngine(script.EngineConfig{Concurrency: 8}, script.Set{Hooks: []script.Hook{pub}})
	for _, ev := range evs {
		pub.Expect(ev)
		eng.Submit(ev)
	}
	st := eng.Close(tb.Context())
	if st.Failed != 0 {
		tb.Fatalf("%d publishes failed", st.Failed)
	}
	ps := pub.Stats()
	if ps.Backlog != 0 {
		tb.Errorf("backlog %d after all were published", ps.Backlog)
	}
	return ps
}

// recorder is a hook that records the events it ran, checks that the
// events of one key never overlap, and can block or fail.
type recorder struct {
	mu      sync.Mutex
	runs    map[string][]string // by key: event IDs in the order they ran
	count   map[string]int      // by event ID
	running map[string]bool     // by key
	errs    []error
	changed chan struct{}
	// block, when set, makes Run wait for the channel to close or its
	// context, after saying so on started.
	block   chan struct{}
	started chan string
	fail    bool
}

func newRecorder() *recorder {
	return &recorder{runs: map[string][]string{}, count: map[string]int{}, running: map[string]bool{}, changed: make(chan struct{}, 1)}
}

func (r *recorder) Name() string          { return "recorder" }
func (r *recorder) Wants(event.Type) bool { return true }

func (r *recorder) Run(ctx context.Context, ev event.Event) error {
	r.mu.Lock()
	if r.running[ev.Key()] {
		r.errs = append(r.errs, fmt.Errorf("%s: two events of the key at once", ev.Key()))
	}
	r.running[ev.Key()] = true
	block := r.block
	r.mu.Unlock()
	if block != nil {
		r.started <- ev.EventID()
		select {
		case <-block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.running[ev.Key()] = false
	r.runs[ev.Key()] = append(r.runs[ev.Key()], ev.EventID())
	r.count[ev.EventID()]++
	select {
	case r.changed <- struct{}{}:
	default:
	}
	if r.fail {
		return errors.New("failing on purpose")
	}
	return nil
}

// waitRuns waits until n events have run, or fails the test.
func (r *recorder) waitRuns(tb testing.TB, n int) {
	tb.Helper()
	deadline := time.After(30 * time.Second)
	for {
		r.mu.Lock()
		got := len(r.count)
		r.mu.Unlock()
		if got >= n {
			return
		}
		select {
		case <-r.changed:
		case <-deadline:
			tb.Fatalf("%d events ran, want %d", got, n)
		}
	}
}

// check checks that every call's events ran once, in order.
func (r *recorder) check(tb testing.TB, calls [][]event.Event) {
	tb.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, err := range r.errs {
		tb.Error(err)
	}
	for _, evs := range calls {
		key := evs[0].Key()
		var want []string
		for _, ev := range evs {
			want = append(want, ev.EventID())
		}
		if got := r.runs[key]; fmt.Sprint(got) != fmt.Sprint(want) {
			tb.Errorf("%s ran %v, want %v", key, got, want)
		}
	}
	for id, n := range r.count {
		if n != 1 {
			tb.Errorf("event %s ran %d times", id, n)
		}
	}
}

// runningWorker is a Worker running in the background.
type runningWorker struct {
	w      *Worker
	nc     *nats.Conn
	cancel context.CancelFunc // stops taking messages
	abort  context.CancelFunc // stops the hooks
	done   chan error
}

// startWorker starts a worker with hook h on a connection of its own.
func startWorker(tb testing.TB, url string, h script.Hook, cfg WorkerConfig) *runningWorker {
	tb.Helper()
	bus := cfg.Bus
	bus.URL = url
	nc := connectWith(tb, bus)
	if cfg.AckWait == 0 {
		cfg.AckWait = 2 * time.Second
	}
	cfg.RetryDelay = 10 * time.Millisecond
	cfg.Engine.Concurrency = 4
	w, err := NewWorker(nc, cfg, script.Set{Hooks: []script.Hook{h}})
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	drain, abort := context.WithCancel(context.Background())
	rw := &runningWorker{w: w, nc: nc, cancel: cancel, abort: abort, done: make(chan error, 1)}
	go func() { rw.done <- w.Run(ctx, drain) }()
	tb.Cleanup(func() { rw.stop(tb) })
	return rw
}

// stop stops the worker gracefully and waits for it.
func (rw *runningWorker) stop(tb testing.TB) {
	rw.cancel()
	select {
	case err := <-rw.done:
		if err != nil {
			tb.Error(err)
		}
		rw.done <- nil
	case <-time.After(30 * time.Second):
		tb.Error("worker did not stop")
	}
}

func flatten(calls [][]event.Event) []event.Event {
	var all []event.Event
	for _, c := range calls {
		all = append(all, c...)
	}
	return all
}

// TestWorkersOrderOnce: the events of 1,000 calls and 100 other files,
// published through the engine, run exactly once on three workers, a
// call's events in order and never at once.
func TestWorkersOrderOnce(t *testing.T) {
	srv := natstest.Start(t)
	var calls [][]event.Event
	for i := range 1000 {
		calls = append(calls, testCall(i))
		if i%10 == 0 {
			calls = append(calls, []event.Event{otherFile(i)})
		}
	}
	all := flatten(calls)
	st := publishAll(t, srv.URL(), all)
	if st.Published != int64(len(all)) || st.Duplicates != 0 {
		t.Errorf("published %+v, want %d", st, len(all))
	}
	rec := newRecorder()
	var workers []*runningWorker
	for range 3 {
		workers = append(workers, startWorker(t, srv.URL(), rec, WorkerConfig{}))
	}
	rec.waitRuns(t, len(all))
	var acked, received int64
	for _, w := range workers {
		w.stop(t)
		ws := w.w.Stats()
		acked += ws.Acked
		received += ws.Received
		if ws.Acked == 0 {
			t.Errorf("a worker did nothing: %+v", ws)
		}
	}
	rec.check(t, calls)
	if want := int64(len(calls)); acked != want || received != want {
		t.Errorf("acked %d of %d received, want %d messages", acked, received, want)
	}
}

// TestPublishDuplicate: the same event published twice is stored, and
// run, once.
func TestPublishDuplicate(t *testing.T) {
	srv := natstest.Start(t)
	call := testCall(1)
	st := publishAll(t, srv.URL(), call)
	st2 := publishAll(t, srv.URL(), call)
	if st.Duplicates != 0 || st2.Duplicates != int64(len(call)) {
		t.Errorf("duplicates: first %d, second %d; want 0 and %d", st.Duplicates, st2.Duplicates, len(call))
	}
	rec := newRecorder()
	w := startWorker(t, srv.URL(), rec, WorkerConfig{})
	rec.waitRuns(t, len(call))
	w.stop(t)
	rec.check(t, [][]event.Event{call})
	if ws := w.w.Stats(); ws.Received != 1 {
		t.Errorf("received %d messages, want 1", ws.Received)
	}
}

// TestWorkerKilled: a worker that dies in the middle of a hook, without
// acknowledging, leaves its message to another worker, which runs the
// call's hooks again.
func TestWorkerKilled(t *testing.T) {
	srv := natstest.Start(t)
	call := testCall(1)
	publishAll(t, srv.URL(), call)
	stuck := newRecorder()
	stuck.block, stuck.started = make(chan struct{}), make(chan string, 10)
	cfg := WorkerConfig{AckWait: time.Second}
	w1 := startWorker(t, srv.URL(), stuck, cfg)
	select {
	case <-stuck.started:
	case <-time.After(10 * time.Second):
		t.Fatal("the hook did not start")
	}
	w1.nc.Close() // dies: neither ack nor nak reaches the stream
	w1.abort()
	w1.stop(t)
	rec := newRecorder()
	w2 := startWorker(t, srv.URL(), rec, cfg)
	rec.waitRuns(t, len(call))
	w2.stop(t)
	rec.check(t, [][]event.Event{call})
	md := w2.w.Stats()
	if md.Received != 1 || md.Acked != 1 {
		t.Errorf("second worker: %+v, want 1 received and acked", md)
	}
}

// TestWorkerDeadLetter: a message whose hook fails on every delivery
// goes to lc.<node>.dead after the last.
func TestWorkerDeadLetter(t *testing.T) {
	srv := natstest.Start(t)
	ev := otherFile(1)
	publishAll(t, srv.URL(), []event.Event{ev})
	rec := newRecorder()
	rec.fail = true
	w := startWorker(t, srv.URL(), rec, WorkerConfig{MaxDeliver: 3})
	deadline := time.Now().Add(20 * time.Second)
	for w.w.Stats().Dead == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	w.stop(t)
	st := w.w.Stats()
	if st.Dead != 1 || st.Retried != 2 || st.Received != 3 {
		t.Errorf("stats %+v, want 3 received, 2 retried, 1 dead", st)
	}
	s := lcStream(t, srv.URL())
	m, err := s.GetLastMsgForSubject(t.Context(), DeadSubject("n1"))
	if err != nil {
		t.Fatal(err)
	}
	if string(m.Data) != string(event.AppendJSON(nil, ev)) || m.Header.Get(HeaderDeliveries) != "3" || m.Header.Get(HeaderSubject) != PcapSubject("n1") {
		t.Errorf("dead letter %q %v", m.Data, m.Header)
	}
}

// TestPublisherServerRestart: events published while the server is down
// wait in the publisher and reach the stream once it is back; with file
// storage nothing stored before is lost.
func TestPublisherServerRestart(t *testing.T) {
	srv := natstest.Start(t)
	var calls [][]event.Event
	for i := range 20 {
		calls = append(calls, testCall(i))
	}
	publishAll(t, srv.URL(), flatten(calls[:10]))
	srv.Shutdown()
	done := make(chan PublisherStats)
	go func() { done <- publishAll(t, srv.URL(), flatten(calls[10:])) }()
	time.Sleep(500 * time.Millisecond) // the publisher retries meanwhile
	srv.Restart()
	select {
	case st := <-done:
		if st.Failures == 0 {
			t.Error("no publish failed while the server was down")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("publishing did not resume")
	}
	rec := newRecorder()
	w := startWorker(t, srv.URL(), rec, WorkerConfig{})
	rec.waitRuns(t, len(flatten(calls)))
	w.stop(t)
	rec.check(t, calls)
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"ok", Config{URL: "nats://x:4222", Node: "pbx1"}, true},
		{"no url", Config{Node: "pbx1"}, false},
		{"dotted node", Config{URL: "nats://x", Node: "pbx.1"}, false},
		{"wildcard stream", Config{URL: "nats://x", Node: "a", Stream: "L*"}, false},
		{"max age", Config{URL: "nats://x", Node: "a", MaxAge: time.Hour}, true},
		{"negative max age", Config{URL: "nats://x", Node: "a", MaxAge: -time.Hour}, false},
		{"max age within the duplicate window", Config{URL: "nats://x", Node: "a", MaxAge: time.Minute}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.cfg.Validate(); (err == nil) != tt.ok {
				t.Errorf("Validate() = %v, want ok %v", err, tt.ok)
			}
		})
	}
}

func TestSubjects(t *testing.T) {
	if got := subjectOf("n", testCall(1)[0]); got != CallFilesSubject("n", "call-1@lc.test") || nodeOf(got) != "n" {
		t.Errorf("call file subject %q", got)
	}
	if got := subjectOf("n", testCall(1)[2]); got != "lc.n.call" {
		t.Errorf("call subject %q", got)
	}
	if got := subjectOf("n", otherFile(1)); got != "lc.n.pcap" {
		t.Errorf("other file subject %q", got)
	}
}

// TestWorkerConsumerDeleted: a worker whose consumer is deleted stops
// with an error that says so, rather than make it again (which would
// deliver every message of the stream again) or try for ever.
func TestWorkerConsumerDeleted(t *testing.T) {
	srv := natstest.Start(t)
	call := testCall(1)
	publishAll(t, srv.URL(), call)
	rec := newRecorder()
	w := startWorker(t, srv.URL(), rec, WorkerConfig{})
	rec.waitRuns(t, len(call))
	if err := jsFor(t, srv.URL()).DeleteConsumer(t.Context(), DefaultStream, DefaultConsumer); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-w.done:
		w.done <- nil
		if err == nil || !strings.Contains(err.Error(), "deleted") {
			t.Errorf("Run returned %v, want an error that says the consumer was deleted", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the worker goes on without its consumer")
	}
}

// TestWorkerDiesOnLastDelivery: a message whose worker dies while it
// holds its last delivery is put on the dead-letter subject by another
// worker, from the server's max-deliveries advisory, and only once.
func TestWorkerDiesOnLastDelivery(t *testing.T) {
	srv := natstest.Start(t)
	ev := otherFile(1)
	publishAll(t, srv.URL(), []event.Event{ev})
	stuck := newRecorder()
	stuck.block, stuck.started = make(chan struct{}), make(chan string, 10)
	cfg := WorkerConfig{AckWait: time.Second, MaxDeliver: 1}
	w1 := startWorker(t, srv.URL(), stuck, cfg)
	select {
	case <-stuck.started:
	case <-time.After(10 * time.Second):
		t.Fatal("the hook did not start")
	}
	var others []*runningWorker
	for range 2 {
		others = append(others, startWorker(t, srv.URL(), newRecorder(), cfg))
	}
	w1.nc.Close() // dies on the message's only delivery
	w1.abort()
	w1.stop(t)

	s := lcStream(t, srv.URL())
	deadline := time.Now().Add(20 * time.Second)
	var m *jetstream.RawStreamMsg
	for m == nil {
		var err error
		if m, err = s.GetLastMsgForSubject(t.Context(), DeadSubject("n1")); err != nil && time.Now().After(deadline) {
			t.Fatalf("no dead letter: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if string(m.Data) != string(event.AppendJSON(nil, ev)) || m.Header.Get(HeaderDeliveries) != "1" || !strings.Contains(m.Header.Get(HeaderReason), "not acknowledged") {
		t.Errorf("dead letter %q %v", m.Data, m.Header)
	}
	var dead int64
	for _, w := range others {
		w.stop(t)
		dead += w.w.Stats().Dead
	}
	info, err := s.Info(t.Context(), jetstream.WithSubjectFilter(DeadSubject("n1")))
	if err != nil {
		t.Fatal(err)
	}
	if stored := info.State.Subjects[DeadSubject("n1")]; dead != 1 || stored != 1 {
		t.Errorf("%d dead letters counted, %d stored; want 1", dead, stored)
	}
}
