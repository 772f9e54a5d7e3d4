package journal

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestBatchSync drives the syncer through the fake clock: nothing is
// synced before BatchDelay has passed, then one fdatasync covers every
// record written meanwhile.
func TestBatchSync(t *testing.T) {
	clock, f := newFakeClock(), &faults{}
	opt := Options{BatchDelay: 7 * time.Millisecond}
	j, _ := openEnv(t, t.TempDir(), opt, clock.env(faultyEnv(f)))
	syncsAtOpen := f.syncs

	must(t, j.Begin("a", nil))
	tm := <-clock.timers // the syncer waits
	if tm.d != opt.BatchDelay {
		t.Errorf("syncer waits %v, want %v", tm.d, opt.BatchDelay)
	}
	must(t, j.Begin("b", nil))
	must(t, j.Note("a", []byte("x")))
	if st := j.Stats(); st.Syncs != 0 || f.syncs != syncsAtOpen {
		t.Fatalf("synced before the delay: %+v", st)
	}
	tm.fire <- clock.now
	<-clock.rounds
	if st := j.Stats(); st.Syncs != 1 || f.syncs != syncsAtOpen+1 {
		t.Fatalf("after the delay: %+v, %d file syncs", st, f.syncs-syncsAtOpen)
	}

	must(t, j.End("a"))
	clock.fireNext(t, opt.BatchDelay)
	if st := j.Stats(); st.Syncs != 2 {
		t.Fatalf("after the second delay: %+v", st)
	}

	must(t, j.End("b")) // Close syncs it without waiting
	must(t, j.Close())
	if st := j.Stats(); st.Syncs != 3 {
		t.Fatalf("after Close: %+v", st)
	}
	select {
	case tm := <-clock.timers:
		tm.fire <- clock.now // the syncer asked for one more wait, and Close ended it
	default:
	}
}

// TestBatchRemoval checks that in SyncBatch mode a rotated segment is
// closed, and a dropped one removed, only after the sync that follows.
func TestBatchRemoval(t *testing.T) {
	clock := newFakeClock()
	dir := t.TempDir()
	j, _ := openEnv(t, dir, Options{SegmentSize: 64}, clock.env(systemEnv()))
	must(t, j.Begin("a", bytes.Repeat([]byte("x"), 64)))
	tm := <-clock.timers
	must(t, j.End("a"))
	must(t, j.Begin("b", nil)) // rotates; segment 1 is dropped
	if j.cur.num != 2 || len(j.retired) != 1 || len(j.unlink) != 1 {
		t.Fatalf("segment %d, retired %d, to remove %d", j.cur.num, len(j.retired), len(j.unlink))
	}
	if _, err := os.Stat(filepath.Join(dir, segmentName(1))); err != nil {
		t.Fatalf("segment 1 removed before the sync: %v", err)
	}
	tm.fire <- clock.now
	<-clock.rounds
	if _, err := os.Stat(filepath.Join(dir, segmentName(1))); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("segment 1 after the sync: %v", err)
	}
	if files := segmentFiles(t, dir); len(files) != 1 || j.Stats().Segments != 1 {
		t.Fatalf("segment files %v, stats %+v", files, j.Stats())
	}
}

// TestBatchSyncFailure checks that a failed background sync is counted
// and logged, and that Close returns the failure of its own sync.
func TestBatchSyncFailure(t *testing.T) {
	clock, f := newFakeClock(), &faults{}
	var log bytes.Buffer
	opt := Options{Logger: slog.New(slog.NewTextHandler(&log, nil))}
	j, _ := openEnv(t, t.TempDir(), opt, clock.env(faultyEnv(f)))
	f.set(func(f *faults) { f.syncErr = syscall.EIO })
	must(t, j.Begin("a", nil))
	clock.fireNext(t, DefaultBatchDelay)
	if st := j.Stats(); st.SyncErrors != 1 || st.Syncs != 0 {
		t.Fatalf("stats %+v", st)
	}
	if !strings.Contains(log.String(), "journal sync failed") || !strings.Contains(log.String(), "component=journal") {
		t.Fatalf("log: %s", log.String())
	}
	must(t, j.Begin("b", nil)) // the syncer waits; Close stops it and syncs
	<-clock.timers
	if err := j.Close(); !errors.Is(err, ErrSync) {
		t.Fatalf("Close: %v, want ErrSync", err)
	}
}

// TestSyncCounts checks how often each mode syncs.
func TestSyncCounts(t *testing.T) {
	tests := []struct {
		mode      SyncMode
		wantSyncs int64
	}{
		{mode: SyncAlways, wantSyncs: 30},
		{mode: SyncOff, wantSyncs: 0},
	}
	for _, tt := range tests {
		t.Run(tt.mode.String(), func(t *testing.T) {
			f := &faults{}
			j, _ := openEnv(t, t.TempDir(), Options{Sync: tt.mode}, faultyEnv(f))
			base := f.syncs
			for i := range 10 {
				id := string(rune('a' + i))
				must(t, j.Begin(id, nil))
				must(t, j.Note(id, nil))
				must(t, j.End(id))
			}
			must(t, j.Close())
			if st := j.Stats(); st.Syncs != tt.wantSyncs || int64(f.syncs-base) != tt.wantSyncs {
				t.Fatalf("%d syncs, %d of files, want %d", st.Syncs, f.syncs-base, tt.wantSyncs)
			}
		})
	}
}
