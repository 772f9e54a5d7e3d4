package journal

import (
	"fmt"
	"path/filepath"
	"testing"
)

// TestCrashBetweenAppends copies the journal directory, as a kill -9
// would leave it, after every few appends of a workload that rotates and
// removes segments: each copy must open with the items of its moment,
// nothing torn, nothing set aside.
func TestCrashBetweenAppends(t *testing.T) {
	tests := []struct {
		name  string
		opt   Options
		steps int
	}{
		{name: "off", opt: Options{Sync: SyncOff, SegmentSize: 200}, steps: 400},
		{name: "always", opt: Options{Sync: SyncAlways, SegmentSize: 200}, steps: 120}, // a fdatasync each
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "journal")
			j, _ := openT(t, dir, tt.opt)
			w := newWorkload(4)
			for i := range tt.steps {
				w.step(t, j)
				if i%7 != 0 {
					continue
				}
				crashed := filepath.Join(t.TempDir(), fmt.Sprint(i))
				copyDir(t, dir, crashed)
				c, rec := openT(t, crashed, Options{Sync: SyncOff})
				if rec.SetAside != "" || rec.TornBytes != 0 {
					t.Fatalf("after %d appends: %+v", i+1, rec)
				}
				wantItems(t, fmt.Sprintf("after %d appends", i+1), rec.Items, w.m)
				must(t, c.Close())
			}
		})
	}
}
