package journal

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name  string
		opt   Options
		steps int
	}{
		{name: "batch", opt: Options{Sync: SyncBatch, SegmentSize: 512}, steps: 3000},
		{name: "always", opt: Options{Sync: SyncAlways, SegmentSize: 512}, steps: 200}, // a fdatasync each
		{name: "off", opt: Options{Sync: SyncOff, SegmentSize: 512}, steps: 3000},
		{name: "one segment", opt: Options{Sync: SyncOff}, steps: 3000},
		{name: "a segment per record", opt: Options{Sync: SyncOff, SegmentSize: 1}, steps: 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "journal")
			w := newWorkload(1)
			j, _ := openT(t, dir, tt.opt)
			for round := range 4 {
				for range tt.steps / 4 {
					w.step(t, j)
				}
				wantItems(t, "Items", j.Items(), w.m)
				var rec Recovery
				j, rec = reopen(t, j, dir, tt.opt)
				wantItems(t, fmt.Sprintf("round %d: Recovery.Items", round), rec.Items, w.m)
				if rec.TornBytes != 0 || rec.SetAside != "" || rec.Cause != nil {
					t.Fatalf("round %d: recovery %+v", round, rec)
				}
				if st := j.Stats(); st.Open != len(w.m.items) || st.Segments != len(segmentFiles(t, dir)) {
					t.Fatalf("round %d: stats %+v, %d items open, segment files %v", round, st, len(w.m.items), segmentFiles(t, dir))
				}
			}
		})
	}
}

// TestSegmentsRemoved checks that a segment goes once nothing in it is
// needed, in any order, and that what stays reads back the same.
func TestSegmentsRemoved(t *testing.T) {
	dir := t.TempDir()
	opt := Options{Sync: SyncOff, SegmentSize: 256}
	j, _ := openT(t, dir, opt)
	var m model
	begin := func(id string) { must(t, j.Begin(id, []byte("data of "+id))); m.begin(id, []byte("data of "+id)) }
	end := func(id string) { must(t, j.End(id)); m.end(id) }
	note := func(id string) { must(t, j.Note(id, []byte("note"))); m.note(id, []byte("note")) }
	churn := func(prefix string, n int) { // begins and ends n items, a segment or more
		for i := range n {
			id := fmt.Sprintf("%s-%d", prefix, i)
			begin(id)
			end(id)
		}
	}

	begin("long") // pins segment 1
	begin("short")
	churn("a", 20)
	end("short") // its end is in a later segment, which segment 1 keeps
	note("long")
	churn("b", 20)
	files := segmentFiles(t, dir)
	if len(files) >= int(j.cur.num) || files[0] != segmentName(1) {
		t.Fatalf("segment files %v: want segment 1 kept and some after it removed (current %d)", files, j.cur.num)
	}
	j, rec := reopen(t, j, dir, opt)
	wantItems(t, "after a reopen", rec.Items, m)

	end("long")
	churn("c", 20) // rotates, so that the segment that ended "long" can go too
	j, rec = reopen(t, j, dir, opt)
	wantItems(t, "all ended", rec.Items, m)
	if files := segmentFiles(t, dir); len(files) != 1 || files[0] != segmentName(j.cur.num) {
		t.Fatalf("segment files %v, want only the current one, %s", files, segmentName(j.cur.num))
	}
}

func TestAppendErrors(t *testing.T) {
	dir := t.TempDir()
	j, _ := openT(t, dir, Options{Sync: SyncOff})
	must(t, j.Begin("a", nil))
	tests := []struct {
		name string
		call func() error
		want error
	}{
		{name: "begin twice", call: func() error { return j.Begin("a", nil) }, want: ErrBegun},
		{name: "begin too large", call: func() error { return j.Begin("b", make([]byte, MaxRecordSize)) }, want: ErrTooLarge},
		{name: "note too large", call: func() error { return j.Note("a", make([]byte, MaxRecordSize)) }, want: ErrTooLarge},
		{name: "id too large", call: func() error { return j.End(strings.Repeat("x", MaxRecordSize)) }, want: ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := j.Stats()
			if err := tt.call(); !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if after := j.Stats(); after != before {
				t.Fatalf("stats changed from %+v to %+v", before, after)
			}
		})
	}
	must(t, j.Begin("largest", make([]byte, MaxRecordSize-bodySize("largest", nil))))
	must(t, j.Close())
	for name, err := range map[string]error{"begin": j.Begin("c", nil), "note": j.Note("a", nil), "end": j.End("a"), "close": j.Close()} {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", name, err)
		}
	}
	if items := j.Items(); len(items) != 2 {
		t.Errorf("Items after Close: %d, want 2", len(items))
	}
}

// TestReuseID checks that an id can be begun again once ended, and that
// notes and ends of unknown ids change nothing.
func TestReuseID(t *testing.T) {
	dir := t.TempDir()
	opt := Options{Sync: SyncOff, SegmentSize: 128}
	j, _ := openT(t, dir, opt)
	for i := range 10 {
		must(t, j.Note("x", []byte("before")))
		must(t, j.Begin("x", []byte{byte(i)}))
		must(t, j.Note("x", []byte("during")))
		must(t, j.End("x"))
		must(t, j.End("x"))
	}
	must(t, j.Begin("x", []byte("last")))
	_, rec := reopen(t, j, dir, opt)
	var m model
	m.begin("x", []byte("last"))
	wantItems(t, "recovery", rec.Items, m)
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	openT(t, dir, Options{})
	if _, _, err := Open(dir, Options{LockWait: -1}); !errors.Is(err, ErrLocked) {
		t.Errorf("second Open: %v, want ErrLocked", err)
	}
	file := filepath.Join(t.TempDir(), "file")
	must(t, os.WriteFile(file, nil, 0o600))
	if _, _, err := Open(filepath.Join(file, "journal"), Options{}); err == nil {
		t.Error("Open under a file: no error")
	}
	if _, _, err := Open(t.TempDir(), Options{Sync: 7, SegmentSize: -1}); err == nil ||
		!strings.Contains(err.Error(), "sync mode") || !strings.Contains(err.Error(), "segment size") {
		t.Errorf("Open with bad options: %v, want both problems", err)
	}
}

func TestOpenCreatesDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	openT(t, dir, Options{})
	info, err := os.Stat(dir)
	must(t, err)
	if info.Mode().Perm() != 0o700 {
		t.Errorf("mode %v, want 0700", info.Mode().Perm())
	}
	b, err := os.ReadFile(filepath.Join(dir, segmentName(1)))
	must(t, err)
	if !bytes.HasPrefix(b, []byte("LCJ1\x01")) {
		t.Errorf("segment 1 starts %q", b)
	}
}

func TestOptions(t *testing.T) {
	for _, m := range []SyncMode{SyncBatch, SyncAlways, SyncOff} {
		got, err := ParseSyncMode(m.String())
		if err != nil || got != m {
			t.Errorf("ParseSyncMode(%q) = %v, %v", m.String(), got, err)
		}
	}
	if _, err := ParseSyncMode("sometimes"); err == nil {
		t.Error("ParseSyncMode(sometimes): no error")
	}
	if s := SyncMode(9).String(); s != "SyncMode(9)" {
		t.Errorf("String = %q", s)
	}
	tests := []struct {
		name string
		opt  Options
		want int // problems
	}{
		{name: "zero", opt: Options{}},
		{name: "all set", opt: Options{Sync: SyncOff, BatchDelay: 1, SegmentSize: 1}},
		{name: "bad mode", opt: Options{Sync: -1}, want: 1},
		{name: "all bad", opt: Options{Sync: 3, BatchDelay: -1, SegmentSize: -1}, want: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.opt.Validate()
			got := 0
			if err != nil {
				got = len(strings.Split(err.Error(), "\n"))
			}
			if got != tt.want {
				t.Errorf("Validate() = %v, want %d problems", err, tt.want)
			}
		})
	}
}

// TestOpenWaitsForLock: a lock that its holder lets go of within the
// wait (a process still exiting after a kill) is taken; one held for good
// fails with ErrLocked once the wait is over.
func TestOpenWaitsForLock(t *testing.T) {
	dir := t.TempDir()
	held, _, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(100*time.Millisecond, func() { held.Close() })
	j, _, err := Open(dir, Options{LockWait: 5 * time.Second})
	if err != nil {
		t.Fatalf("Open while the lock is let go of: %v", err)
	}
	start := time.Now()
	if _, _, err := Open(dir, Options{LockWait: 50 * time.Millisecond}); !errors.Is(err, ErrLocked) || time.Since(start) < 50*time.Millisecond {
		t.Errorf("Open of a journal held for good: %v after %s, want ErrLocked after the wait", err, time.Since(start))
	}
	j.Close()
}
