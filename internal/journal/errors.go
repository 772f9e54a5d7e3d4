package journal

import "errors"

// Errors callers branch on. Others are wrapped with the operation and the
// file or item they concern.
var (
	// ErrClosed is returned by every call on a closed Journal but Items,
	// Data and Stats.
	ErrClosed = errors.New("journal closed")
	// ErrNotOpen is returned by Data for an id that is not begun, or
	// ended.
	ErrNotOpen = errors.New("no open item")
	// ErrBegun is returned by Begin for an id that is begun and not ended.
	// Nothing is written.
	ErrBegun = errors.New("item already begun")
	// ErrTooLarge is returned when a record would be longer than
	// MaxRecordSize. Nothing is written.
	ErrTooLarge = errors.New("record too large")
	// ErrSync is returned, in SyncAlways mode, when the call's record was
	// written but the fdatasync after it failed: the journal counts the
	// record as appended, but it may not survive a loss of power. Close
	// returns it when its final sync fails.
	ErrSync = errors.New("fdatasync failed")
	// ErrLocked is returned by Open when another Journal, in this process
	// or another, has the directory open.
	ErrLocked = errors.New("journal directory in use")
	// ErrUnreadable marks why a journal could not be read: a bad header or
	// version, a bad record in a sealed segment, a missing segment. Read
	// returns it; Open reports it in Recovery.Cause.
	ErrUnreadable = errors.New("journal unreadable")
)
