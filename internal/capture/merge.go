package capture

import (
	"errors"
	"io"
	"slices"
)

// Problem is an input that a Merger stopped reading early because its File
// returned an error.
type Problem struct {
	Path      string
	Err       error // as returned by File.Next
	Truncated bool  // Err wraps ErrTruncated: the input was cut off, not corrupt
}

// Merger yields the packets of several Files in timestamp order.
//
// Packets with equal timestamps come from the lower Source first, then from
// the File given first. Each File is read in its own order: a packet that is
// out of time order within its file is passed through where it appears,
// since the Merger holds only one lookahead packet per File.
//
// When a File fails, the Merger records a Problem, keeps the packets it
// already read from that File, and goes on with the others.
//
// A Merger is used by one goroutine and owns its Files: Close closes them.
// The zero Merger has no Files; NewMerger makes a useful one.
type Merger struct {
	files    []*File
	heads    []head // lookahead packets, a min-heap by head.before
	primed   bool   // heads holds the first packet of every File
	done     bool   // single-File path: the File has ended
	problems []Problem
}

// head is the next packet of files[file].
type head struct {
	p    Packet
	file int
}

// before orders heads by timestamp, then Source, then File.
func (a *head) before(b *head) bool {
	if c := a.p.Info.Timestamp.Compare(b.p.Info.Timestamp); c != 0 {
		return c < 0
	}
	if a.p.Source != b.p.Source {
		return a.p.Source < b.p.Source
	}
	return a.file < b.file
}

// NewMerger returns a Merger over files, which it takes over.
func NewMerger(files []*File) *Merger {
	return &Merger{files: slices.Clone(files)}
}

// Next returns the earliest packet not yet returned, or io.EOF when every
// File has ended. It returns no other error: a File that fails ends early
// and is reported by Problems.
func (m *Merger) Next() (Packet, error) {
	if len(m.files) == 1 {
		return m.nextSingle()
	}
	if !m.primed {
		m.prime()
	}
	if len(m.heads) == 0 {
		return Packet{}, io.EOF
	}
	top := &m.heads[0]
	p := top.p
	if q, ok := m.read(top.file); ok {
		top.p = q
	} else {
		last := len(m.heads) - 1
		m.heads[0] = m.heads[last]
		m.heads[last] = head{} // drop the Data reference
		m.heads = m.heads[:last]
	}
	m.down(0)
	return p, nil
}

// nextSingle passes one File through without lookahead.
func (m *Merger) nextSingle() (Packet, error) {
	if m.done {
		return Packet{}, io.EOF
	}
	p, ok := m.read(0)
	if !ok {
		m.done = true
		return Packet{}, io.EOF
	}
	return p, nil
}

// prime reads the first packet of every File into the heap.
func (m *Merger) prime() {
	m.primed = true
	m.heads = make([]head, 0, len(m.files))
	for i := range m.files {
		if p, ok := m.read(i); ok {
			m.heads = append(m.heads, head{p: p, file: i})
			m.up(len(m.heads) - 1)
		}
	}
}

// read returns the next packet of files[i], recording a Problem when the
// File ends with an error.
func (m *Merger) read(i int) (Packet, bool) {
	f := m.files[i]
	p, err := f.Next()
	if err == nil {
		return p, true
	}
	if err != io.EOF {
		m.problems = append(m.problems, Problem{
			Path:      f.Path(),
			Err:       err,
			Truncated: errors.Is(err, ErrTruncated),
		})
	}
	return Packet{}, false
}

func (m *Merger) up(i int) {
	h := m.heads
	for i > 0 {
		parent := (i - 1) / 2
		if !h[i].before(&h[parent]) {
			return
		}
		h[i], h[parent] = h[parent], h[i]
		i = parent
	}
}

func (m *Merger) down(i int) {
	h := m.heads
	for {
		least := i
		if l := 2*i + 1; l < len(h) && h[l].before(&h[least]) {
			least = l
		}
		if r := 2*i + 2; r < len(h) && h[r].before(&h[least]) {
			least = r
		}
		if least == i {
			return
		}
		h[i], h[least] = h[least], h[i]
		i = least
	}
}

// Problems returns the Files that ended with an error, in the order the
// errors occurred.
func (m *Merger) Problems() []Problem { return slices.Clone(m.problems) }

// Progress returns the bytes consumed from all Files and their total size,
// both counting compressed bytes for compressed inputs (File.Consumed).
// total is 0 when the size of any input is unknown.
func (m *Merger) Progress() (done, total int64) {
	known := true
	for _, f := range m.files {
		done += f.Consumed()
		total += f.Size()
		known = known && f.Size() > 0
	}
	if !known {
		total = 0
	}
	return done, total
}

// Close closes every File. Next returns io.EOF afterwards.
func (m *Merger) Close() error {
	var errs []error
	for _, f := range m.files {
		if err := f.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	m.primed, m.done, m.heads = true, true, nil
	return errors.Join(errs...)
}
