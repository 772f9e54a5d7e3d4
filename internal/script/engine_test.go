package script

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/lc-voip/lc/internal/event"
)

// funcHook is a Hook made of a function, for engine tests.
type funcHook struct {
	name string
	want func(event.Type) bool
	run  func(context.Context, event.Event) error
}

func (h funcHook) Name() string                                  { return h.name }
func (h funcHook) Wants(t event.Type) bool                       { return h.want == nil || h.want(t) }
func (h funcHook) Run(ctx context.Context, ev event.Event) error { return h.run(ctx, ev) }

func fileEvent(call string, part int) event.Event {
	return event.FileClosed{CallID: call, Path: fmt.Sprintf("/out/%s_%d.pcap", call, part), Part: part}
}

func callEvent(call string) event.Event { return event.CallCompleted{CallID: call} }

// TestEngineOrderPerCall checks that one call's events run in order and
// never overlap, each exactly once, while calls run in parallel.
func TestEngineOrderPerCall(t *testing.T) {
	const calls, files = 40, 3
	var (
		mu      sync.Mutex
		order   = map[string][]string{}
		running = map[string]bool{}
		maxPar  atomic.Int32
		par     atomic.Int32
	)
	hook := funcHook{name: "record", run: func(_ context.Context, ev event.Event) error {
		n := par.Add(1)
		defer par.Add(-1)
		for {
			m := maxPar.Load()
			if n <= m || maxPar.CompareAndSwap(m, n) {
				break
			}
		}
		key := ev.Key()
		mu.Lock()
		if running[key] {
			t.Errorf("two events of %s overlap", key)
		}
		running[key] = true
		mu.Unlock()
		mu.Lock()
		running[key] = false
		order[key] = append(order[key], fmt.Sprint(ev))
		mu.Unlock()
		return nil
	}}
	e := NewEngine(EngineConfig{Concurrency: 4, QueueSize: 8}, Set{Hooks: []Hook{hook}})
	var want = map[string][]string{}
	for f := range files {
		for c := range calls {
			ev := fileEvent(fmt.Sprint("c", c), f)
			e.Submit(ev)
			want[ev.Key()] = append(want[ev.Key()], fmt.Sprint(ev))
		}
	}
	for c := range calls {
		ev := callEvent(fmt.Sprint("c", c))
		e.Submit(ev)
		want[ev.Key()] = append(want[ev.Key()], fmt.Sprint(ev))
	}
	st := e.Close(t.Context())
	if st.Events != calls*(files+1) || st.Runs != st.Events || st.Failed != 0 || st.Unrun != 0 {
		t.Fatalf("stats %+v", st)
	}
	for key, w := range want {
		if fmt.Sprint(order[key]) != fmt.Sprint(w) {
			t.Errorf("%s ran %v, want %v", key, order[key], w)
		}
	}
}

// TestEngineParallelAcrossCalls blocks the first events of two calls until
// both run: with one worker per call this can only finish if they run at
// the same time.
func TestEngineParallelAcrossCalls(t *testing.T) {
	var both sync.WaitGroup
	both.Add(2)
	hook := funcHook{name: "meet", run: func(ctx context.Context, _ event.Event) error {
		both.Done()
		done := make(chan struct{})
		go func() { both.Wait(); close(done) }()
		select {
		case <-done:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}}
	e := NewEngine(EngineConfig{Concurrency: 2}, Set{Hooks: []Hook{hook}})
	e.Submit(callEvent("a"))
	e.Submit(callEvent("b"))
	if st := e.Close(t.Context()); st.Runs != 2 || st.Failed != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// TestEngineQueueFull checks that Submit waits, rather than drops, when
// the queue is full.
func TestEngineQueueFull(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{}, 10)
	hook := funcHook{name: "block", run: func(context.Context, event.Event) error {
		started <- struct{}{}
		<-release
		return nil
	}}
	e := NewEngine(EngineConfig{Concurrency: 1, QueueSize: 2}, Set{Hooks: []Hook{hook}})
	e.Submit(callEvent("a"))
	<-started
	e.Submit(callEvent("b")) // queue now holds 2: full
	submitted := make(chan struct{})
	go func() {
		e.Submit(callEvent("c"))
		close(submitted)
	}()
	for e.Stats().FullWaits == 0 { // until the third Submit is waiting
		runtime.Gosched()
	}
	select {
	case <-submitted:
		t.Fatal("Submit returned while the queue was full")
	default:
	}
	close(release)
	<-submitted
	st := e.Close(t.Context())
	if st.Runs != 3 || st.FullWaits != 1 {
		t.Fatalf("stats %+v, want 3 runs and 1 wait", st)
	}
}

// TestEngineCloseDeadline gives up on a hook that does not finish: it is
// told to stop, and what never started is counted as unrun.
func TestEngineCloseDeadline(t *testing.T) {
	started := make(chan struct{})
	stopped := make(chan error, 1)
	hook := funcHook{name: "stuck", run: func(ctx context.Context, ev event.Event) error {
		if ev.(event.CallCompleted).CallID == "first" {
			close(started)
			<-ctx.Done()
			stopped <- ctx.Err()
			return fmt.Errorf("%w: stopped", ErrTimeout)
		}
		return nil
	}}
	e := NewEngine(EngineConfig{Concurrency: 1}, Set{Hooks: []Hook{hook, hook}})
	e.Submit(callEvent("first"))
	e.Submit(callEvent("second"))
	e.Submit(callEvent("third"))
	<-started
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	st := e.Close(ctx)
	if err := <-stopped; !errors.Is(err, context.Canceled) {
		t.Fatalf("running hook saw %v", err)
	}
	// "first" ran its first hook (timed out), not its second; the two
	// other events ran nothing: 1 + 2 + 2 unrun.
	if st.Runs != 1 || st.TimedOut != 1 || st.Unrun != 5 {
		t.Fatalf("stats %+v", st)
	}
}

// TestEngineFailureIsolated checks that a failing hook is counted and does
// not stop the next hook or event.
func TestEngineFailureIsolated(t *testing.T) {
	var ran atomic.Int32
	fail := funcHook{name: "fail", run: func(context.Context, event.Event) error { return errors.New("boom") }}
	ok := funcHook{name: "ok", run: func(context.Context, event.Event) error { ran.Add(1); return nil }}
	e := NewEngine(EngineConfig{}, Set{Hooks: []Hook{fail, ok}})
	for i := range 5 {
		e.Submit(fileEvent("x", i))
	}
	st := e.Close(t.Context())
	if st.Runs != 10 || st.Failed != 5 || ran.Load() != 5 {
		t.Fatalf("stats %+v, ok ran %d times", st, ran.Load())
	}
}

// TestEngineUnwanted checks that events no hook wants are not queued.
func TestEngineUnwanted(t *testing.T) {
	onlyCalls := funcHook{name: "calls", want: func(t event.Type) bool {
		return t == event.TypeCallCompleted
	}, run: func(context.Context, event.Event) error { return nil }}
	e := NewEngine(EngineConfig{}, Set{Hooks: []Hook{onlyCalls}})
	e.Submit(fileEvent("x", 0))
	e.Submit(callEvent("x"))
	if st := e.Close(t.Context()); st.Events != 1 || st.Runs != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// TestEngineReplace checks that events keep the hooks they were submitted
// under, that new events get the new hooks, that the old hooks are
// released once no event uses them, and the hooks in place by Close.
func TestEngineReplace(t *testing.T) {
	release := make(chan struct{})
	var mu sync.Mutex
	var ran []string
	hook := func(name string, block chan struct{}) Hook {
		return funcHook{name: name, run: func(_ context.Context, ev event.Event) error {
			if block != nil {
				<-block
			}
			mu.Lock()
			ran = append(ran, name+":"+ev.(event.CallCompleted).CallID)
			mu.Unlock()
			return nil
		}}
	}
	gate := make(chan struct{})
	released := false
	e := NewEngine(EngineConfig{Concurrency: 2}, Set{Hooks: []Hook{hook("old", gate)}, Release: func() { released = true; close(release) }})
	e.Submit(callEvent("a"))
	var newReleased atomic.Bool
	e.Replace(Set{Hooks: []Hook{hook("new", nil)}, Release: func() { newReleased.Store(true) }})
	if released {
		t.Fatal("old hooks released while an event still uses them")
	}
	e.Submit(callEvent("b"))
	close(gate)
	<-release
	if newReleased.Load() {
		t.Fatal("the hooks in place released before Close")
	}
	e.Close(t.Context())
	if !newReleased.Load() {
		t.Fatal("Close did not release the hooks in place")
	}
	mu.Lock()
	defer mu.Unlock()
	slices.Sort(ran)
	if fmt.Sprint(ran) != "[new:b old:a]" {
		t.Fatalf("ran %v", ran)
	}
}

// TestEngineStatsByHook: every hook is counted on its own, each known at
// zero from the start, a reloaded one from its Replace.
func TestEngineStatsByHook(t *testing.T) {
	ok := funcHook{name: "ok", run: func(context.Context, event.Event) error { return nil }}
	slow := funcHook{name: "slow", run: func(context.Context, event.Event) error { return fmt.Errorf("killed: %w", ErrTimeout) }}
	unused := funcHook{name: "unused", want: func(event.Type) bool { return false }}
	e := NewEngine(EngineConfig{}, Set{Hooks: []Hook{ok, slow, unused}})
	if st := e.Stats(); fmt.Sprint(st.Hooks) != "map[ok:{0 0 0} slow:{0 0 0} unused:{0 0 0}]" {
		t.Fatalf("hooks at start: %v", st.Hooks)
	}
	for i := range 3 {
		e.Submit(fileEvent("x", i))
	}
	late := funcHook{name: "late", run: func(context.Context, event.Event) error { return errors.New("boom") }}
	e.Replace(Set{Hooks: []Hook{late}})
	if st := e.Stats(); st.Hooks["late"] != (HookStats{}) {
		t.Fatalf("reloaded hook: %v", st.Hooks)
	}
	e.Submit(callEvent("y"))
	st := e.Close(t.Context())
	want := map[string]HookStats{"ok": {Runs: 3}, "slow": {Runs: 3, Failed: 3, TimedOut: 3}, "unused": {}, "late": {Runs: 1, Failed: 1}}
	if fmt.Sprint(st.Hooks) != fmt.Sprint(want) {
		t.Errorf("by hook %v, want %v", st.Hooks, want)
	}
	if st.Runs != 7 || st.Failed != 4 || st.TimedOut != 3 {
		t.Errorf("totals %+v", st)
	}
	st.Hooks["ok"] = HookStats{}
	if e.Stats().Hooks["ok"].Runs != 3 {
		t.Error("Stats shares its map with the Engine")
	}
}

// TestEngineDone: Done is called once per event, after the last of its
// hooks finished (a failed one counts), or at once when no hook wants the
// event; never for an event whose hooks the Close deadline stopped or
// never started.
func TestEngineDone(t *testing.T) {
	var (
		mu   sync.Mutex
		done []string
		ran  = map[string]int{}
	)
	record := func(ev event.Event) {
		mu.Lock()
		defer mu.Unlock()
		name := ev.Type().String() + ":" + ev.Key()
		if ev.Type() == event.TypeCallCompleted && ran[ev.Key()] != 2 {
			t.Errorf("Done(%s) after %d hook runs, want 2", name, ran[ev.Key()])
		}
		done = append(done, name)
	}
	count := func(_ context.Context, ev event.Event) error {
		mu.Lock()
		ran[ev.Key()]++
		mu.Unlock()
		return nil
	}
	calls := func(t event.Type) bool { return t == event.TypeCallCompleted }
	ok := funcHook{name: "ok", want: calls, run: count}
	fails := funcHook{name: "fails", want: calls, run: func(ctx context.Context, ev event.Event) error {
		count(ctx, ev)
		return errors.New("boom")
	}}
	e := NewEngine(EngineConfig{Concurrency: 2, Done: record}, Set{Hooks: []Hook{ok, fails}})
	e.Submit(fileEvent("a", 0)) // no hook wants it: done at once
	mu.Lock()
	if !slices.Equal(done, []string{"file_closed:call:a"}) {
		t.Errorf("after an unwanted event, Done saw %q", done)
	}
	mu.Unlock()
	e.Submit(callEvent("a"))
	e.Submit(callEvent("b"))
	e.Close(t.Context())
	slices.Sort(done)
	if want := []string{"call_completed:call:a", "call_completed:call:b", "file_closed:call:a"}; !slices.Equal(done, want) {
		t.Errorf("Done saw %q, want %q", done, want)
	}

	// A hook stopped by the deadline, and the events never started: no Done.
	started := make(chan struct{})
	stuck := funcHook{name: "stuck", run: func(ctx context.Context, _ event.Event) error {
		close(started)
		<-ctx.Done()
		return ctx.Err()
	}}
	var late atomic.Int32
	e = NewEngine(EngineConfig{Concurrency: 1, Done: func(event.Event) { late.Add(1) }}, Set{Hooks: []Hook{stuck}})
	e.Submit(callEvent("x"))
	e.Submit(callEvent("y"))
	<-started
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if st := e.Close(ctx); st.Unrun != 1 {
		t.Errorf("stats %+v, want 1 unrun", st)
	}
	if n := late.Load(); n != 0 {
		t.Errorf("Done called %d times for events whose hooks did not finish", n)
	}
}
