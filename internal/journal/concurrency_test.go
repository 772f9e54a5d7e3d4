package journal

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// TestConcurrent has several goroutines begin, note and end items at once,
// while others read the items, the stats and the directory.
func TestConcurrent(t *testing.T) {
	const workers = 6
	tests := []struct {
		opt       Options
		perWorker int
	}{
		{opt: Options{Sync: SyncBatch, SegmentSize: 1 << 10}, perWorker: 200},
		{opt: Options{Sync: SyncAlways, SegmentSize: 1 << 10}, perWorker: 50}, // a fdatasync each
		{opt: Options{Sync: SyncOff, SegmentSize: 512}, perWorker: 200},
	}
	for _, tt := range tests {
		opt, perWorker := tt.opt, tt.perWorker
		t.Run(opt.Sync.String(), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "journal")
			j, _ := openT(t, dir, opt)
			var wg sync.WaitGroup
			done := make(chan struct{})
			wg.Go(func() { watch(t, j, dir, done) })
			var writers sync.WaitGroup
			for w := range workers {
				writers.Go(func() {
					for i := range perWorker {
						id := fmt.Sprintf("w%d-%03d", w, i)
						if err := errors.Join(j.Begin(id, []byte(id)), j.Note(id, []byte("1")), j.Note(id, []byte("2"))); err != nil {
							t.Error(err)
							return
						}
						if i%10 != 0 { // every tenth stays open
							if err := j.End(id); err != nil {
								t.Error(err)
								return
							}
						}
					}
				})
			}
			writers.Wait()
			close(done)
			wg.Wait()
			_, rec := reopen(t, j, dir, opt)
			checkConcurrent(t, rec.Items, workers, perWorker)
		})
	}
}

// watch reads j, and dir a few times, until done.
func watch(t *testing.T, j *Journal, dir string, done chan struct{}) {
	for reads := 0; ; reads++ {
		select {
		case <-done:
			return
		default:
		}
		_ = j.Items()
		_ = j.Stats()
		if reads >= 20 {
			continue
		}
		if _, err := Read(dir); errors.Is(err, ErrUnreadable) {
			t.Errorf("Read while appending: %v", err)
			return
		}
	}
}

// checkConcurrent checks that items holds every tenth item of each worker,
// in the order the worker began them, with both notes.
func checkConcurrent(t *testing.T, items []Item, workers, perWorker int) {
	t.Helper()
	if len(items) != workers*perWorker/10 {
		t.Fatalf("%d items open, want %d", len(items), workers*perWorker/10)
	}
	last := make(map[string]string)
	for _, it := range items {
		w, _, _ := strings.Cut(it.ID, "-")
		if it.ID <= last[w] {
			t.Fatalf("%s after %s", it.ID, last[w])
		}
		last[w] = it.ID
		if string(it.Data) != it.ID || !slices.EqualFunc(it.Notes, []string{"1", "2"}, func(b []byte, s string) bool { return string(b) == s }) {
			t.Fatalf("item %s: data %q, notes %q", it.ID, it.Data, it.Notes)
		}
	}
}
