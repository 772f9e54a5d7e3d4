package journal

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestWriteFailure fails a write in the middle of a record: the append
// returns the error, counts it, and cuts the file back, so that what was
// written before reads back and later appends work.
func TestWriteFailure(t *testing.T) {
	tests := []struct {
		name      string
		truncFail int  // how many appends fail to cut the file back
		crash     bool // the process dies while the half record is there
	}{
		{name: "cut back at once"},
		{name: "cut back later", truncFail: 2},
		{name: "crash before the cut", truncFail: 1, crash: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "journal")
			opt := Options{Sync: SyncAlways}
			f := &faults{}
			j, _ := openEnv(t, dir, opt, faultyEnv(f))
			w := newWorkload(3)
			for range 20 {
				w.step(t, j)
			}
			size := j.cur.size
			failHalfWrite(t, j, f, tt.truncFail)
			wantItems(t, "after the failure", j.Items(), w.m)
			if tt.crash {
				crashed := filepath.Join(t.TempDir(), "crashed")
				copyDir(t, dir, crashed)
				_, rec := openT(t, crashed, opt)
				if rec.TornBytes == 0 || rec.SetAside != "" {
					t.Fatalf("after a crash: %+v", rec)
				}
				wantItems(t, "after a crash", rec.Items, w.m)
			}
			f.set(func(f *faults) { f.truncErr = nil })
			if tt.truncFail == 0 {
				info, err := os.Stat(filepath.Join(dir, segmentName(j.cur.num)))
				must(t, err)
				if info.Size() != size {
					t.Fatalf("file holds %d bytes after the failure, want %d", info.Size(), size)
				}
			}
			for range 20 {
				w.step(t, j)
			}
			if st := j.Stats(); st.WriteErrors != int64(max(1, tt.truncFail)) {
				t.Fatalf("stats %+v", st)
			}
			_, rec := reopen(t, j, dir, opt)
			if rec.TornBytes != 0 || rec.SetAside != "" {
				t.Fatalf("reopen: %+v", rec)
			}
			wantItems(t, "reopened", rec.Items, w.m)
		})
	}
}

// failHalfWrite makes an append write half its record and fail, and the
// cut back after it fail truncFail times.
func failHalfWrite(t *testing.T, j *Journal, f *faults, truncFail int) {
	t.Helper()
	f.set(func(f *faults) {
		f.writeErr = syscall.ENOSPC
		if truncFail > 0 {
			f.truncErr = syscall.EIO
		}
	})
	err := j.Begin("fails", []byte("a record that is written half"))
	if !errors.Is(err, syscall.ENOSPC) || j.Stats().WriteErrors != 1 {
		t.Fatalf("Begin: %v, stats %+v", err, j.Stats())
	}
	for i := 1; i < truncFail; i++ {
		if err := j.Begin("fails too", nil); !errors.Is(err, syscall.EIO) {
			t.Fatalf("Begin while the cut fails: %v", err)
		}
	}
}

// TestRotateFailure fails the write of a new segment's first bytes.
func TestRotateFailure(t *testing.T) {
	dir := t.TempDir()
	opt := Options{Sync: SyncOff, SegmentSize: 64}
	f := &faults{}
	e := faultyEnv(f)
	create := e.create
	failCreate := false
	e.create = func(path string) (segmentFile, error) {
		ff, err := create(path)
		if err == nil && failCreate {
			f.set(func(f *faults) { f.writeErr = syscall.ENOSPC })
		}
		return ff, err
	}
	j, _ := openEnv(t, dir, opt, e)
	var m model
	for j.cur.size < opt.SegmentSize {
		must(t, j.Begin(string(rune('a'+len(m.items))), nil))
		m.begin(string(rune('a'+len(m.items))), nil)
	}
	failCreate = true
	if err := j.Begin("fails", nil); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Begin that rotates: %v", err)
	}
	if files := segmentFiles(t, dir); len(files) != 1 {
		t.Fatalf("segment files %v after the failure", files)
	}
	failCreate = false
	must(t, j.Begin("works", nil))
	m.begin("works", nil)
	if j.cur.num != 2 {
		t.Fatalf("current segment %d, want 2", j.cur.num)
	}
	_, rec := reopen(t, j, dir, opt)
	wantItems(t, "reopened", rec.Items, m)
}

// TestSyncFailure fails fdatasync in SyncAlways mode: the append returns
// ErrSync with its record written.
func TestSyncFailure(t *testing.T) {
	dir := t.TempDir()
	f := &faults{}
	j, _ := openEnv(t, dir, Options{Sync: SyncAlways}, faultyEnv(f))
	f.set(func(f *faults) { f.syncErr = syscall.EIO })
	if err := j.Begin("a", nil); !errors.Is(err, ErrSync) || !errors.Is(err, syscall.EIO) {
		t.Fatalf("Begin: %v, want ErrSync", err)
	}
	if st := j.Stats(); st.SyncErrors != 1 || st.Open != 1 || st.WriteErrors != 0 {
		t.Fatalf("stats %+v", st)
	}
	f.set(func(f *faults) { f.syncErr = nil })
	must(t, j.End("a"))
	_, rec := reopen(t, j, dir, Options{Sync: SyncAlways})
	if len(rec.Items) != 0 {
		t.Fatalf("items %s", brief(rec.Items))
	}
}
