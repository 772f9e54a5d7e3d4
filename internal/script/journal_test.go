package script

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/lc-voip/lc/internal/event"
)

// memJournal is a Journal in memory: what is open, with its notes, and
// every record in order.
type memJournal struct {
	failEnd error // End's error, when set
	mu      sync.Mutex
	open    map[string][]string // notes of open items
	data    map[string][]byte
	order   []string // keys in the order begun
	records []string
}

func newMemJournal() *memJournal {
	return &memJournal{open: map[string][]string{}, data: map[string][]byte{}}
}

func (m *memJournal) Begin(id string, data []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.open[id]; ok {
		return ErrPending
	}
	m.open[id], m.data[id] = []string{}, data
	m.order = append(m.order, id)
	m.records = append(m.records, "begin "+id)
	return nil
}

func (m *memJournal) Note(id string, data []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.open[id]; ok {
		m.open[id] = append(m.open[id], string(data))
	}
	m.records = append(m.records, "note "+id+" "+string(data))
	return nil
}

func (m *memJournal) End(id string) error {
	if m.failEnd != nil {
		return m.failEnd
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.open, id)
	m.records = append(m.records, "end "+id)
	return nil
}

func (m *memJournal) Data(id string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.open[id]; !ok {
		return nil, fmt.Errorf("no open item %q", id)
	}
	return m.data[id], nil
}

// pending returns the open items in the order begun, with their notes.
func (m *memJournal) pending() (keys []string, notes [][]string, data [][]byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, k := range m.order {
		if n, ok := m.open[k]; ok {
			keys, notes, data = append(keys, k), append(notes, n), append(data, m.data[k])
		}
	}
	return keys, notes, data
}

func identified(call string) event.Event { return event.Identified(callEvent(call)) }

// TestEngineJournal: every wanted event is begun before it runs, each
// hook's end is noted, and the event is ended after its last hook;
// events no hook wants are not journaled.
func TestEngineJournal(t *testing.T) {
	j := newMemJournal()
	ok := funcHook{name: "a", run: func(context.Context, event.Event) error { return nil }}
	fails := funcHook{name: "b", run: func(context.Context, event.Event) error { return fmt.Errorf("boom") }}
	onlyCalls := func(t event.Type) bool { return t == event.TypeCallCompleted }
	ok.want, fails.want = onlyCalls, onlyCalls
	e := NewEngine(EngineConfig{Journal: j}, Set{Hooks: []Hook{ok, fails}})
	ev := identified("c1")
	e.Submit(ev)
	e.Submit(event.Identified(fileEvent("c1", 0)))
	e.Close(t.Context())
	key := JournalPrefix + ev.(event.CallCompleted).ID
	want := []string{"begin " + key, "note " + key + " a", "note " + key + " b", "end " + key}
	if !slices.Equal(j.records, want) {
		t.Errorf("journal records:\n%q\nwant\n%q", j.records, want)
	}
}

// TestEngineJournalUnrunStays: hooks stopped or never run at Close's
// deadline leave their events in the journal, and a replay runs just the
// hooks that had not finished, then ends the event.
func TestEngineJournalUnrunStays(t *testing.T) {
	j := newMemJournal()
	first := funcHook{name: "first", run: func(context.Context, event.Event) error { return nil }}
	stuck := funcHook{name: "stuck", run: func(ctx context.Context, _ event.Event) error {
		<-ctx.Done()
		return ctx.Err()
	}}
	e := NewEngine(EngineConfig{Concurrency: 1, Journal: j}, Set{Hooks: []Hook{first, stuck}})
	a, b := identified("a"), identified("b")
	e.Submit(a)
	e.Submit(b)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	e.Close(ctx)
	keys, notes, data := j.pending()
	if len(keys) != 2 || !slices.Equal(notes[0], []string{"first"}) || len(notes[1]) != 0 {
		t.Fatalf("pending after the deadline: %q %q", keys, notes)
	}

	var mu sync.Mutex
	var ran []string
	record := func(name string) Hook {
		return funcHook{name: name, run: func(_ context.Context, ev event.Event) error {
			mu.Lock()
			ran = append(ran, name+":"+ev.(event.CallCompleted).CallID)
			mu.Unlock()
			return nil
		}}
	}
	e = NewEngine(EngineConfig{Concurrency: 1, Journal: j}, Set{Hooks: []Hook{record("first"), record("stuck")}})
	for i := range keys {
		ev, err := event.Decode(data[i])
		if err != nil {
			t.Fatal(err)
		}
		e.Replay(ev, notes[i])
	}
	st := e.Close(t.Context())
	if want := []string{"stuck:a", "first:b", "stuck:b"}; !slices.Equal(ran, want) {
		t.Errorf("replay ran %q, want %q", ran, want)
	}
	if st.Replayed != 2 {
		t.Errorf("Replayed = %d, want 2", st.Replayed)
	}
	if keys, _, _ := j.pending(); len(keys) != 0 {
		t.Errorf("still pending after the replay: %q", keys)
	}
}

// TestEngineJournaled: Submit calls Journaled after the event is in the
// journal and before any hook can end it, for wanted and unwanted events;
// an event the journal holds already is left to its replay.
func TestEngineJournaled(t *testing.T) {
	j := newMemJournal()
	calls := func(t event.Type) bool { return t == event.TypeCallCompleted }
	gate := make(chan struct{})
	hook := funcHook{name: "h", want: calls, run: func(context.Context, event.Event) error { <-gate; return nil }}
	var seen []string
	e := NewEngine(EngineConfig{Journal: j, Journaled: func(ev event.Event) {
		j.mu.Lock()
		seen = append(seen, fmt.Sprintf("%s after %d records", ev.Type(), len(j.records)))
		j.mu.Unlock()
	}}, Set{Hooks: []Hook{hook}})
	call := identified("c")
	e.Submit(event.Identified(fileEvent("c", 0)))
	e.Submit(call)
	e.Submit(call) // reported again while its hook runs: it is in the journal already
	close(gate)
	st := e.Close(t.Context())
	want := []string{"file_closed after 0 records", "call_completed after 1 records", "call_completed after 1 records"}
	if !slices.Equal(seen, want) {
		t.Errorf("Journaled calls %q, want %q", seen, want)
	}
	if st.Runs != 1 || st.JournalErrors != 0 {
		t.Errorf("runs %d, journal errors %d; want 1, 0", st.Runs, st.JournalErrors)
	}
}

// TestEngineReplayUnwanted: a replayed event no hook wants any more is
// ended in the journal; a failure to end it is counted, and the engine
// goes on.
func TestEngineReplayUnwanted(t *testing.T) {
	j := newMemJournal()
	j.failEnd = fmt.Errorf("disk full")
	e := NewEngine(EngineConfig{Journal: j}, Set{})
	done := make(chan struct{})
	go func() {
		e.Replay(identified("x"), nil)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("Replay of an unwanted event did not return")
	}
	if st := e.Close(t.Context()); st.JournalErrors != 1 || st.Replayed != 1 {
		t.Errorf("stats %+v, want 1 journal error and 1 replayed", st)
	}
}

// TestEngineDoneAfterJournalEnd: with a journal, Done comes after the
// event is ended in it; a replay calls it once for the event, and a
// Submit of the same event while its replay is pending leaves it to the
// replay.
func TestEngineDoneAfterJournalEnd(t *testing.T) {
	j := newMemJournal()
	gate := make(chan struct{})
	hook := funcHook{name: "h", run: func(context.Context, event.Event) error { <-gate; return nil }}
	var seen []string
	e := NewEngine(EngineConfig{Journal: j, Done: func(ev event.Event) {
		j.mu.Lock()
		_, open := j.open[JournalPrefix+ev.EventID()]
		seen = append(seen, fmt.Sprintf("%s open=%v", ev.(event.CallCompleted).CallID, open))
		j.mu.Unlock()
	}}, Set{Hooks: []Hook{hook}})
	old := identified("old")
	j.Begin(JournalPrefix+old.EventID(), event.AppendJSON(nil, old))
	e.Replay(old, nil)
	e.Submit(old) // reported again while its replay waits: ErrPending
	e.Submit(identified("new"))
	close(gate)
	e.Close(t.Context())
	slices.Sort(seen)
	if want := []string{"new open=false", "old open=false"}; !slices.Equal(seen, want) {
		t.Errorf("Done saw %q, want %q", seen, want)
	}

	// An event whose end the journal could not write is still in it:
	// not done.
	j = newMemJournal()
	j.failEnd = fmt.Errorf("disk full")
	var done int
	e = NewEngine(EngineConfig{Journal: j, Done: func(event.Event) { done++ }}, Set{Hooks: []Hook{hook}})
	e.Submit(identified("x"))
	if st := e.Close(t.Context()); done != 0 || st.JournalErrors != 1 {
		t.Errorf("Done called %d times, %d journal errors; want 0, 1", done, st.JournalErrors)
	}
}
