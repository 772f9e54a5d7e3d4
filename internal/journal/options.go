package journal

import (
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// SyncMode says when appended records reach stable storage.
type SyncMode int

const (
	// SyncBatch is the default: every record is written to the file at
	// once, and a background goroutine fdatasyncs the file at most
	// Options.BatchDelay after a record was written, for every record
	// written until then (group commit). Appends never wait for the
	// disk, but for their write and, once a segment, the creation of the
	// next segment file.
	SyncBatch SyncMode = iota
	// SyncAlways makes every Begin, Note and End return after its record
	// is written and fdatasynced. Appends from several goroutines wait for
	// each other's syncs.
	SyncAlways
	// SyncOff writes every record to the file (the page cache) at once and
	// never syncs: the journal survives a crash of the process, not a loss
	// of power.
	SyncOff
)

// ParseSyncMode parses "batch", "always" or "off".
func ParseSyncMode(s string) (SyncMode, error) {
	for m := SyncBatch; m <= SyncOff; m++ {
		if s == m.String() {
			return m, nil
		}
	}
	return 0, fmt.Errorf("journal sync mode %q: want batch, always or off", s)
}

// String returns "batch", "always" or "off", the names ParseSyncMode reads.
func (m SyncMode) String() string {
	switch m {
	case SyncBatch:
		return "batch"
	case SyncAlways:
		return "always"
	case SyncOff:
		return "off"
	}
	return fmt.Sprintf("SyncMode(%d)", int(m))
}

// Defaults for the zero fields of Options. DefaultBatchDelay bounds what
// a power loss takes in SyncBatch mode; shorter delays cost more: on ext4
// each fdatasync also writes back the pcaps' dirty data (data=ordered),
// and lc with a sync every 5 ms measured 7.6 % slower than without a
// journal, against no measurable cost at 100 ms (README, Performance).
const (
	DefaultBatchDelay  = 100 * time.Millisecond
	DefaultSegmentSize = 8 << 20
)

// DefaultLockWait is how long Open waits by default for the lock of a
// journal that another process holds: a process that is still exiting
// after a kill, or one it was starting then (between fork and exec a child
// holds its parent's descriptors), lets go of it within moments; a live lc
// holds it for good.
const DefaultLockWait = 2 * time.Second

// Options configures a Journal. The zero value is valid: SyncBatch, the
// default delay and segment size, no logging.
type Options struct {
	Sync SyncMode
	// BatchDelay bounds, in SyncBatch mode, the time from a record's write
	// to the start of the fdatasync that covers it. Zero means
	// DefaultBatchDelay.
	BatchDelay time.Duration
	// SegmentSize is the size past which the next record starts a new
	// segment file. Zero means DefaultSegmentSize.
	SegmentSize int64
	// LockWait is how long Open waits for the lock of a journal that
	// another process holds before it fails with ErrLocked. Zero means
	// DefaultLockWait; negative, not at all.
	LockWait time.Duration
	// Logger receives the failures no call returns: those of the
	// background syncs, and of removing and closing segment files. Nil
	// discards them; Stats counts the sync failures either way.
	Logger *slog.Logger
}

// Validate reports every problem with o.
func (o Options) Validate() error {
	var errs []error
	if o.Sync < SyncBatch || o.Sync > SyncOff {
		errs = append(errs, fmt.Errorf("journal sync mode %d: want batch, always or off", int(o.Sync)))
	}
	if o.BatchDelay < 0 {
		errs = append(errs, fmt.Errorf("journal batch delay %v: must not be negative", o.BatchDelay))
	}
	if o.SegmentSize < 0 {
		errs = append(errs, fmt.Errorf("journal segment size %d: must not be negative", o.SegmentSize))
	}
	return errors.Join(errs...)
}

// withDefaults fills the zero fields of o.
func (o Options) withDefaults() Options {
	if o.BatchDelay == 0 {
		o.BatchDelay = DefaultBatchDelay
	}
	if o.SegmentSize == 0 {
		o.SegmentSize = DefaultSegmentSize
	}
	if o.LockWait == 0 {
		o.LockWait = DefaultLockWait
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	o.Logger = o.Logger.With("component", "journal")
	return o
}
