package journal

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestReadChangesNothing reads a journal with a torn tail, an unsealed
// segment and a stale segment file: Read reports them and leaves every
// byte as it was; Open then gives the same items and cleans up.
func TestReadChangesNothing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "journal")
	want := threeSegments(t, dir)
	// Segment 2 loses its seal and part of its last note, as to a loss of
	// power; the last note of "two" goes with it.
	path2 := filepath.Join(dir, segmentName(2))
	info, err := os.Stat(path2)
	must(t, err)
	must(t, os.Truncate(path2, info.Size()-sealSize-3))
	notes := want.items[1].Notes
	want.items[1].Notes = notes[:len(notes)-1]
	// Segment 3 ends with half a record.
	appendTo(t, dir, 3, appendRecord(nil, recNote, "three", []byte("half written"))[:10])
	// A segment the journal dropped, and a file that is not a segment.
	must(t, os.WriteFile(filepath.Join(dir, segmentName(0)), []byte("whatever"), 0o600))
	must(t, os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("kept"), 0o600))

	before := snapshot(t, dir)
	got, err := Read(dir)
	must(t, err)
	if after := snapshot(t, dir); !reflect.DeepEqual(after, before) {
		t.Fatalf("Read changed the directory\nbefore %v\nafter  %v", before, after)
	}
	wantItems(t, "Read", got.Items, want)
	if got.TornBytes != 10+(recordHeaderSize+int64(bodySize("two", []byte("filler")))-3) {
		t.Errorf("TornBytes %d", got.TornBytes)
	}

	j, rec := openT(t, dir, Options{Sync: SyncOff})
	if !reflect.DeepEqual(rec, got) {
		t.Fatalf("Open found %+v, Read %+v", rec, got)
	}
	must(t, j.Close())
	if _, err := os.Stat(filepath.Join(dir, segmentName(0))); !os.IsNotExist(err) {
		t.Errorf("stale segment after Open: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "notes.txt")); err != nil {
		t.Errorf("other file after Open: %v", err)
	}
	again, err := Read(dir)
	must(t, err)
	if again.TornBytes != 0 {
		t.Errorf("torn bytes after Open: %d", again.TornBytes)
	}
	wantItems(t, "Read after Open", again.Items, want)
}

func TestReadEmpty(t *testing.T) {
	tests := []struct {
		name    string
		dir     func(t *testing.T) string
		wantErr bool
	}{
		{name: "empty", dir: func(t *testing.T) string { return t.TempDir() }},
		{name: "missing", dir: func(t *testing.T) string { return filepath.Join(t.TempDir(), "none") }, wantErr: true},
		{name: "new journal", dir: func(t *testing.T) string {
			dir := t.TempDir()
			j, _ := openT(t, dir, Options{})
			must(t, j.Close())
			return dir
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, err := Read(tt.dir(t))
			if (err != nil) != tt.wantErr || len(rec.Items) != 0 {
				t.Fatalf("Read: %+v, %v", rec, err)
			}
		})
	}
}
