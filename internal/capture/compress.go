package capture

import (
	"bufio"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Magic numbers of the compressed formats a File reads, as the first bytes
// of the input read big-endian.
const (
	magicGzip = 0x1f8b     // first two bytes (RFC 1952)
	magicZstd = 0x28b52ffd // first four bytes (RFC 8878)
)

// zstdMaxWindow bounds the window a zstd frame may ask for, and with it the
// memory of its decoder: 128 MiB, the most the zstd tool decompresses
// without --memory (windows of --long and --ultra -22).
const zstdMaxWindow = 128 << 20

// compression returns the compressed format that magic, the first four
// bytes of an input read big-endian, starts, or "" for none.
func compression(magic uint32) string {
	switch {
	case magic>>16 == magicGzip:
		return "gzip"
	case magic == magicZstd:
		return "zstd"
	}
	return ""
}

// countingReader counts the bytes read through it. It records the last
// error other than io.EOF of the reader below, so that a read error can be
// told apart from one of the decoder above.
type countingReader struct {
	r   io.Reader
	n   int64
	err error
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if err != nil && err != io.EOF && !errors.Is(err, io.ErrUnexpectedEOF) {
		c.err = err
	}
	return n, err
}

// decompressor is the decoded stream of a compressed input. It turns the
// decoder's errors into the package's: a stream that ends early wraps
// ErrTruncated, data that cannot be decoded wraps ErrCorrupt; read errors
// of the input pass through as they are. Errors are sticky.
//
// The decoder reads from raw, the buffered reader that found the magic
// number, which reads from count: the compressed bytes consumed are those
// counted less those still buffered.
type decompressor struct {
	dec   io.Reader
	close func() error
	raw   *bufio.Reader
	count *countingReader
	err   error
}

// newDecompressor starts decoding format from raw, whose first bytes are
// the format's magic number. A gzip header that cannot be read is an error
// here; a zstd frame header is first read by Read.
func newDecompressor(format string, raw *bufio.Reader, count *countingReader) (*decompressor, error) {
	d := &decompressor{raw: raw, count: count}
	switch format {
	case "gzip":
		// raw is a *bufio.Reader, which the inflater reads without a
		// buffer of its own; members are read one after the other.
		z, err := gzip.NewReader(raw)
		if err != nil {
			return nil, d.wrap(err)
		}
		d.dec, d.close = z, z.Close
	case "zstd":
		// One decoder reads the stream synchronously: the package
		// starts no goroutines.
		z, err := zstd.NewReader(raw,
			zstd.WithDecoderConcurrency(1),
			zstd.WithDecoderMaxWindow(zstdMaxWindow))
		if err != nil {
			return nil, err // only bad options fail here
		}
		d.dec = z
		d.close = func() error { z.Close(); return nil }
	default:
		return nil, fmt.Errorf("unknown compression %q", format)
	}
	return d, nil
}

func (d *decompressor) Read(p []byte) (int, error) {
	if d.err != nil {
		return 0, d.err
	}
	n, err := d.dec.Read(p)
	if err != nil {
		d.err = d.wrap(err)
	}
	return n, d.err
}

// wrap classifies an error of the decoder.
func (d *decompressor) wrap(err error) error {
	switch {
	case err == io.EOF:
		return err
	case d.count.err != nil && errors.Is(err, d.count.err):
		return err
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%w: compressed stream cut off after %d bytes", ErrTruncated, d.consumed())
	}
	return fmt.Errorf("%w: compressed data: %w", ErrCorrupt, err)
}

// consumed returns the number of compressed bytes the decoder has taken.
func (d *decompressor) consumed() int64 {
	return d.count.n - int64(d.raw.Buffered())
}

// Close releases the decoder; it does not close the input.
func (d *decompressor) Close() error {
	if d.close == nil {
		return nil
	}
	c := d.close
	d.close = nil
	return c()
}
