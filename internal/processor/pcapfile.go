package processor

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"os"
	"time"

	"github.com/lc-voip/lc/internal/capture"
)

// Classic pcap constants (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcap-04.html).
const (
	pcapMagicMicro  = 0xa1b2c3d4
	pcapMagicNano   = 0xa1b23c4d
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

// pcapFile is one output file. While open it holds a descriptor and a
// buffer; the file cache may close the descriptor (evict) and reopen it for
// append, which is invisible to the owner.
type pcapFile struct {
	path    string
	format  format
	packets int64
	bytes   int64 // size on disk once flushed, header included
	first   time.Time
	last    time.Time

	// Maintained by fileCache.
	f          *os.File
	w          *bufio.Writer
	prev, next *pcapFile // LRU list of open files
}

// create makes the file and writes its header; it fails if the path
// exists, even as a symlink, and (on Linux) when a directory on the way is
// a symlink.
func (pf *pcapFile) create(buf *bufio.Writer) error {
	f, err := openFileNoSymlinks(pf.path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("create pcap %q: %w", pf.path, err)
	}
	pf.f, pf.w = f, buf
	buf.Reset(f)
	var h [pcapHeaderLen]byte
	magic := uint32(pcapMagicMicro)
	if pf.format.nano {
		magic = pcapMagicNano
	}
	binary.LittleEndian.PutUint32(h[0:], magic)
	binary.LittleEndian.PutUint16(h[4:], 2)
	binary.LittleEndian.PutUint16(h[6:], 4)
	binary.LittleEndian.PutUint32(h[16:], pcapSnaplen)
	binary.LittleEndian.PutUint32(h[20:], pf.format.linkType)
	_, err = buf.Write(h[:])
	pf.bytes = pcapHeaderLen
	return err
}

// reopen opens an evicted file again for append. A file swapped for a
// symlink since it was created fails, as does (on Linux) a directory on
// the way: the write never goes where the symlink points.
func (pf *pcapFile) reopen(buf *bufio.Writer) error {
	f, err := openFileNoSymlinks(pf.path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return fmt.Errorf("reopen pcap %q: %w", pf.path, err)
	}
	pf.f, pf.w = f, buf
	buf.Reset(f)
	return nil
}

// write appends one record.
func (pf *pcapFile) write(p *capture.Packet) error {
	ts := p.Info.Timestamp
	frac := int64(ts.Nanosecond())
	if !pf.format.nano {
		frac /= 1000
	}
	caplen := len(p.Data)
	origlen := max(p.Info.Length, caplen)
	// The record header is built in the writer's own buffer: no copy, no
	// allocation.
	h := pf.w.AvailableBuffer()
	h = binary.LittleEndian.AppendUint32(h, uint32(ts.Unix()))
	h = binary.LittleEndian.AppendUint32(h, uint32(frac))
	h = binary.LittleEndian.AppendUint32(h, uint32(caplen))
	h = binary.LittleEndian.AppendUint32(h, uint32(origlen))
	if _, err := pf.w.Write(h); err != nil {
		return err
	}
	if _, err := pf.w.Write(p.Data); err != nil {
		return err
	}
	if pf.packets == 0 {
		pf.first = ts
	}
	pf.packets++
	pf.last = ts
	pf.bytes += int64(pcapRecordLen + caplen)
	return nil
}

// recordSize is the number of bytes p adds to a file.
func recordSize(p *capture.Packet) int64 { return int64(pcapRecordLen + len(p.Data)) }

// release flushes and closes the descriptor, keeping the metadata.
func (pf *pcapFile) release() error {
	err := pf.w.Flush()
	if cerr := pf.f.Close(); err == nil {
		err = cerr
	}
	pf.f, pf.w = nil, nil
	if err != nil {
		return fmt.Errorf("close pcap %q: %w", pf.path, err)
	}
	return nil
}
