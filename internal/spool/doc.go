// Package spool is the queue between lc's packet path and its hooks: a FIFO
// that never makes the producer wait and never drops an item without
// counting it.
//
// A Queue owns a bounded in-memory part and, past that bound, one spill
// file of gob-encoded items. Items keep their order across both: once an
// item has gone to the file, later items follow it there until the reader
// has taken every item from the file; then the file is truncated and memory
// is used again. The file is created on the first spill, in Config.Dir, and
// deleted by Remove.
//
// # Concurrency
//
//	goroutine          calls              may wait on
//	producer (one)     Put, Close         the queue's mutex, a file write
//	consumer (one)     Get, then Remove   ctx, the next Put or Close
//	any                Stats              the queue's mutex
//
// Put appends under a mutex. Spilled items are encoded into a write buffer
// that is written to the file when it fills, or by Get when the consumer
// has nothing else to read. Get decodes spilled items outside the mutex,
// reading only bytes that were written before it looked, so the producer is
// never held up by decoding.
//
// # Losses
//
// Stats.Lost counts every item the queue was given and cannot deliver: Put
// refusals, buffered items whose file write failed, items that failed to
// decode, and spilled items deleted by Remove. The errors returned by Put
// and Get say which case happened; they are for logging, Lost is the count.
//
// # Values
//
// T must be gob-encodable; a type held in an interface field needs
// gob.Register. Spilled items round-trip through gob: unexported fields
// are not kept, nil and empty slices both come back nil, and a time.Time
// keeps its instant and zone offset but not its Location or monotonic
// reading. Items held in memory are returned as they were given.
package spool
