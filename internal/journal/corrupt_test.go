package journal

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// threeSegments makes a journal in dir with three segments, each holding
// an open item, and returns what it holds.
func threeSegments(t testing.TB, dir string) model {
	t.Helper()
	opt := Options{Sync: SyncOff, SegmentSize: 128}
	j, _ := openT(t, dir, opt)
	var m model
	for _, id := range []string{"one", "two", "three"} {
		n := j.cur.num
		must(t, j.Begin(id, []byte(id)))
		m.begin(id, []byte(id))
		for j.cur.num == n && id != "three" {
			must(t, j.Note(id, []byte("filler")))
			m.note(id, []byte("filler"))
		}
	}
	must(t, j.Close())
	if files := segmentFiles(t, dir); len(files) != 3 {
		t.Fatalf("segment files %v, want 3", files)
	}
	return m
}

func TestCorruption(t *testing.T) {
	flip := func(seg uint64, off int64) func(t testing.TB, dir string) {
		return func(t testing.TB, dir string) {
			path := filepath.Join(dir, segmentName(seg))
			b, err := os.ReadFile(path)
			must(t, err)
			if off < 0 {
				off += int64(len(b))
			}
			b[off] ^= 0x20
			must(t, os.WriteFile(path, b, 0o600))
		}
	}
	tests := []struct {
		name   string
		damage func(t testing.TB, dir string)
	}{
		{name: "magic of an earlier segment", damage: flip(1, 0)},
		{name: "version of an earlier segment", damage: flip(2, 4)},
		{name: "magic of the last segment", damage: flip(3, 1)},
		{name: "version of the last segment", damage: flip(3, 4)},
		{name: "length in an earlier segment", damage: flip(1, 5)},
		{name: "checksum in an earlier segment", damage: flip(1, 10)},
		{name: "data in an earlier segment", damage: flip(2, 40)},
		{name: "last record of an earlier segment", damage: flip(2, -sealSize-1)},
		{name: "missing middle segment", damage: func(t testing.TB, dir string) {
			must(t, os.Remove(filepath.Join(dir, segmentName(2))))
		}},
		{name: "missing first segment", damage: func(t testing.TB, dir string) {
			must(t, os.Remove(filepath.Join(dir, segmentName(1))))
		}},
		{name: "unknown record type", damage: func(t testing.TB, dir string) {
			appendTo(t, dir, 3, appendRecord(nil, recSeal+1, "", nil))
		}},
		{name: "second segment list", damage: func(t testing.TB, dir string) {
			appendTo(t, dir, 3, appendRecord(nil, recSegments, "", segmentsData(3, nil)))
		}},
		{name: "begun twice", damage: func(t testing.TB, dir string) {
			appendTo(t, dir, 3, appendRecord(nil, recBegin, "one", nil))
		}},
		{name: "bad segment list", damage: func(t testing.TB, dir string) {
			appendTo(t, dir, 3, appendRecord(nil, recDrop, "", []byte{0x80}))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "journal")
			threeSegments(t, dir)
			tt.damage(t, dir)
			checkSetAside(t, dir)
		})
	}
}

// checkSetAside checks that Read finds the journal in dir unreadable, and
// that Open sets it aside intact and starts a new one that works.
func checkSetAside(t *testing.T, dir string) {
	t.Helper()
	before := snapshot(t, dir)
	if _, err := Read(dir); !errors.Is(err, ErrUnreadable) {
		t.Fatalf("Read: %v, want ErrUnreadable", err)
	}
	clock := newFakeClock()
	j, rec := openEnv(t, dir, Options{Sync: SyncOff}, clock.env(systemEnv()))
	if want := dir + ".unreadable-20240301T100000Z"; rec.SetAside != want {
		t.Fatalf("SetAside %q, want %q", rec.SetAside, want)
	}
	if !errors.Is(rec.Cause, ErrUnreadable) || len(rec.Items) != 0 {
		t.Fatalf("recovery %+v", rec)
	}
	t.Logf("cause: %v", rec.Cause)
	if after := snapshot(t, rec.SetAside); !reflect.DeepEqual(after, before) {
		t.Fatalf("set aside directory changed\nbefore %v\nafter  %v", before, after)
	}
	var m model
	must(t, j.Begin("fresh", nil))
	m.begin("fresh", nil)
	_, rec = reopen(t, j, dir, Options{Sync: SyncOff})
	if rec.SetAside != "" {
		t.Fatalf("fresh journal set aside: %v", rec.Cause)
	}
	wantItems(t, "fresh journal", rec.Items, m)
}

// appendTo appends b to segment n of dir.
func appendTo(t testing.TB, dir string, n uint64, b []byte) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(dir, segmentName(n)), os.O_WRONLY|os.O_APPEND, 0)
	must(t, err)
	_, err = f.Write(b)
	must(t, err)
	must(t, f.Close())
}

// TestSetAsideNames checks that set-aside names never collide.
func TestSetAsideNames(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "journal")
	clock := newFakeClock()
	want := []string{"", "-2", "-3"}
	for i, suffix := range want {
		threeSegments(t, dir)
		must(t, os.Remove(filepath.Join(dir, segmentName(2))))
		j, rec := openEnv(t, dir, Options{Sync: SyncOff}, clock.env(systemEnv()))
		if w := dir + ".unreadable-20240301T100000Z" + suffix; rec.SetAside != w {
			t.Fatalf("set-aside %d: %q, want %q", i, rec.SetAside, w)
		}
		must(t, j.Close())
	}
}
