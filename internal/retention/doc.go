// Package retention keeps an output tree within a disk budget, as
// VoIPmonitor's cleanspool does: it removes the oldest units first while
// the tree is over a size limit (bytes, or a share of the filesystem), and
// every unit older than an age limit.
//
// It knows the shape of the tree, not what is in it. A unit is what is
// removed whole: a directory or a file at a fixed depth under a kind's
// directory, beneath dated directories (calls/2026-01-02/03/030405_x or
// other/2026-01-02/20260102_030405.pcap; see Kind). Its time is the time
// its caller gives (packet time, for lc), else the time its path names,
// else its modification time. Units go oldest first, by that time.
//
// # What is never removed
//
// A unit is removed only once the caller says it is done with it (Add):
// lc adds a unit when it has closed its files and its hooks have all
// finished. Until then the caller may Hold it: its bytes count towards
// the size limit but it is never removed. Everything outside the kinds'
// directories (lc's journal, for one) is never touched, and neither is
// anything beneath them that does not have a unit's shape (a name that
// its layout does not parse, a symlink). Removal works on directory
// descriptors, opened one component at a time with O_NOFOLLOW from the
// root's, and unlinkat: a symlink planted in the tree is removed as a
// link, never followed, and nothing outside the root can be reached.
//
// A dated directory that removals leave empty goes too, and so does one
// that Scan finds empty, but only once the clock (Config.Now) has passed
// it: the writer may still make units in the directory of the clock's
// time, and a directory removed under it would fail its write.
//
// # Back-pressure
//
// WaitRoom lets a writer that may wait (lc reading files) wait while the
// units done and held are over the size limit, until passes have removed
// enough of them: so they stay within the limit and one unit whatever the
// pace of the hooks. Live capture never waits.
//
// # Goroutines
//
//	goroutine   count                   does
//	callers     any                     Add, Hold, Scan, Stats, WaitRoom; Sweep makes one pass on the caller's goroutine
//	cleaner     1, from Start to Close  makes a pass when a unit is added, when a Hold passes the limit, and every Config.Interval
//
// Passes never overlap. A pass measures the units added since the last
// one and removes; Close makes the last one.
//
// # Errors
//
// A unit that cannot be measured or removed is logged at Warn and counted
// (Stats.Errors), and forgotten until the next Scan finds it again; the
// Cleaner goes on. Configuration errors are returned by New.
package retention
