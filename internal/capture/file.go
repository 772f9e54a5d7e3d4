package capture

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// Errors that callers branch on. Errors returned by File.Next wrap one of
// them together with the path, the frame number and the byte offset.
var (
	// ErrTruncated reports an input that ends inside a record or block, as
	// a capture interrupted while it was written does. The packets before
	// the cut are good.
	ErrTruncated = errors.New("truncated capture")

	// ErrCorrupt reports a structure that cannot be followed: a record
	// length beyond any sane bound, a block trailer that does not match its
	// header, a packet on an undeclared interface. Nothing after it can be
	// trusted, so the File stops there.
	ErrCorrupt = errors.New("corrupt capture")
)

const (
	// readBufferSize is the size of the buffered reader under every File.
	readBufferSize = 256 << 10

	// maxRecordLen bounds one pcap record and one pcapng block. A length
	// above it is corrupt, so a File never allocates more for one packet.
	maxRecordLen = 16 << 20
)

// The magic numbers of classic pcap, microsecond and nanosecond, as the
// first four bytes of a file read in the file's byte order.
const (
	MagicMicro = 0xa1b2c3d4
	MagicNano  = 0xa1b23c4d
)

// Magic numbers as the first four bytes of a file read big-endian.
const (
	magicMicroBig    = MagicMicro
	magicMicroLittle = 0xd4c3b2a1
	magicNanoBig     = MagicNano
	magicNanoLittle  = 0x4d3cb2a1
	magicPcapng      = 0x0a0d0d0a // Section Header Block type, a palindrome
)

// recordReader reads the records that follow a file's header.
type recordReader interface {
	// next reads one packet, leaving Source and Frame to the File. It
	// returns io.EOF at a clean end; any other error leaves in.start at
	// the record or block at fault.
	next(in *input) (Packet, error)
}

// File reads packets from one pcap or pcapng input in file order.
//
// Every Packet carries the link type of its file (pcap) or interface
// (pcapng) and a UTC timestamp converted from the input's resolution, with
// if_tsresol and if_tsoffset applied for pcapng; Simple Packet Blocks have
// no timestamp and get the zero time. Nanosecond is set when the resolution
// is finer than a microsecond. Info.InterfaceIndex is the pcapng interface
// id (0 for pcap), and Info.Length is raised to Info.CaptureLength when the
// input records less.
//
// A pcap record longer than max(snaplen, 256 KiB) or a pcapng block longer
// than 16 MiB is corrupt. Memory for a packet grows only with the bytes
// actually read, so a bogus length cannot make a File allocate more than
// its input holds.
//
// Compressed input, gzip (members one after the other, as cat joins them)
// or zstd (frames one after the other), is decompressed as it is read. The
// offsets in errors then count uncompressed bytes, and errors of the
// decoder wrap ErrTruncated (the compressed stream ends early) or
// ErrCorrupt (it cannot be decoded); the packets before either are good.
// A zstd frame whose window exceeds 128 MiB is corrupt.
//
// A File is used by one goroutine. Every Packet it returns owns its Data.
// Once Next has returned an error, later calls return the same error.
// The zero File is not usable; OpenFile makes one.
type File struct {
	path    string
	source  int
	size    int64
	closer  io.Closer       // nil for standard input, which the File does not own
	count   *countingReader // the input, as stored
	format  string          // "gzip" or "zstd" for compressed input, else ""
	dec     *decompressor   // nil for uncompressed input
	in      input           // the capture data, decompressed if need be
	records recordReader
	frame   int   // packets returned so far
	err     error // sticky: io.EOF, a read error, or the error after Close
}

// OpenFile opens the capture at path; "-" reads standard input. The format
// (classic pcap in either byte order and resolution, or pcapng) is detected
// from the magic number, and so is gzip or zstd compression around it,
// whatever the file is called. source is copied into the Source of every
// Packet.
func OpenFile(path string, source int) (*File, error) {
	return openFile(path, source, os.Stdin)
}

// OpenReader reads a capture, compressed or not, from r, which the File
// does not close; name is used in errors. It is how standard input is read.
func OpenReader(name string, r io.Reader, source int) (*File, error) {
	return newFile(r, name, sizeOf(r), source, nil)
}

// openFile is OpenFile with standard input supplied by the caller.
func openFile(path string, source int, stdin io.Reader) (*File, error) {
	if path == "-" {
		return OpenReader(path, stdin, source)
	}
	fh, err := os.Open(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("open capture %q: %w", path, err)
	}
	f, err := newFile(fh, path, sizeOf(fh), source, fh)
	if err != nil {
		fh.Close()
		return nil, err
	}
	return f, nil
}

// sizeOf returns the size of r when it is a regular file and 0 otherwise.
func sizeOf(r io.Reader) int64 {
	s, ok := r.(interface{ Stat() (fs.FileInfo, error) })
	if !ok {
		return 0
	}
	fi, err := s.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return 0
	}
	return fi.Size()
}

// newFile reads the file header from r, decompressing it first when it
// starts with the magic number of gzip or zstd, and returns a File
// positioned at the first record. size is the input size (0 when unknown);
// closer, if not nil, is closed by Close.
func newFile(r io.Reader, path string, size int64, source int, closer io.Closer) (*File, error) {
	f := &File{
		path:   path,
		source: source,
		size:   size,
		closer: closer,
		count:  &countingReader{r: r},
	}
	raw := bufio.NewReaderSize(f.count, readBufferSize)
	f.in = input{r: raw}
	magic, err := f.magic()
	if err == nil {
		if format := compression(magic); format != "" {
			magic, err = f.decompress(format, raw)
		}
	}
	if err == nil {
		err = f.readHeader(magic)
	}
	if err != nil {
		if f.dec != nil {
			f.dec.Close()
		}
		return nil, err
	}
	return f, nil
}

// decompress puts a decoder of format between raw and the File, and
// returns the magic number of the decompressed data.
func (f *File) decompress(format string, raw *bufio.Reader) (uint32, error) {
	f.format = format
	dec, err := newDecompressor(format, raw, f.count)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", f.op("open"), err)
	}
	f.dec = dec
	f.in = input{r: bufio.NewReaderSize(dec, readBufferSize)}
	return f.magic()
}

// magic returns the first four bytes of the input read big-endian.
func (f *File) magic() (uint32, error) {
	b, err := f.in.peek(4)
	if err == io.EOF {
		return 0, fmt.Errorf("%s: %w: empty input", f.op("open"), ErrTruncated)
	}
	if err != nil {
		return 0, fmt.Errorf("%s: %w", f.op("open"), err)
	}
	return binary.BigEndian.Uint32(b), nil
}

// readHeader reads the file header that magic starts.
func (f *File) readHeader(magic uint32) error {
	var err error
	switch magic {
	case magicMicroBig, magicMicroLittle, magicNanoBig, magicNanoLittle:
		f.records, err = readPcapHeader(&f.in)
	case magicPcapng:
		f.records, err = readPcapngHeader(&f.in)
	default:
		return fmt.Errorf("%s: not a pcap or pcapng file (magic 0x%08x)", f.op("open"), magic)
	}
	if err != nil {
		return fmt.Errorf("%s: file header: %w", f.op("open"), err)
	}
	return nil
}

// op names the operation and the input in an error: "open capture
// \"x.pcap\"", with the compressed format for compressed input.
func (f *File) op(verb string) string {
	if f.format != "" {
		return fmt.Sprintf("%s capture %q (%s)", verb, f.path, f.format)
	}
	return fmt.Sprintf("%s capture %q", verb, f.path)
}

// Next returns the next packet in file order, or io.EOF at the clean end of
// the input. An input that ends inside a record yields an error wrapping
// ErrTruncated; a structure that cannot be followed yields one wrapping
// ErrCorrupt. Both name the path, the number of the frame being read and
// the byte offset of the record or block at fault.
func (f *File) Next() (Packet, error) {
	if f.err != nil {
		return Packet{}, f.err
	}
	p, err := f.records.next(&f.in)
	if err != nil {
		if err != io.EOF {
			err = f.readError(err)
		}
		f.err = err
		return Packet{}, err
	}
	f.frame++
	p.Source = f.source
	p.Frame = f.frame
	return p, nil
}

// readError names the input, the frame being read and the offset of the
// record or block at fault in an error of the record reader.
func (f *File) readError(err error) error {
	where := "offset"
	if f.format != "" {
		where = "uncompressed offset"
	}
	return fmt.Errorf("%s: frame %d at %s %d: %w", f.op("read"), f.frame+1, where, f.in.start, err)
}

// Path returns the path the File was opened with ("-" for standard input).
func (f *File) Path() string { return f.path }

// Offset returns the number of bytes of capture data consumed so far,
// headers included. For compressed input it counts uncompressed bytes, as
// the offsets in errors do.
func (f *File) Offset() int64 { return f.in.off }

// Consumed returns the number of bytes of the input consumed so far: Offset
// for uncompressed input, the compressed bytes taken by the decoder, which
// reads ahead of the packets returned, for compressed input. Against Size it
// says how far the input is read.
func (f *File) Consumed() int64 {
	if f.dec != nil {
		return f.dec.consumed()
	}
	return f.in.off
}

// Size returns the size of the input in bytes, compressed if the input is,
// or 0 when it is unknown, as for a pipe.
func (f *File) Size() int64 { return f.size }

// Compression returns "gzip" or "zstd" for compressed input and "" for
// uncompressed input.
func (f *File) Compression() string { return f.format }

// Close releases the input; standard input is left open. Next returns an
// error wrapping os.ErrClosed afterwards. Close is idempotent.
func (f *File) Close() error {
	f.err = fmt.Errorf("%s: %w", f.op("read"), os.ErrClosed)
	f.in.r = nil
	var errs []error
	if f.dec != nil {
		errs = append(errs, f.dec.Close())
	}
	if c := f.closer; c != nil {
		f.closer = nil
		errs = append(errs, c.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close capture %q: %w", f.path, err)
	}
	return nil
}
