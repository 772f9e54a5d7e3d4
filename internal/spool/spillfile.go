package spool

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"os"
)

// flushBytes is the size at which the producer writes the spill buffer to
// the file itself.
const flushBytes = 32 << 10

// spillFile is the on-disk part of a Queue: one file holding a generation
// of gob-encoded items, from the last truncation on. The producer encodes
// into buf and writes it at offset size; the consumer decodes from the
// start of the file up to size. Every field is guarded by the Queue's
// mutex, except that the consumer uses dec and rd without it while it
// decodes an item already written.
type spillFile struct {
	f        *os.File
	size     int64        // bytes of the generation written to f
	buf      bytes.Buffer // encoded items not yet written to f
	buffered int          // items in buf
	enc      *gob.Encoder // writes to buf
	rd       *fileReader  // reads f for dec
	dec      *gob.Decoder

	stale  bool  // f holds a drained generation and is truncated before the next item
	broken error // a write failed: nothing more is written until the generation is drained
}

// createSpill creates an empty spill file in dir ("" means os.TempDir).
func createSpill(dir string) (*spillFile, error) {
	f, err := os.CreateTemp(dir, fmt.Sprintf(".lc-spool-%d-*", os.Getpid()))
	if err != nil {
		return nil, fmt.Errorf("create spill file: %w", err)
	}
	s := &spillFile{f: f}
	s.start()
	return s, nil
}

// start begins a generation in the empty file, with a fresh encoder and
// decoder.
func (s *spillFile) start() {
	s.size = 0
	s.buf.Reset()
	s.buffered = 0
	s.enc = gob.NewEncoder(&s.buf)
	s.rd = &fileReader{f: s.f}
	s.dec = gob.NewDecoder(s.rd)
	s.stale = false
	s.broken = nil
}

// truncate empties the file and starts a new generation.
func (s *spillFile) truncate() error {
	if err := s.f.Truncate(0); err != nil {
		s.stale = true
		return fmt.Errorf("truncate spill file: %w", err)
	}
	s.start()
	return nil
}

// drained is called when the consumer has taken every item of the
// generation.
func (s *spillFile) drained() {
	// A failure leaves the file stale: the next add retries and reports it.
	_ = s.truncate()
}

// add encodes v after the items already in the generation.
func (s *spillFile) add(v any) error {
	if s.stale {
		if err := s.truncate(); err != nil {
			return err
		}
	}
	if s.broken != nil {
		return fmt.Errorf("spill file not written since an earlier failure: %w", s.broken)
	}
	if err := s.enc.Encode(v); err != nil {
		return fmt.Errorf("encode item for spill file %q: %w", s.f.Name(), err)
	}
	s.buffered++
	return nil
}

// flush writes buf to the file. If that fails, the buffered items are
// lost: flush returns how many with the error, and the generation is
// broken.
func (s *spillFile) flush() (int, error) {
	if s.buf.Len() == 0 {
		return 0, nil
	}
	n, err := s.f.WriteAt(s.buf.Bytes(), s.size)
	items := s.buffered
	s.buf.Reset()
	s.buffered = 0
	if err != nil {
		s.broken = err
		return items, fmt.Errorf("write spill file: %w", err)
	}
	s.size += int64(n)
	return 0, nil
}

// readable lets the decoder read every byte written so far.
func (s *spillFile) readable() { s.rd.limit = s.size }

// remove closes and deletes the file.
func (s *spillFile) remove() error {
	cerr := s.f.Close()
	if err := os.Remove(s.f.Name()); err != nil {
		return fmt.Errorf("remove spill file: %w", err)
	}
	if cerr != nil {
		return fmt.Errorf("close spill file: %w", cerr)
	}
	return nil
}

// fileReader reads f from offset 0 with ReadAt, so the producer's writes
// and the consumer's reads do not share a file offset. It stops at limit,
// so it never sees bytes still being written.
type fileReader struct {
	f     *os.File
	off   int64
	limit int64
}

func (r *fileReader) Read(p []byte) (int, error) {
	if r.off >= r.limit {
		return 0, fmt.Errorf("read spill file %q: item past the written end", r.f.Name())
	}
	p = p[:min(int64(len(p)), r.limit-r.off)]
	n, err := r.f.ReadAt(p, r.off)
	r.off += int64(n)
	return n, err
}
