// Package journal is lc's write-ahead log of hook work: a durable,
// ordered log of items that are begun, noted and ended, so that a crash
// (kill -9, out of memory, a loss of power) loses none of them. lc begins
// an item for every event before it queues the event for hooks, notes
// each hook run that finishes, and ends the item when none is left; it
// records the calls and files it has open the same way. When lc starts,
// Open reads the journal back and returns, in Recovery.Items, every item
// begun and not ended, in the order begun, with its notes.
//
// # Files
//
// A journal is a directory of segment files, NNNNNNNNNNNNNNNN.seg (16 hex
// digits, increasing), and a file named lock that Open locks (flock) so
// that only one Journal writes it. Records are appended to the last
// segment; past Options.SegmentSize the next record starts a new one.
// Every segment starts with a header, the magic "LCJ1" and the format
// version 1, then records:
//
//	length   uint32, little endian: the bytes after the checksum, 2 to MaxRecordSize
//	checksum uint32, little endian: CRC-32C of those bytes
//	type     1 byte: 1 begin, 2 note, 3 end, 4 segment list, 5 drop, 6 seal
//	id       uvarint length, then the bytes
//	data     the rest
//
// Besides the begin, note and end records of items, the journal keeps
// three records of its own, with no id. A segment list opens every
// segment: its data is the segment's own number, then the count and
// numbers of the segments live when it was created. A drop record says a
// segment was removed: its data is that segment's number. A seal, with no
// data, ends every segment that another follows.
//
// # Removing segments
//
// A segment other than the current one is removed once every item begun
// in it has ended, and no older segment that it holds a note or an end
// for is live: removing that note or end would bring back the older item
// as it was before. Segments so go in any order, not oldest first. The
// drop record is written, and synced (unless SyncOff), before the file is
// removed; reading ignores the notes and ends of items whose segment is
// gone.
//
// # Reading
//
// The last segment says which segments the journal holds: those in its
// segment list less those it dropped, and itself. If its segment list is
// torn, its predecessor says, with the drops it holds. A segment file not
// in that set was dropped and is ignored; Open removes it. A segment of
// the set that is missing makes the journal unreadable.
//
// A bad record (too short, a length out of bounds, a bad checksum) in the
// last segment is a torn tail, a record half written when the process
// died: Open cuts the file there, counts the bytes in Recovery.TornBytes
// and appends after it. So is a last segment holding only the start of a
// header, or only zeros. A bad record in an earlier segment is a torn
// tail too when that segment does not end with its seal: in SyncBatch and
// SyncOff mode, a loss of power can take the last writes of a segment
// that the syncer had not synced yet while the next one had started. Open
// cuts it and seals the segment. Anything else is damage beyond a torn
// tail: a bad record in a sealed segment, a bad header or version, a
// record whose checksum holds but whose contents make no sense, a missing
// segment. Open then renames the directory to
// "<dir>.unreadable-<UTC time>", keeps it for inspection, reports the new
// name in Recovery.SetAside and the reason in Recovery.Cause, and starts
// an empty journal in dir. Nothing that could not be read is ever
// deleted. Read reads a journal without changing anything, for
// inspection while another process may own it.
//
// # Memory
//
// The Journal keeps in memory, for each open item, its id, its notes
// (hook names, small) and where its Begin record lies: the segment, the
// offset in the file and the length. That is about 100 bytes with its
// map entry, besides the id and notes; never the item's data. Data reads
// the data back from the segment file when it is asked for, and checks
// the record's checksum; so does Items, for every item. lc's hook engine
// counts on this: past a bounded number of events in memory it keeps
// only an event's id and reads the event back with Data, which bounds its
// memory only because the journal does not hold the data either. The
// segment of an open item is never removed (see Removing segments), so
// its file is there to read. Open and Read return the data of the items
// left open in Recovery.Items, read while reading the files; the Journal
// does not keep it.
//
// # Writing and syncing
//
// Every record is written to its file with one write(2) under the
// Journal's mutex, so it reaches the operating system before Begin, Note
// or End returns, in every mode; there is no user-space buffer. When
// fdatasync runs depends on Options.Sync: SyncBatch (the default) leaves
// it to a syncer goroutine that starts it at most Options.BatchDelay
// after a record is written, for every record written until then;
// SyncAlways makes every append wait for it, holding the mutex, so that
// appends from several goroutines wait in turn; SyncOff never syncs.
//
// A write that fails (ENOSPC, EIO) is returned and counted in
// Stats.WriteErrors, and the file is cut back to the end of its last
// whole record, so that the tail stays readable; later appends try
// again. A failed fdatasync is counted in Stats.SyncErrors and, in
// SyncBatch mode, logged; in SyncAlways mode the append returns ErrSync,
// its record written.
//
// # Concurrency
//
//	goroutine            calls                        may wait on
//	any, concurrently    Begin, Note, End             the mutex; a write; in SyncAlways mode, fdatasync
//	any, concurrently    Data, Items                  the mutex; a read of each item's data (pread)
//	any                  Stats                        nothing: the counters are atomic
//	one                  Close                        the syncer's last round, the mutex
//	syncer (SyncBatch)   started by Open, ended by    the BatchDelay timer, fdatasync, the mutex
//	                     Close                        for a moment
//
// The syncer takes the pending work under the mutex, then syncs, closes
// and removes files without it, so appends go on during a sync. When it
// falls 16 segments behind, the append that starts the next segment syncs
// them itself, to bound the open files. Data and Items read under the
// mutex, so that neither the current segment's file, which they read
// through, nor the segment of the item, is closed or dropped meanwhile;
// a read costs about one append. The older segments are read through
// read-only files, of which the Journal keeps the 4 used last: Data is
// mostly called in the order items were begun, and opening a file for
// each call costs several times the read. Dropping a segment closes its
// read-only file. The package holds no state outside its Journals.
//
// # Errors
//
// Begin, Note and End return an error when their record was not written:
// ErrTooLarge, ErrBegun (a Begin for an item open already), ErrClosed, or
// the write failure. The one exception is ErrSync, in SyncAlways mode:
// the record was written but not synced. Data returns ErrNotOpen for an
// item not begun or ended already, or the failure to read its record
// back (a bad checksum: the file damaged since). Open fails only when
// the options are invalid or the directory cannot be created, locked
// (ErrLocked), read or written; an unreadable journal is set aside, not
// an error. Read returns ErrUnreadable for one.
package journal
