package journal

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// syncWork is what a sync does: fdatasync and close the retired segments,
// fdatasync the current one, sync the directory, and then, if that all
// worked, remove the dropped segments, whose drop records it made durable.
type syncWork struct {
	retired []*segment
	cur     *segment // nil when it has nothing new
	dir     bool
	unlink  []uint64
}

// markDirty notes a write to sync. In SyncBatch mode, the first write
// after a sync wakes the syncer.
func (j *Journal) markDirty() {
	if j.opt.Sync == SyncOff || j.dirty {
		return
	}
	j.dirty = true
	if j.opt.Sync == SyncBatch {
		j.dirtyAt = j.env.now()
		select {
		case j.kick <- struct{}{}:
		default:
		}
	}
}

// settle ends an append: in SyncAlways mode, it syncs; in SyncOff mode it
// closes and removes segments at once; in SyncBatch mode the syncer does
// both later.
func (j *Journal) settle() error {
	if j.opt.Sync == SyncBatch {
		return nil
	}
	return j.settleLocked()
}

// settleLocked does the pending sync work with mu held.
func (j *Journal) settleLocked() error {
	undone, err := j.doWork(j.takeWork())
	j.unlink = append(undone, j.unlink...)
	return err
}

// takeWork takes the pending sync work. mu must be held.
func (j *Journal) takeWork() syncWork {
	w := syncWork{retired: j.retired, dir: j.dirSync, unlink: j.unlink}
	if j.dirty {
		w.cur = j.cur
	}
	j.retired, j.dirSync, j.unlink, j.dirty = nil, false, nil, false
	return w
}

// doWork does w, with or without mu: no one else closes the files in w
// meanwhile. It returns the segments it did not remove because a sync
// failed, and the sync failures; it logs the others.
func (j *Journal) doWork(w syncWork) ([]uint64, error) {
	var errs []error
	for _, s := range w.retired {
		if j.opt.Sync != SyncOff {
			errs = append(errs, j.fdatasync(s))
		}
		if err := s.f.Close(); err != nil {
			j.log.Error("cannot close journal segment", "file", segmentName(s.num), "error", err)
		}
	}
	if w.cur != nil {
		errs = append(errs, j.fdatasync(w.cur))
	}
	if w.dir && j.opt.Sync != SyncOff {
		if err := j.env.syncDir(j.dir); err != nil {
			j.syncErrors.Add(1)
			errs = append(errs, fmt.Errorf("%w: %w", ErrSync, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return w.unlink, err
	}
	for _, n := range w.unlink {
		if err := os.Remove(segmentPath(j.dir, n)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			j.log.Error("cannot remove journal segment", "file", segmentName(n), "error", err)
		}
	}
	return nil, nil
}

// fdatasync syncs segment s and counts it.
func (j *Journal) fdatasync(s *segment) error {
	if err := s.f.Sync(); err != nil {
		j.syncErrors.Add(1)
		return fmt.Errorf("%w: %s: %w", ErrSync, segmentName(s.num), err)
	}
	j.syncs.Add(1)
	return nil
}

// syncLoop is the syncer of SyncBatch mode. Woken by a write, it waits
// until BatchDelay has passed since that write, then syncs every write
// made until then. When stopped, it syncs once more and keeps the error
// for Close.
func (j *Journal) syncLoop() {
	defer close(j.done)
	for {
		select {
		case <-j.kick:
		case <-j.stop:
			j.closeErr = j.round()
			return
		}
		j.mu.Lock()
		at := j.dirtyAt
		j.mu.Unlock()
		if wait := j.opt.BatchDelay - j.env.now().Sub(at); wait > 0 {
			select {
			case <-j.env.after(wait):
			case <-j.stop:
				j.closeErr = j.round()
				return
			}
		}
		if err := j.round(); err != nil {
			j.log.Error("journal sync failed", "error", err)
		}
		j.env.synced()
	}
}

// round takes the pending sync work and does it without mu, so that
// appends go on meanwhile.
func (j *Journal) round() error {
	j.mu.Lock()
	w := j.takeWork()
	j.mu.Unlock()
	undone, err := j.doWork(w)
	if len(undone) > 0 {
		j.mu.Lock()
		j.unlink = append(undone, j.unlink...)
		j.mu.Unlock()
	}
	return err
}
