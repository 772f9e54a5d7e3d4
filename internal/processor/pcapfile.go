package processor

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/lc-voip/lc/internal/capture"
	"github.com/lc-voip/lc/internal/event"
)

// Classic pcap constants (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcap-04.html).
const (
	pcapHeaderLen   = 24
	pcapRecordLen   = 16
	pcapSnaplen     = 262144
	writeBufferSize = 32 << 10
)

// format is what a pcap file header fixes for every record in the file.
type format struct {
	linkType uint32
	nano     bool
}

// formatOf is the format a file holding p must have.
func formatOf(p *capture.Packet) format {
	return format{linkType: uint32(p.LinkType), nano: p.Nanosecond}
}

// fileHandle is what a pcapFile writes through: the rawFile it opened,
// or, in tests, a file that fails on demand.
type fileHandle interface {
	Write(b []byte) (int, error)
	Truncate(size int64) error
	Close() error
}

// extent is what a pcap file holds: packet records, size in bytes (file
// header included) and the capture times of its first and last record.
type extent struct {
	packets     int64
	bytes       int64
	first, last time.Time
}

// pcapFile is one output file. While open it holds a descriptor and a
// buffer of whole records; the file cache may close the descriptor
// (evict) and reopen it for append, which is invisible to the owner.
//
// Two extents describe it: the records it accepted, which decide rotation
// by size, and the records that successful writes put in the file, which
// the events report. Its age and idle time are measured from opened and
// touched, the processor's times of its first and last packet, which
// differ from the records' own times only for a stray packet (see
// clock.go). They are the same once the buffer is written,
// unless a write failed: the file is then cut back to its last complete
// record, err says why, and the file takes no more records.
type pcapFile struct {
	path   string
	kind   event.FileKind
	format format
	extent        // accepted: on disk or in buf
	disk   extent // written: what is in the file
	err    error  // the first failure; the file takes no more records

	opened, touched time.Time // when its first and its last packet counted as arriving

	// Maintained by fileCache.
	f          fileHandle
	buf        []byte    // records accepted and not written yet, whole ones only
	buffered   int64     // how many records buf holds
	inflight   int       // buffers of the file in the writer
	prev, next *pcapFile // LRU list of open files

	writeFailed bool // the writer's own: a write to the file failed
}

// header returns the file header.
func (pf *pcapFile) header() []byte {
	h := make([]byte, pcapHeaderLen)
	magic := uint32(capture.MagicMicro)
	if pf.format.nano {
		magic = capture.MagicNano
	}
	binary.LittleEndian.PutUint32(h[0:], magic)
	binary.LittleEndian.PutUint16(h[4:], 2)
	binary.LittleEndian.PutUint16(h[6:], 4)
	binary.LittleEndian.PutUint32(h[16:], pcapSnaplen)
	binary.LittleEndian.PutUint32(h[20:], pf.format.linkType)
	return h
}

// appendRecordHeader appends the header of p's record to b; p.Data
// follows it in the file.
func (pf *pcapFile) appendRecordHeader(b []byte, p *capture.Packet) []byte {
	ts := p.Info.Timestamp
	frac := int64(ts.Nanosecond())
	if !pf.format.nano {
		frac /= 1000
	}
	caplen := len(p.Data)
	origlen := max(p.Info.Length, caplen)
	b = binary.LittleEndian.AppendUint32(b, uint32(ts.Unix()))
	b = binary.LittleEndian.AppendUint32(b, uint32(frac))
	b = binary.LittleEndian.AppendUint32(b, uint32(caplen))
	return binary.LittleEndian.AppendUint32(b, uint32(origlen))
}

// accept counts p as one more record of the file.
func (pf *pcapFile) accept(p *capture.Packet) {
	ts := p.Info.Timestamp
	if pf.packets == 0 {
		pf.first = ts
	}
	pf.packets++
	pf.last = ts
	pf.bytes += recordSize(p)
}

// recordTime is the capture time a record header written by appendRecordHeader
// holds.
func (pf *pcapFile) recordTime(h []byte) time.Time {
	sec := int64(binary.LittleEndian.Uint32(h[0:]))
	frac := int64(binary.LittleEndian.Uint32(h[4:]))
	if !pf.format.nano {
		frac *= 1000
	}
	return time.Unix(sec, frac).UTC()
}

// written adds to the disk extent the records of pending (records that
// follow what is in the file) that a write completed when it put only the
// first n bytes of pending in the file. It returns how many records that
// is, and how many bytes of the next, incomplete record follow them.
func (pf *pcapFile) written(pending []byte, n int) (records int64, cut int) {
	off := 0
	for off+pcapRecordLen <= n {
		end := off + pcapRecordLen + int(binary.LittleEndian.Uint32(pending[off+8:]))
		if end > n {
			break
		}
		if pf.disk.packets == 0 {
			pf.disk.first = pf.first // the file's first record
		}
		pf.disk.last = pf.recordTime(pending[off:])
		pf.disk.packets++
		records++
		off = end
	}
	pf.disk.bytes += int64(off)
	return records, n - off
}

// cutBack truncates the file to the end of its last complete record after
// a write failed (cause) leaving cut bytes of an incomplete record behind,
// and returns the file's error. When even the truncation fails, the error
// says so and the disk extent counts the bytes left behind.
func (pf *pcapFile) cutBack(cut int, cause error) error {
	var terr error
	if cut > 0 {
		terr = pf.f.Truncate(pf.disk.bytes)
	}
	return pf.writeError(cut, cause, terr)
}

// writeError is the file's error after a write failed (cause) and left cut
// bytes of an incomplete record behind, which truncating the file could
// not remove when terr is set: the disk extent then counts them.
func (pf *pcapFile) writeError(cut int, cause, terr error) error {
	err := fmt.Errorf("write pcap %q: %w", pf.path, pathless(cause))
	if terr != nil {
		err = fmt.Errorf("%w; cutting it back to its last complete record at %d bytes failed: %w",
			err, pf.disk.bytes, pathless(terr))
		pf.disk.bytes += int64(cut)
	}
	return err
}

// pathless returns the error a *fs.PathError wraps, whose path the
// messages here already name, and err itself otherwise.
func pathless(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// recordSize is the number of bytes p adds to a file.
func recordSize(p *capture.Packet) int64 { return int64(pcapRecordLen + len(p.Data)) }

// errString is err's message, or "" for nil.
func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
