package capture

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// input is the buffered byte stream under a File. It counts the bytes
// consumed and remembers where the record being read started, so that every
// error can name an offset and short reads can be told apart: nothing read
// at a record boundary is the clean end, anything else is a cut-off record.
type input struct {
	r     *bufio.Reader
	off   int64 // bytes consumed
	start int64 // offset of the record or block being read
}

// begin marks the current offset as the start of a record.
func (in *input) begin() { in.start = in.off }

// peek returns the next n bytes without consuming them. n must not exceed
// the buffer size. The slice is valid until the next read.
func (in *input) peek(n int) ([]byte, error) {
	b, err := in.r.Peek(n)
	if len(b) < n {
		return nil, in.short(len(b), n, err)
	}
	return b, nil
}

// discard consumes n bytes.
func (in *input) discard(n int) error {
	got, err := in.r.Discard(n)
	in.off += int64(got)
	if got < n {
		return in.short(0, n-got, err)
	}
	return nil
}

// consume drops n bytes that a successful peek has already returned.
func (in *input) consume(n int) {
	in.r.Discard(n) // cannot fail: the bytes are buffered
	in.off += int64(n)
}

// readData returns the next n bytes in a newly allocated slice that the
// caller owns.
func (in *input) readData(n int) ([]byte, error) {
	if n <= in.r.Size() {
		return in.readAppend(make([]byte, 0, n), n)
	}
	return in.readAppend(nil, n)
}

// readAppend consumes n bytes and appends them to dst. It copies at most a
// buffer's worth at a time, so dst grows only with bytes that are really
// there: a bogus length near the end of the input costs no more memory than
// the input holds.
func (in *input) readAppend(dst []byte, n int) ([]byte, error) {
	for n > 0 {
		step := min(n, in.r.Size())
		b, err := in.r.Peek(step)
		if len(b) < step {
			return dst, in.short(len(b), n, err)
		}
		dst = append(dst, b...)
		in.consume(step)
		n -= step
	}
	return dst, nil
}

// short converts a read that found got of the want bytes it asked for into
// the error to report: io.EOF when the input ended exactly at a record
// boundary, an error wrapping ErrTruncated when it ended inside a record or
// the reader below reported io.ErrUnexpectedEOF, and the read error itself
// otherwise.
func (in *input) short(got, want int, err error) error {
	if err == nil {
		err = io.ErrUnexpectedEOF
	}
	if err != io.EOF && !errors.Is(err, io.ErrUnexpectedEOF) {
		return err
	}
	done := in.off - in.start
	if err == io.EOF && done == 0 && got == 0 {
		return io.EOF
	}
	return fmt.Errorf("%w: record cut off after %d of %d bytes", ErrTruncated, done+int64(got), done+int64(want))
}

// byteOrder decodes the integers of one pcap file or pcapng section. It is a
// bool rather than a binary.ByteOrder so that per-packet decoding makes no
// interface calls.
type byteOrder bool

const (
	littleEndian byteOrder = false
	bigEndian    byteOrder = true
)

func (o byteOrder) u16(b []byte) uint16 {
	if o == bigEndian {
		return binary.BigEndian.Uint16(b)
	}
	return binary.LittleEndian.Uint16(b)
}

func (o byteOrder) u32(b []byte) uint32 {
	if o == bigEndian {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}

func (o byteOrder) u64(b []byte) uint64 {
	if o == bigEndian {
		return binary.BigEndian.Uint64(b)
	}
	return binary.LittleEndian.Uint64(b)
}

func (o byteOrder) String() string {
	if o == bigEndian {
		return "big-endian"
	}
	return "little-endian"
}
