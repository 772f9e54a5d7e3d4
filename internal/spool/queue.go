package spool

import (
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"sync"
)

// DefaultMemory is the number of items a Queue holds in memory when
// Config.Memory is zero or less.
const DefaultMemory = 1024

// ErrClosed is returned by Put after Close.
var ErrClosed = errors.New("spool: queue closed")

// Config configures a Queue.
type Config struct {
	// Dir is where the spill file is created, on the first item that does
	// not fit in memory, named ".lc-spool-<pid>-<random>" with mode 0600.
	// Empty means os.TempDir().
	Dir string
	// Memory is how many items wait in memory before items spill to disk.
	// Zero or less means DefaultMemory.
	Memory int
}

// Stats is a snapshot of a Queue's counters.
type Stats struct {
	Queued  int64 // items waiting, in memory and on disk
	OnDisk  int64 // items waiting on disk (in the spill file or its write buffer)
	Spilled int64 // items ever sent to disk
	Lost    int64 // items given to the queue that it cannot deliver; see the package doc
}

// Queue is an unbounded FIFO of T: the first Config.Memory items wait in
// memory, the rest in a spill file, encoded with encoding/gob. Order is
// kept: once an item is on disk, later items go to disk too until the
// consumer has caught up; then the file is truncated and memory is used
// again.
//
// One goroutine calls Put and Close, one other calls Get and then Remove;
// Stats may be called from any goroutine. Create Queues with New.
type Queue[T any] struct {
	dir    string
	memory int
	ready  chan struct{} // holds a token after a Put or Close that Get has not seen

	// Guarded by mu.
	mu      sync.Mutex
	mem     ring[T]
	disk    int64      // items in the spill generation not yet taken by Get; all newer than mem's
	spill   *spillFile // nil until the first spill and after Remove
	closed  bool
	spilled int64
	lost    int64
}

// New returns an empty Queue. It creates no file until an item spills.
func New[T any](cfg Config) *Queue[T] {
	memory := cfg.Memory
	if memory <= 0 {
		memory = DefaultMemory
	}
	return &Queue[T]{dir: cfg.Dir, memory: memory, ready: make(chan struct{}, 1)}
}

// Put appends v. It never waits for the consumer. It returns an error when
// v cannot be kept: after Close, or when the spill file cannot be created
// or written, or v cannot be gob-encoded. A failed file write also loses
// the items buffered with v; the error says how many, and Stats.Lost counts
// them all.
func (q *Queue[T]) Put(v T) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		q.lost++
		return ErrClosed
	}
	if q.disk == 0 && q.mem.len() < q.memory {
		q.mem.push(v)
	} else if err := q.putDisk(v); err != nil {
		return err
	}
	q.wake()
	return nil
}

// wake leaves a token for Get, unless one is already waiting.
func (q *Queue[T]) wake() {
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// putDisk adds v to the spill file, creating it if needed. It runs under mu.
func (q *Queue[T]) putDisk(v T) error {
	if q.spill == nil {
		s, err := createSpill(q.dir)
		if err != nil {
			q.lost++
			return err
		}
		q.spill = s
	}
	if err := q.spill.add(v); err != nil {
		q.lost++
		return err
	}
	q.disk++
	q.spilled++
	if q.spill.buf.Len() < flushBytes {
		return nil
	}
	return q.flush()
}

// flush writes the spill buffer, counting its items as lost if that fails.
// It runs under mu.
func (q *Queue[T]) flush() error {
	n, err := q.spill.flush()
	if err == nil {
		return nil
	}
	q.lost += int64(n)
	q.disk -= int64(n)
	if q.disk == 0 {
		q.spill.drained()
	}
	return fmt.Errorf("%w (%d items lost)", err, n)
}

// Get returns the oldest item, waiting until there is one. It returns
// ok=false with a nil error when ctx is done or when the queue is closed
// and empty.
//
// A non-nil error means items were lost on the way (a spilled item failed
// to decode, or buffered items could not be written); v is not valid, the
// queue goes on, and the caller should call Get again. Check err first.
func (q *Queue[T]) Get(ctx context.Context) (v T, ok bool, err error) {
	for ctx.Err() == nil {
		q.mu.Lock()
		if q.mem.len() > 0 {
			v = q.mem.pop()
			q.mu.Unlock()
			return v, true, nil
		}
		if q.disk > 0 {
			dec, werr := q.readable()
			q.mu.Unlock()
			if werr != nil {
				return v, false, werr
			}
			return q.decode(dec)
		}
		closed := q.closed
		q.mu.Unlock()
		if closed {
			return v, false, nil
		}
		select {
		case <-q.ready:
		case <-ctx.Done():
		}
	}
	return v, false, nil
}

// readable makes sure the oldest disk item is in the file, writing the
// spill buffer if it is still there, and returns the decoder to read it
// with. It runs under mu.
func (q *Queue[T]) readable() (*gob.Decoder, error) {
	if q.disk == int64(q.spill.buffered) {
		if err := q.flush(); err != nil {
			return nil, err
		}
	}
	q.spill.readable()
	return q.spill.dec, nil
}

// decode reads the oldest disk item with dec. The decoder is the
// consumer's alone and reads only bytes written before readable, so mu is
// not held meanwhile.
func (q *Queue[T]) decode(dec *gob.Decoder) (v T, ok bool, err error) {
	derr := dec.Decode(&v)
	q.mu.Lock()
	defer q.mu.Unlock()
	q.disk--
	if q.disk == 0 {
		q.spill.drained()
	}
	if derr != nil {
		q.lost++
		var zero T
		return zero, false, fmt.Errorf("decode item from spill file %q: %w", q.spill.f.Name(), derr)
	}
	return v, true, nil
}

// Close says no more Put will come. Get still returns what is queued, then
// ok=false.
func (q *Queue[T]) Close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.wake()
}

// Remove closes and deletes the spill file, if there is one. Call it once
// the consumer is done; spilled items it has not taken are counted as lost.
func (q *Queue[T]) Remove() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.spill == nil {
		return nil
	}
	q.lost += q.disk
	q.disk = 0
	s := q.spill
	q.spill = nil
	return s.remove()
}

// Stats returns the queue's counters. It is safe from any goroutine.
func (q *Queue[T]) Stats() Stats {
	q.mu.Lock()
	defer q.mu.Unlock()
	return Stats{
		Queued:  int64(q.mem.len()) + q.disk,
		OnDisk:  q.disk,
		Spilled: q.spilled,
		Lost:    q.lost,
	}
}
