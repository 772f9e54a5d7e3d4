package journal

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
)

// Data returns the data item id was begun with, while it is open; an
// error wrapping ErrNotOpen when it is not. It reads the item's Begin
// record back from its segment file and checks its checksum, holding the
// Journal's lock for that one read. The data is the caller's. After
// Close, Data still answers, opening the segment file for each call.
func (j *Journal) Data(id string) ([]byte, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	it, ok := j.t.items[id]
	if !ok {
		return nil, fmt.Errorf("journal data %q: %w", id, ErrNotOpen)
	}
	rs := &j.readers
	if j.closed {
		rs = &readers{dir: j.dir, max: 1}
		defer rs.close()
	}
	return j.readData(it, rs)
}

// Items returns the items begun and not ended, in the order begun, with
// their data, which it reads back from the segment files while it holds
// the Journal's lock: appends wait meanwhile, so it suits start-up and
// inspection, not a busy journal with many items open. The data is the
// caller's; the bytes of the notes are shared with the Journal and must
// not be modified. An item whose data cannot be read back, its file
// damaged since it was written, comes with nil data, and the failure is
// logged. After Close, Items still answers.
func (j *Journal) Items() []Item {
	j.mu.Lock()
	defer j.mu.Unlock()
	rs := &j.readers
	if j.closed {
		rs = &readers{dir: j.dir, max: 1}
		defer rs.close()
	}
	return j.t.snapshot(func(it *item) []byte {
		b, err := j.readData(it, rs)
		if err != nil {
			j.log.Error("journal: an item's data cannot be read back", "id", it.id, "error", err)
		}
		return b
	})
}

// readData reads the data of open item it back from its segment file:
// through the file appended to when that is the current segment, through
// a read-only handle from rs otherwise. mu must be held: the current
// segment file is not closed meanwhile, and the item's segment, live
// while the item is open, not dropped.
func (j *Journal) readData(it *item, rs *readers) ([]byte, error) {
	var r io.ReaderAt
	var err error
	if !j.closed && it.at.seg == j.cur.num {
		r = j.cur.f
	} else {
		r, err = rs.get(it.at.seg)
	}
	var b []byte
	if err == nil {
		b, err = readBegin(r, it.id, it.at)
	}
	if err != nil {
		return nil, fmt.Errorf("journal data %q in %s at offset %d: %w", it.id, segmentName(it.at.seg), it.at.off, err)
	}
	return b, nil
}

// readBegin reads the Begin record of item id at at from r, checks it,
// and returns its data in a new slice, nil when empty.
func readBegin(r io.ReaderAt, id string, at location) ([]byte, error) {
	b := make([]byte, at.size)
	if n, err := r.ReadAt(b, at.off); n < len(b) {
		if err == nil || errors.Is(err, io.EOF) {
			err = fmt.Errorf("%w: the file ends %d bytes into the record", errTorn, n)
		}
		return nil, err
	}
	rec, n, err := parseRecord(b)
	if err != nil {
		return nil, err
	}
	if n != len(b) || rec.typ != recBegin || string(rec.id) != id {
		return nil, fmt.Errorf("%w: %s %q of %d bytes where its begin record was written", errMalformed, rec.typ, rec.id, n)
	}
	if len(rec.data) == 0 {
		return nil, nil
	}
	return rec.data[:len(rec.data):len(rec.data)], nil
}

// maxReaders bounds the read-only segment files a Journal keeps open for
// Data. Data is mostly called in the order items were begun, so reads go
// from one segment to the next, and a few handles serve them all.
const maxReaders = 4

// readers are read-only handles of segment files, for reading records
// back: at most max, the most recently used last. Its methods take no
// lock; a Journal's are guarded by its mutex.
type readers struct {
	dir   string
	max   int
	files []segReader
}

// segReader is segment num open for reading.
type segReader struct {
	num uint64
	f   *os.File
}

// get returns a handle of segment n, opening it when none is kept, and
// closing the least recently used one when max are.
func (rs *readers) get(n uint64) (*os.File, error) {
	if i := slices.IndexFunc(rs.files, func(r segReader) bool { return r.num == n }); i >= 0 {
		r := rs.files[i]
		rs.files = append(slices.Delete(rs.files, i, i+1), r)
		return r.f, nil
	}
	f, err := os.Open(segmentPath(rs.dir, n))
	if err != nil {
		return nil, fmt.Errorf("open journal segment: %w", err)
	}
	if len(rs.files) >= rs.max {
		rs.files[0].f.Close() // read only: nothing to lose
		rs.files = slices.Delete(rs.files, 0, 1)
	}
	rs.files = append(rs.files, segReader{num: n, f: f})
	return f, nil
}

// drop closes the handle of segment n, if one is kept: the segment was
// dropped.
func (rs *readers) drop(n uint64) {
	rs.files = slices.DeleteFunc(rs.files, func(r segReader) bool {
		if r.num == n {
			r.f.Close()
			return true
		}
		return false
	})
}

// close closes every handle.
func (rs *readers) close() {
	for _, r := range rs.files {
		r.f.Close()
	}
	rs.files = nil
}
