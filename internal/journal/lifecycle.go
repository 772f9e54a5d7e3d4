package journal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"slices"
)

// resume makes the journal read into c ready for appending: it goes on
// in the last segment, or starts segment 1, removes the stale segments
// and those no longer needed, and syncs it all (unless SyncOff).
func (j *Journal) resume(c *contents) error {
	if c.last == 0 {
		seg, err := j.createSegment(1)
		if err != nil {
			return err
		}
		j.cur = seg
	} else if err := j.reopenLast(c); err != nil {
		return err
	}
	if err := j.sealEarlier(c.unsealed); err != nil {
		return err
	}
	j.unlink = append(j.unlink, c.stale...)
	j.open.Store(int64(len(j.t.items)))
	j.retireSegments()
	err := j.settleLocked()
	select { // the syncer has nothing to do yet
	case <-j.kick:
	default:
	}
	return err
}

// reopenLast opens the last segment to append to it, after cutting off a
// torn tail and writing again the header and segment list when they are
// missing.
func (j *Journal) reopenLast(c *contents) error {
	lc, name := c.lastC, segmentName(c.last)
	f, err := j.env.open(segmentPath(j.dir, c.last))
	if err != nil {
		return fmt.Errorf("open journal segment: %w", err)
	}
	j.cur = &segment{num: c.last, f: f, size: lc.valid, records: max(len(lc.recs)-1, 0), sealed: lc.sealed}
	j.segments.Store(int64(len(j.t.segs)))
	if lc.torn > 0 {
		if err := f.Truncate(lc.valid); err != nil {
			return fmt.Errorf("cut torn tail off %s: %w", name, err)
		}
		j.markDirty()
	}
	var b []byte
	if !lc.header {
		b = append(b, header...)
	}
	if !lc.hasLive {
		live := slices.DeleteFunc(j.t.live(), func(n uint64) bool { return n == c.last })
		b = appendRecord(b, recSegments, "", segmentsData(c.last, live))
	}
	if len(b) == 0 {
		return nil
	}
	if _, err := f.WriteAt(b, lc.valid); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	j.cur.size += int64(len(b))
	j.bytes.Add(int64(len(b)))
	j.markDirty()
	return nil
}

// sealEarlier cuts the torn tail, if any, off each earlier segment that
// does not end with its seal, and seals it. The next sync syncs and
// closes them.
func (j *Journal) sealEarlier(unsealed map[uint64]int64) error {
	for _, n := range slices.Sorted(maps.Keys(unsealed)) {
		f, err := j.env.open(segmentPath(j.dir, n))
		if err != nil {
			return fmt.Errorf("open journal segment: %w", err)
		}
		seg := &segment{num: n, f: f, size: unsealed[n]}
		if err := f.Truncate(seg.size); err != nil {
			f.Close()
			return fmt.Errorf("cut torn tail off %s: %w", segmentName(n), err)
		}
		seal := appendRecord(nil, recSeal, "", nil)
		if _, err := f.WriteAt(seal, seg.size); err != nil {
			f.Close()
			return fmt.Errorf("seal %s: %w", segmentName(n), err)
		}
		j.records.Add(1)
		j.bytes.Add(int64(len(seal)))
		j.retired = append(j.retired, seg)
	}
	return nil
}

// rotate seals the current segment, starts the next one, and hands the
// sealed one to the next sync, which closes it.
func (j *Journal) rotate() error {
	if !j.cur.sealed {
		if err := j.writeRecord(appendRecord(nil, recSeal, "", nil)); err != nil {
			return err
		}
		j.cur.sealed = true
	}
	seg, err := j.createSegment(j.cur.num + 1)
	if err != nil {
		j.writeErrors.Add(1)
		return err
	}
	j.retired = append(j.retired, j.cur)
	j.cur = seg
	j.retire = true
	if len(j.retired) >= maxRetired {
		// The syncer is behind: keep the open files bounded by syncing
		// them here.
		if err := j.settleLocked(); err != nil {
			j.log.Error("journal sync failed", "error", err)
		}
	}
	return nil
}

// maxRetired bounds the segments rotated out and not synced yet, which
// stay open until then.
const maxRetired = 16

// createSegment creates segment n, writes its header and segment list,
// and makes it live.
func (j *Journal) createSegment(n uint64) (*segment, error) {
	path := segmentPath(j.dir, n)
	f, err := j.env.create(path)
	if errors.Is(err, fs.ErrExist) {
		// Left by a failed creation: nothing but this Journal makes a
		// segment numbered past the last one it read.
		if err = os.Remove(path); err == nil {
			f, err = j.env.create(path)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("create journal segment: %w", err)
	}
	b := appendRecord([]byte(header), recSegments, "", segmentsData(n, j.t.live()))
	if _, err := f.WriteAt(b, 0); err != nil {
		f.Close()
		os.Remove(path) // it holds no record; if it stays, it is torn whole
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	j.t.addSegment(n)
	j.segments.Store(int64(len(j.t.segs)))
	j.records.Add(1)
	j.bytes.Add(int64(len(b)))
	j.dirSync = true
	j.markDirty()
	return &segment{num: n, f: f, size: int64(len(b))}, nil
}

// retireSegments drops every segment but the current one that holds
// nothing reading still needs: it appends a drop record for it and hands
// it to the next sync, which removes it. Oldest first, so that dropping
// one lets a newer one that referred to it go in the same pass. A drop
// that cannot be written is tried again after the next append.
func (j *Journal) retireSegments() {
	j.retire = false
	for _, n := range j.t.live() {
		if n == j.cur.num || !j.t.droppable(n) {
			continue
		}
		j.dropBuf = appendRecord(j.dropBuf[:0], recDrop, "", binary.AppendUvarint(nil, n))
		if err := j.writeRecord(j.dropBuf); err != nil { // never rotates: no loop
			j.log.Warn("cannot drop journal segment", "file", segmentName(n), "error", err)
			j.retire = true
			return
		}
		delete(j.t.segs, n)
		j.readers.drop(n)
		j.unlink = append(j.unlink, n)
	}
	j.segments.Store(int64(len(j.t.segs)))
}
