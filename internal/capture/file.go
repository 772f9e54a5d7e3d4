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
// A File is used by one goroutine. Every Packet it returns owns its Data.
// Once Next has returned an error, later calls return the same error.
// The zero File is not usable; OpenFile makes one.
type File struct {
	path    string
	source  int
	size    int64
	closer  io.Closer // nil for standard input, which the File does not own
	in      input
	records recordReader
	frame   int   // packets returned so far
	err     error // sticky: io.EOF, a read error, or the error after Close
}

// OpenFile opens the capture at path; "-" reads standard input. The format
// (classic pcap in either byte order and resolution, or pcapng) is detected
// from the magic number. source is copied into the Source of every Packet.
func OpenFile(path string, source int) (*File, error) {
	return openFile(path, source, os.Stdin)
}

// OpenReader reads a capture from r, which the File does not close; name
// is used in errors. It is how standard input is read.
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

// newFile reads the file header from r and returns a File positioned at the
// first record. size is the input size (0 when unknown); closer, if not nil,
// is closed by Close.
func newFile(r io.Reader, path string, size int64, source int, closer io.Closer) (*File, error) {
	f := &File{
		path:   path,
		source: source,
		size:   size,
		closer: closer,
		in:     input{r: bufio.NewReaderSize(r, readBufferSize)},
	}
	b, err := f.in.peek(4)
	if err == io.EOF {
		return nil, fmt.Errorf("open capture %q: %w: empty input", path, ErrTruncated)
	}
	if err != nil {
		return nil, fmt.Errorf("open capture %q: %w", path, err)
	}
	switch magic := binary.BigEndian.Uint32(b); magic {
	case magicMicroBig, magicMicroLittle, magicNanoBig, magicNanoLittle:
		f.records, err = readPcapHeader(&f.in)
	case magicPcapng:
		f.records, err = readPcapngHeader(&f.in)
	default:
		return nil, fmt.Errorf("open capture %q: not a pcap or pcapng file (magic 0x%08x)", path, magic)
	}
	if err != nil {
		return nil, fmt.Errorf("open capture %q: file header: %w", path, err)
	}
	return f, nil
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
			err = fmt.Errorf("read capture %q: frame %d at offset %d: %w", f.path, f.frame+1, f.in.start, err)
		}
		f.err = err
		return Packet{}, err
	}
	f.frame++
	p.Source = f.source
	p.Frame = f.frame
	return p, nil
}

// Path returns the path the File was opened with ("-" for standard input).
func (f *File) Path() string { return f.path }

// Offset returns the number of bytes consumed so far, headers included.
func (f *File) Offset() int64 { return f.in.off }

// Size returns the size of the input in bytes, or 0 when it is unknown, as
// for a pipe.
func (f *File) Size() int64 { return f.size }

// Close releases the input; standard input is left open. Next returns an
// error wrapping os.ErrClosed afterwards. Close is idempotent.
func (f *File) Close() error {
	f.err = fmt.Errorf("read capture %q: %w", f.path, os.ErrClosed)
	f.in.r = nil
	c := f.closer
	f.closer = nil
	if c == nil {
		return nil
	}
	if err := c.Close(); err != nil {
		return fmt.Errorf("close capture %q: %w", f.path, err)
	}
	return nil
}
