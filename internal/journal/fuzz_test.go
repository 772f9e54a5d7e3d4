package journal

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// seedSegments returns the segment files of a small journal: the first,
// which has a seal, and the last.
func seedSegments(f *testing.F) [][]byte {
	dir := f.TempDir()
	j, _ := openT(f, dir, Options{Sync: SyncOff, SegmentSize: 96})
	must(f, j.Begin("call-1", []byte(`{"event":"call_start"}`)))
	must(f, j.Note("call-1", []byte("hook a done")))
	must(f, j.Begin("call-2", nil))
	must(f, j.End("call-2"))
	must(f, j.Begin("call-3", []byte("three")))
	must(f, j.Note("call-1", []byte("hook b done")))
	must(f, j.Close())
	var segs [][]byte
	for _, name := range segmentFiles(f, dir) {
		b, err := os.ReadFile(filepath.Join(dir, name))
		must(f, err)
		segs = append(segs, b)
	}
	return segs
}

// FuzzRead reads arbitrary bytes as segment 1 of a journal, either its
// only segment or one before a good last segment. Read and Open must not
// panic, must agree, and Open must leave a journal that appends and
// reopens with the items it should.
func FuzzRead(f *testing.F) {
	for _, seg := range seedSegments(f) {
		for _, earlier := range []bool{false, true} {
			f.Add(seg, earlier)
			f.Add(seg[:len(seg)/2], earlier)
		}
	}
	f.Add([]byte(header), false)
	f.Add([]byte("LCJ"), false)
	f.Add(make([]byte, 40), true)
	f.Fuzz(func(t *testing.T, seg []byte, earlier bool) {
		dir := filepath.Join(t.TempDir(), "journal")
		must(t, os.MkdirAll(dir, 0o700))
		must(t, os.WriteFile(filepath.Join(dir, segmentName(1)), seg, 0o600))
		if earlier {
			last := appendRecord([]byte(header), recSegments, "", segmentsData(2, []uint64{1}))
			must(t, os.WriteFile(filepath.Join(dir, segmentName(2)), last, 0o600))
		}
		read, rerr := Read(dir)
		opt := Options{Sync: SyncOff, SegmentSize: 128}
		j, rec := openT(t, dir, opt)
		switch {
		case errors.Is(rerr, ErrUnreadable):
			if rec.SetAside == "" || len(rec.Items) != 0 {
				t.Fatalf("Read: %v; Open: %+v", rerr, rec)
			}
		case rerr != nil:
			t.Fatalf("Read: %v", rerr)
		case !reflect.DeepEqual(read, rec):
			t.Fatalf("Read %+v, Open %+v", read, rec)
		}
		m := model{items: rec.Items}
		m = m.clone()
		must(t, j.Begin("fuzz", []byte("new")))
		m.begin("fuzz", []byte("new"))
		if len(m.items) > 1 {
			must(t, j.Note(m.items[0].ID, []byte("noted")))
			m.note(m.items[0].ID, []byte("noted"))
			must(t, j.End(m.items[len(m.items)-2].ID))
			m.end(m.items[len(m.items)-2].ID)
		}
		wantItems(t, "Items", j.Items(), m)
		_, again := reopen(t, j, dir, opt)
		if again.SetAside != "" || again.TornBytes != 0 {
			t.Fatalf("reopen: %+v", again)
		}
		wantItems(t, "reopened", again.Items, m)
	})
}

// FuzzParseSegment parses arbitrary bytes as a segment, in memory: an
// error is ErrUnreadable, the records read are the bytes read, and they
// apply to a table without a panic.
func FuzzParseSegment(f *testing.F) {
	for _, seg := range seedSegments(f) {
		f.Add(seg, false)
		f.Add(seg, true)
		f.Add(seg[:len(seg)-3], false)
	}
	f.Add([]byte("LC"), true)
	f.Fuzz(func(t *testing.T, b []byte, last bool) {
		c, err := parseSegment(1, b, last)
		if err != nil {
			if !errors.Is(err, ErrUnreadable) {
				t.Fatalf("error %v is not ErrUnreadable", err)
			}
			return
		}
		if c.valid+c.torn != int64(len(b)) || (!last && c.torn > 0 && endsWithSeal(b)) {
			t.Fatalf("valid %d, torn %d of %d bytes", c.valid, c.torn, len(b))
		}
		enc := []byte(header)
		for _, r := range c.recs {
			enc = appendRecord(enc, r.typ, string(r.id), r.data)
		}
		if c.header && !bytes.Equal(enc, b[:c.valid]) {
			t.Fatalf("records encode to %x, read from %x", enc, b[:c.valid])
		}
		for _, r := range c.recs { // where Data reads a record back
			got, n, err := parseRecord(b[r.off : r.off+int64(r.size)])
			if err != nil || n != r.size || got.typ != r.typ || !bytes.Equal(got.data, r.data) {
				t.Fatalf("record at %d, %d bytes, reads back as %+v, %d bytes, %v", r.off, r.size, got, n, err)
			}
		}
		_ = newContents().apply(1, c.recs)
	})
}

// FuzzRecord parses arbitrary bytes as a record: never a panic, never a
// read past the input, and a record parsed encodes back to its bytes.
func FuzzRecord(f *testing.F) {
	f.Add(appendRecord(nil, recBegin, "id", []byte("data")))
	f.Add(appendRecord(nil, recSegments, "", segmentsData(5, []uint64{1, 3})))
	f.Add(appendRecord(nil, recSeal, "", nil))
	f.Add([]byte{2, 0, 0, 0, 0, 0, 0, 0, 1, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, n, err := parseRecord(b)
		if err != nil {
			if !errors.Is(err, errTorn) && !errors.Is(err, errMalformed) {
				t.Fatalf("error %v is neither torn nor malformed", err)
			}
			return
		}
		if enc := appendRecord(nil, r.typ, string(r.id), r.data); !bytes.Equal(enc, b[:n]) {
			t.Fatalf("encodes to %x, read from %x", enc, b[:n])
		}
		switch r.typ {
		case recSegments:
			self, live, err := parseSegments(r.data)
			if err == nil && !bytes.Equal(segmentsData(self, live), r.data) {
				t.Fatalf("segment list %d %v encodes differently", self, live)
			}
		case recDrop:
			_, _ = parseDrop(r.data)
		}
	})
}
