package journal

import (
	"fmt"
)

// Begin appends a record that begins item id with data. The Journal
// keeps where the record lies, not data: Data reads it back. Begin
// returns ErrBegun, writing nothing, when id is begun and not ended. In
// SyncBatch and SyncOff mode it returns once the record is written to the
// file; in SyncAlways mode, once it is also synced.
func (j *Journal) Begin(id string, data []byte) error { return j.append(recBegin, id, data) }

// Note appends a record that adds data, which the Journal copies, to the
// notes of item id. A note for an id that is not begun is written and
// ignored, now and when the journal is read.
func (j *Journal) Note(id string, data []byte) error { return j.append(recNote, id, data) }

// End appends a record that ends item id. An end for an id that is not
// begun is written and ignored, now and when the journal is read.
func (j *Journal) End(id string) error { return j.append(recEnd, id, nil) }

// maxKeptBuffer bounds the record buffer a Journal keeps between appends.
const maxKeptBuffer = 64 << 10

// append writes one record and applies it to the table. An error means
// the record was not written and nothing changed, except for ErrSync.
func (j *Journal) append(t recType, id string, data []byte) error {
	if n := bodySize(id, data); n > MaxRecordSize {
		return fmt.Errorf("journal %s: %d bytes: %w", t, n, ErrTooLarge)
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return fmt.Errorf("journal %s %q: %w", t, id, ErrClosed)
	}
	if _, ok := j.t.items[id]; ok && t == recBegin {
		return fmt.Errorf("journal begin %q: %w", id, ErrBegun)
	}
	rec := appendRecord(j.buf[:0], t, id, data)
	j.buf = rec
	err := j.write(rec)
	if cap(j.buf) > maxKeptBuffer {
		j.buf = nil
	}
	if err != nil {
		return fmt.Errorf("journal %s %q: %w", t, id, err)
	}
	switch seg := j.cur.num; t {
	case recBegin: // the record just written ends the segment
		j.t.begin(id, location{seg: seg, off: j.cur.size - int64(len(rec)), size: uint32(len(rec))})
	case recNote:
		j.t.note(seg, id, data)
	case recEnd:
		j.retire = j.t.end(seg, id) || j.retire
	}
	j.open.Store(int64(len(j.t.items)))
	if j.retire {
		j.retireSegments()
	}
	if err := j.settle(); err != nil {
		return fmt.Errorf("journal %s %q written: %w", t, id, err)
	}
	return nil
}

// write appends rec to the current segment, after starting a new segment
// when the current one is full.
func (j *Journal) write(rec []byte) error {
	if j.cur.size >= j.opt.SegmentSize && j.cur.records > 0 {
		if err := j.rotate(); err != nil {
			return err
		}
	}
	return j.writeRecord(rec)
}

// writeRecord appends rec to the current segment with one write. When the
// write fails, the file is cut back to its last whole record, now or
// before the next write.
func (j *Journal) writeRecord(rec []byte) error {
	if j.cut {
		if err := j.cur.f.Truncate(j.cur.size); err != nil {
			j.writeErrors.Add(1)
			return fmt.Errorf("cut %s back after a failed write: %w", segmentName(j.cur.num), err)
		}
		j.cut = false
	}
	n, err := j.cur.f.WriteAt(rec, j.cur.size)
	if err != nil {
		j.writeErrors.Add(1)
		j.cut = j.cur.f.Truncate(j.cur.size) != nil
		return fmt.Errorf("write %s: %w", segmentName(j.cur.num), err)
	}
	j.cur.size += int64(n)
	j.cur.records++
	j.cur.sealed = false
	j.records.Add(1)
	j.bytes.Add(int64(n))
	j.markDirty()
	return nil
}
