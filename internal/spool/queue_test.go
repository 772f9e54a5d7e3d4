package spool

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// event mirrors the shape of lc's hook events: a union of pointers to
// structs holding times, strings and slices.
type event struct {
	File *fileEvent
	Call *callEvent
}

type fileEvent struct {
	Path        string
	Kind        string
	CallID      string
	Part        int
	Packets     int64
	Bytes       int64
	First, Last time.Time
}

type stream struct {
	Media, Addr, RTCP string
	Packets           int64
}

type callEvent struct {
	CallID, Dirname   string
	CallDate, EndDate time.Time
	Status            int
	Partial           bool
	SIPFiles          []string
	RTPFiles          []string
	Streams           []stream
}

// makeEvent returns the i-th event of a test sequence. Its times are in
// UTC and its slices are not empty, so it survives gob unchanged under
// reflect.DeepEqual.
func makeEvent(i int) event {
	at := time.Unix(1_700_000_000+int64(i), int64(i)%1e9).UTC()
	id := fmt.Sprintf("call-%d@example.org", i)
	if i%3 != 0 {
		return event{File: &fileEvent{
			Path: fmt.Sprintf("/var/lc/calls/%d_sip.pcap", i), Kind: "sip", CallID: id,
			Part: i % 4, Packets: int64(i), Bytes: int64(i) * 100, First: at, Last: at.Add(time.Second),
		}}
	}
	return event{Call: &callEvent{
		CallID: id, Dirname: "/var/lc/calls/" + id, CallDate: at, EndDate: at.Add(time.Minute),
		Status: 200, Partial: i%2 == 0,
		SIPFiles: []string{id + "_sip.pcap"}, RTPFiles: []string{id + "_rtp.pcap", id + "_rtp_1.pcap"},
		Streams: []stream{{Media: "audio", Addr: "192.0.2.1:4000", RTCP: "192.0.2.1:4001", Packets: int64(i)}},
	}}
}

// mustGet takes one item from q, failing the test if there is none.
func mustGet[T any](tb testing.TB, q *Queue[T]) T {
	tb.Helper()
	v, ok, err := q.Get(tb.Context())
	if err != nil || !ok {
		tb.Fatalf("Get = ok %v, err %v; want an item", ok, err)
	}
	return v
}

// checkEvent fails the test unless got is makeEvent(i).
func checkEvent(tb testing.TB, got event, i int) {
	tb.Helper()
	if want := makeEvent(i); !reflect.DeepEqual(got, want) {
		tb.Fatalf("item %d: got %+v %+v, want %+v %+v", i, got.File, got.Call, want.File, want.Call)
	}
}

// dirFiles lists the names in dir.
func dirFiles(tb testing.TB, dir string) []string {
	tb.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func removeAtEnd[T any](tb testing.TB, q *Queue[T]) {
	tb.Helper()
	tb.Cleanup(func() {
		if err := q.Remove(); err != nil {
			tb.Error(err)
		}
	})
}

// TestOrderAcrossSpills interleaves Put and Get on one goroutine so that
// the queue goes from memory to disk and back many times, and checks that
// every item comes out once, in order.
func TestOrderAcrossSpills(t *testing.T) {
	const total = 100_000
	dir := t.TempDir()
	q := New[event](Config{Dir: dir, Memory: 64})
	removeAtEnd(t, q)

	put, got, drains := 0, 0, 0
	onDisk := false
	for step := 0; got < total; step++ {
		puts := (step % 17) * 13 // the writer is ahead for most steps...
		gets := (step % 11) * 11
		if step%25 == 24 {
			gets = total // ...and the reader catches up now and then
		}
		for ; puts > 0 && put < total; puts-- {
			if err := q.Put(makeEvent(put)); err != nil {
				t.Fatal(err)
			}
			put++
		}
		onDisk = onDisk || q.Stats().OnDisk > 0
		for ; gets > 0 && got < put; gets-- {
			checkEvent(t, mustGet(t, q), got)
			got++
			if onDisk && q.Stats().OnDisk == 0 {
				onDisk = false
				drains++
				checkSpillEmpty(t, dir)
			}
		}
	}
	st := q.Stats()
	if st.Queued != 0 || st.OnDisk != 0 || st.Lost != 0 {
		t.Errorf("Stats after drain = %+v; want nothing queued or lost", st)
	}
	if st.Spilled == 0 || st.Spilled == total || drains < 20 {
		t.Errorf("spilled %d of %d items over %d drains; want a mix of memory and disk with many drains", st.Spilled, total, drains)
	}
}

// checkSpillEmpty fails unless dir holds one spill file, truncated.
func checkSpillEmpty(tb testing.TB, dir string) {
	tb.Helper()
	names := dirFiles(tb, dir)
	if len(names) != 1 {
		tb.Fatalf("dir holds %q; want one spill file", names)
	}
	fi, err := os.Stat(filepath.Join(dir, names[0]))
	if err != nil {
		tb.Fatal(err)
	}
	if fi.Size() != 0 {
		tb.Fatalf("spill file is %d bytes after the reader caught up; want 0", fi.Size())
	}
}

// TestConcurrentOrder runs a producer and a consumer on their own
// goroutines, with Stats read from a third, and checks order and counts.
func TestConcurrentOrder(t *testing.T) {
	const total, head = 20_000, 1_000
	q := New[event](Config{Dir: t.TempDir(), Memory: 64})
	removeAtEnd(t, q)

	started := make(chan struct{})
	go func() {
		for i := range total {
			if i == head {
				close(started) // the first items spill before the consumer starts
			}
			if err := q.Put(makeEvent(i)); err != nil {
				t.Error(err)
			}
		}
		q.Close()
	}()
	var wg sync.WaitGroup
	wg.Go(func() {
		for range 1_000 {
			if st := q.Stats(); st.OnDisk > st.Queued {
				t.Errorf("Stats = %+v: more on disk than queued", st)
			}
		}
	})

	<-started
	for i := range total {
		checkEvent(t, mustGet(t, q), i)
	}
	if _, ok, err := q.Get(t.Context()); ok || err != nil {
		t.Errorf("Get after the last item = ok %v, err %v; want false, nil", ok, err)
	}
	wg.Wait()
	if st := q.Stats(); st.Queued != 0 || st.Lost != 0 || st.Spilled < head-64 {
		t.Errorf("Stats = %+v; want nothing queued or lost and at least %d spilled", st, head-64)
	}
}

type result[T any] struct {
	v   T
	ok  bool
	err error
}

// getAsync calls Get on its own goroutine and delivers the result.
func getAsync[T any](ctx context.Context, q *Queue[T]) <-chan result[T] {
	c := make(chan result[T], 1)
	go func() {
		v, ok, err := q.Get(ctx)
		c <- result[T]{v, ok, err}
	}()
	return c
}

func TestGetWaits(t *testing.T) {
	tests := []struct {
		name   string
		wake   func(*Queue[int], context.CancelFunc)
		wantOK bool
	}{
		{"put", func(q *Queue[int], _ context.CancelFunc) { _ = q.Put(7) }, true},
		{"close", func(q *Queue[int], _ context.CancelFunc) { q.Close() }, false},
		{"cancel", func(_ *Queue[int], cancel context.CancelFunc) { cancel() }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := New[int](Config{Dir: t.TempDir(), Memory: 4})
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			res := getAsync(ctx, q)
			select {
			case r := <-res:
				t.Fatalf("Get on an empty queue returned %+v", r)
			default:
			}
			tt.wake(q, cancel)
			r := <-res
			if r.err != nil || r.ok != tt.wantOK || (r.ok && r.v != 7) {
				t.Errorf("Get = %+v; want ok %v", r, tt.wantOK)
			}
		})
	}
}

func TestGetDoneContext(t *testing.T) {
	q := New[int](Config{Dir: t.TempDir()})
	if err := q.Put(1); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, ok, err := q.Get(ctx); ok || err != nil {
		t.Errorf("Get with a done context = ok %v, err %v; want false, nil", ok, err)
	}
	if got := q.Stats().Queued; got != 1 {
		t.Errorf("Queued = %d; want the item still queued", got)
	}
}

func TestCloseDrains(t *testing.T) {
	const total = 500
	q := New[event](Config{Dir: t.TempDir(), Memory: 8})
	removeAtEnd(t, q)
	for i := range total {
		if err := q.Put(makeEvent(i)); err != nil {
			t.Fatal(err)
		}
	}
	q.Close()
	if err := q.Put(makeEvent(total)); !errors.Is(err, ErrClosed) {
		t.Errorf("Put after Close = %v; want ErrClosed", err)
	}
	for i := range total {
		checkEvent(t, mustGet(t, q), i)
	}
	for range 2 {
		if _, ok, err := q.Get(t.Context()); ok || err != nil {
			t.Errorf("Get on a closed, drained queue = ok %v, err %v; want false, nil", ok, err)
		}
	}
	want := Stats{Spilled: total - 8, Lost: 1}
	if st := q.Stats(); st != want {
		t.Errorf("Stats = %+v; want %+v", st, want)
	}
}

func TestMemoryDefault(t *testing.T) {
	q := New[int](Config{Dir: t.TempDir()})
	removeAtEnd(t, q)
	for i := range DefaultMemory + 1 {
		if err := q.Put(i); err != nil {
			t.Fatal(err)
		}
	}
	if st := q.Stats(); st.OnDisk != 1 {
		t.Errorf("OnDisk = %d after DefaultMemory+1 items; want 1", st.OnDisk)
	}
}

func TestPutErrorNamesPath(t *testing.T) {
	tmp := t.TempDir()
	file := filepath.Join(tmp, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		dir  string
	}{
		{"dir is a file", file},
		{"dir is missing", filepath.Join(tmp, "missing")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := New[int](Config{Dir: tt.dir, Memory: 2})
			for i := range 2 {
				if err := q.Put(i); err != nil {
					t.Fatalf("Put into memory: %v", err)
				}
			}
			err := q.Put(2)
			if err == nil || !strings.Contains(err.Error(), tt.dir) {
				t.Fatalf("Put = %v; want an error naming %s", err, tt.dir)
			}
			if st := q.Stats(); st.Lost != 1 || st.Queued != 2 {
				t.Errorf("Stats = %+v; want 1 lost, 2 queued", st)
			}
			for i := range 2 {
				if v := mustGet(t, q); v != i {
					t.Errorf("Get = %d; want %d", v, i)
				}
			}
			if err := q.Put(3); err != nil { // memory again once drained
				t.Errorf("Put after drain: %v", err)
			}
			if err := q.Remove(); err != nil {
				t.Errorf("Remove with no spill file: %v", err)
			}
		})
	}
}
