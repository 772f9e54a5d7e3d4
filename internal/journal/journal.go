package journal

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

// Journal is an open journal directory: an ordered, durable log of items
// that are begun, noted and ended. Its methods are safe for concurrent
// use. Create it with Open.
type Journal struct {
	dir string
	opt Options // defaults filled in
	env env
	log *slog.Logger

	// The syncer (SyncBatch only): kick wakes it when a record is written
	// while nothing is waiting for a sync, stop ends it, done is closed
	// when it has.
	kick, stop, done chan struct{}
	closeErr         error // the syncer's final round, read after done

	// Counters, for Stats without the lock.
	records, bytes, syncs, writeErrors, syncErrors atomic.Int64
	segments, open                                 atomic.Int64

	mu sync.Mutex
	// Guarded by mu:
	closed  bool
	lock    *os.File // holds the flock on the directory
	t       *table
	cur     *segment // the segment records are appended to
	readers readers  // of segments before cur, for Data
	buf     []byte   // the record being appended
	dropBuf []byte   // the drop record being appended
	cut     bool     // a failed write may have left bytes past cur.size
	retire  bool     // a segment may have become droppable
	// The work of the next sync: the current segment when dirty, the
	// segments rotated out, to sync and close, the directory when it has
	// a new segment, the dropped segments, to remove after the sync.
	dirty   bool
	dirtyAt time.Time // when dirty was set (SyncBatch)
	retired []*segment
	dirSync bool
	unlink  []uint64
}

// segment is a segment file open for appending.
type segment struct {
	num     uint64
	f       segmentFile
	size    int64 // the bytes of whole records, where the next is written
	records int   // records after its segment list
	sealed  bool  // its last record is a seal
}

// Stats are a Journal's counters.
type Stats struct {
	Records, Bytes int64 // records and bytes written since Open, the journal's own included
	Syncs          int64 // fdatasyncs of segment files since Open
	Segments       int   // segment files live now
	Open           int   // items begun and not ended
	WriteErrors    int64 // writes that failed: of appends, and of the journal's own records
	SyncErrors     int64 // fdatasyncs that failed, of files or the directory
}

// Open opens the journal in dir, creating dir (mode 0700) if it is
// missing, and locks it against other Journals. It reads what the journal
// holds into the returned Recovery, cuts a torn tail off the last segment
// and goes on appending after it, and removes the segments the journal no
// longer needs. A journal it cannot read is set aside (see Recovery) and
// a new one is started in dir. Open fails when opt is invalid, when dir
// cannot be created, locked, read or written, or holds a Journal already
// (ErrLocked).
func Open(dir string, opt Options) (*Journal, Recovery, error) {
	return open(dir, opt, systemEnv())
}

func open(dir string, opt Options, e env) (*Journal, Recovery, error) {
	if err := opt.Validate(); err != nil {
		return nil, Recovery{}, err
	}
	opt = opt.withDefaults()
	dir = filepath.Clean(dir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, Recovery{}, fmt.Errorf("create journal directory: %w", err)
	}
	lock, err := lockDir(dir, opt.LockWait)
	if err != nil {
		return nil, Recovery{}, err
	}
	c, err := readDir(dir)
	var rec Recovery
	switch {
	case errors.Is(err, ErrUnreadable):
		rec = Recovery{Cause: err}
		sync := e.syncDir
		if opt.Sync == SyncOff {
			sync = nil
		}
		if rec.SetAside, lock, err = setAside(dir, lock, e.now(), sync); err != nil {
			return nil, Recovery{}, err
		}
		c = newContents()
	case err != nil:
		lock.Close()
		return nil, Recovery{}, err
	default:
		rec = c.recovery()
	}
	j := &Journal{dir: dir, opt: opt, env: e, log: opt.Logger, lock: lock, t: c.t, kick: make(chan struct{}, 1),
		readers: readers{dir: dir, max: maxReaders}}
	if err := j.resume(c); err != nil {
		j.closeFiles()
		return nil, Recovery{}, err
	}
	for _, c := range []*atomic.Int64{&j.records, &j.bytes, &j.syncs, &j.writeErrors, &j.syncErrors} {
		c.Store(0) // Stats count from here
	}
	if opt.Sync == SyncBatch {
		j.stop, j.done = make(chan struct{}), make(chan struct{})
		go j.syncLoop()
	}
	return j, rec, nil
}

// Stats returns the Journal's counters. It never waits for the lock.
func (j *Journal) Stats() Stats {
	return Stats{
		Records:     j.records.Load(),
		Bytes:       j.bytes.Load(),
		Syncs:       j.syncs.Load(),
		Segments:    int(j.segments.Load()),
		Open:        int(j.open.Load()),
		WriteErrors: j.writeErrors.Load(),
		SyncErrors:  j.syncErrors.Load(),
	}
}

// Close syncs what was written (unless SyncOff), stops the syncer, and
// closes the files and the lock. Calls after Close return ErrClosed; Items,
// Data and Stats still answer.
func (j *Journal) Close() error {
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return ErrClosed
	}
	j.closed = true
	j.mu.Unlock()
	var errs []error
	if j.opt.Sync == SyncBatch {
		close(j.stop)
		<-j.done
		errs = append(errs, j.closeErr)
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.opt.Sync != SyncBatch {
		errs = append(errs, j.settleLocked())
	}
	errs = append(errs, j.closeFiles())
	return errors.Join(errs...)
}

// closeFiles closes the current segment, the read-only handles and the
// lock.
func (j *Journal) closeFiles() error {
	j.readers.close()
	var errs []error
	if j.cur != nil {
		if err := j.cur.f.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close %s: %w", segmentName(j.cur.num), err))
		}
	}
	for _, s := range j.retired { // only when Open failed
		s.f.Close()
	}
	if err := j.lock.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close journal lock: %w", err))
	}
	return errors.Join(errs...)
}
