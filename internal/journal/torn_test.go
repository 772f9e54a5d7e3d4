package journal

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestTornTail cuts the last segment at every byte of its last append:
// Open must give back the items from before it, count the cut bytes, and
// then append and reopen cleanly.
func TestTornTail(t *testing.T) {
	tests := []struct {
		name   string
		rotate bool // the last append starts a new segment
	}{
		{name: "last record"},
		{name: "new segment", rotate: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "journal")
			opt := Options{Sync: SyncOff, SegmentSize: 1 << 10}
			j, _ := openT(t, dir, opt)
			w := newWorkload(2)
			must(t, j.Begin("pin", nil)) // keeps every segment: a cut drop record would lose one
			w.m.begin("pin", nil)
			for range 30 {
				w.step(t, j)
			}
			if tt.rotate {
				for j.cur.size < opt.SegmentSize {
					must(t, j.Note("pin", []byte("filler")))
					w.m.note("pin", []byte("filler"))
				}
			}
			before, seg, start := w.m.clone(), j.cur.num, j.cur.size
			must(t, j.Begin("last", []byte("the last record, to be torn")))
			if tt.rotate {
				if j.cur.num != seg+1 {
					t.Fatalf("the last append stayed in segment %d", seg)
				}
				seg, start = j.cur.num, 0
			}
			must(t, j.Close())
			full, err := os.ReadFile(filepath.Join(dir, segmentName(seg)))
			must(t, err)
			for cut := start; cut < int64(len(full)); cut++ {
				t.Run(fmt.Sprint(cut), func(t *testing.T) {
					torn := filepath.Join(t.TempDir(), "journal")
					copyDir(t, dir, torn)
					must(t, os.Truncate(filepath.Join(torn, segmentName(seg)), cut))
					checkTorn(t, torn, opt, before, cut-boundary(t, seg, full, cut))
				})
			}
		})
	}
}

// checkTorn opens the torn journal in dir and checks what it gives back,
// then that it appends and reopens cleanly.
func checkTorn(t *testing.T, dir string, opt Options, want model, tornBytes int64) {
	t.Helper()
	j, rec := openT(t, dir, opt)
	if rec.SetAside != "" || rec.TornBytes != tornBytes {
		t.Fatalf("recovery: set aside %q (%v), %d torn bytes, want %d", rec.SetAside, rec.Cause, rec.TornBytes, tornBytes)
	}
	wantItems(t, "torn", rec.Items, want)
	must(t, j.Begin("after", []byte("appended after the cut")))
	want.begin("after", []byte("appended after the cut"))
	_, rec = reopen(t, j, dir, opt)
	if rec.SetAside != "" || rec.TornBytes != 0 {
		t.Fatalf("reopen: set aside %q (%v), %d torn bytes", rec.SetAside, rec.Cause, rec.TornBytes)
	}
	wantItems(t, "reopened", rec.Items, want)
}

// boundary is where the record that a cut at off falls in starts in the
// segment file b: the end of the whole bytes that the cut leaves.
func boundary(t testing.TB, n uint64, b []byte, off int64) int64 {
	t.Helper()
	c, err := parseSegment(n, b, true)
	must(t, err)
	bounds := []int64{0, int64(len(header))}
	for _, r := range c.recs {
		bounds = append(bounds, r.off)
	}
	bounds = append(bounds, c.valid)
	i, found := slices.BinarySearch(bounds, off)
	if found {
		return off
	}
	return bounds[i-1]
}

// TestUnsealedSegment cuts the end of a segment before the last, as a
// loss of power does to writes the syncer had not synced yet: that is a
// torn tail too, which Open cuts off and seals.
func TestUnsealedSegment(t *testing.T) {
	tests := []struct {
		name     string
		cut      int64 // bytes cut off the end of segment 1
		lostNote bool  // the cut takes the last note off "pin"
	}{
		{name: "seal", cut: sealSize},
		{name: "seal and half a note", cut: sealSize + 5, lostNote: true},
		{name: "seal and a note", cut: sealSize + recordHeaderSize + int64(bodySize("pin", []byte("a note"))), lostNote: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			opt := Options{Sync: SyncOff, SegmentSize: 256}
			j, _ := openT(t, dir, opt)
			var m model
			must(t, j.Begin("pin", nil))
			m.begin("pin", nil)
			for j.cur.num == 1 {
				must(t, j.Note("pin", []byte("a note")))
				m.note("pin", []byte("a note"))
			}
			must(t, j.Close())
			if tt.lostNote {
				// the note that rotated is in segment 2; the one before it is the last of segment 1
				last := len(m.items[0].Notes) - 2
				m.items[0].Notes = slices.Delete(m.items[0].Notes, last, last+1)
			}
			path := filepath.Join(dir, segmentName(1))
			info, err := os.Stat(path)
			must(t, err)
			must(t, os.Truncate(path, info.Size()-tt.cut))
			b, err := os.ReadFile(path)
			must(t, err)
			checkTorn(t, dir, opt, m, int64(len(b))-boundary(t, 1, b, int64(len(b))))
			b, err = os.ReadFile(path)
			must(t, err)
			if !bytes.HasSuffix(b, appendRecord(nil, recSeal, "", nil)) {
				t.Error("segment 1 not sealed again")
			}
		})
	}
}
