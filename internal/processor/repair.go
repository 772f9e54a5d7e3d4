package processor

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/lc-voip/lc/internal/capture"
)

// errNotRepairable reports a file that repairPcap leaves alone because it
// does not start with a file header lc writes.
var errNotRepairable = errors.New("not a pcap file lc writes")

// repairBufferSize is the read buffer of repairPcap: record headers are
// read through it and record data is skipped in it.
const repairBufferSize = 64 << 10

// repairResult is what a repaired file holds.
type repairResult struct {
	Path    string // the file found, when it is not the path asked for: the compressed copy
	Packets int64
	Bytes   int64     // file size after repair
	First   time.Time // zero when no packet
	Last    time.Time
	Cut     int64 // bytes cut off the end
}

// repairPcap makes the pcap file f, which lc may have been writing when it
// was killed, end after its last whole record. It reads f from its start,
// record by record, through a buffer, so a large file is never held in
// memory, and stops at the first record that is cut short, in its header
// or in its data, or whose incl_len is larger than the snaplen of the file
// header. lc cuts every packet to a snaplen of at most pcapSnaplen and
// writes pcapSnaplen in its headers, so a longer record is not one it
// wrote and nothing after it can be followed. repairPcap then truncates f
// there, with one ftruncate at most, and leaves f's offset at the new end,
// ready for appending. It does not sync f.
//
// f must be open for reading and writing; its offset on entry does not
// matter. The result's times are UTC, in microseconds or nanoseconds as
// the file's magic number says.
//
// A file that does not start with a header lc writes is left untouched
// and reported with an error wrapping errNotRepairable; what to do with it
// is the caller's decision. That is a file shorter than the header, or
// whose header does not have lc's little-endian magic (capture.MagicMicro
// or capture.MagicNano), version 2.4 and a snaplen from 1 to pcapSnaplen.
// On any error the result is the zero value and f's content is unchanged.
func repairPcap(f *os.File) (repairResult, error) {
	fi, err := f.Stat()
	if err != nil {
		return repairResult{}, fmt.Errorf("repair pcap %q: %w", f.Name(), pathless(err))
	}
	size := fi.Size()
	r := bufio.NewReaderSize(io.NewSectionReader(f, 0, size), repairBufferSize)
	h, err := readRepairHeader(r, size)
	if err != nil {
		return repairResult{}, fmt.Errorf("repair pcap %q: %w", f.Name(), err)
	}
	res, err := scanRecords(r, h)
	if err != nil {
		return repairResult{}, fmt.Errorf("repair pcap %q: record %d at offset %d: %w",
			f.Name(), res.Packets+1, res.Bytes, pathless(err))
	}
	res.Cut = size - res.Bytes
	if _, err := f.Seek(res.Bytes, io.SeekStart); err != nil {
		return repairResult{}, fmt.Errorf("repair pcap %q: %w", f.Name(), pathless(err))
	}
	if res.Cut > 0 {
		if err := f.Truncate(res.Bytes); err != nil {
			return repairResult{}, fmt.Errorf("repair pcap %q: cut %d bytes to end it at %d: %w",
				f.Name(), res.Cut, res.Bytes, pathless(err))
		}
	}
	return res, nil
}

// repairHeader is what repairPcap needs of a file header.
type repairHeader struct {
	nano    bool
	snaplen uint32 // the largest incl_len of a record
}

// readRepairHeader reads the header of a file of size bytes from r and
// returns an error wrapping errNotRepairable unless lc could have written
// it.
func readRepairHeader(r io.Reader, size int64) (repairHeader, error) {
	b := make([]byte, pcapHeaderLen)
	if _, err := io.ReadFull(r, b); err == io.EOF || err == io.ErrUnexpectedEOF {
		return repairHeader{}, fmt.Errorf("%d bytes, shorter than a file header: %w", size, errNotRepairable)
	} else if err != nil {
		return repairHeader{}, pathless(err)
	}
	magic := binary.LittleEndian.Uint32(b[0:])
	major, minor := binary.LittleEndian.Uint16(b[4:]), binary.LittleEndian.Uint16(b[6:])
	h := repairHeader{nano: magic == capture.MagicNano, snaplen: binary.LittleEndian.Uint32(b[16:])}
	switch {
	case magic != capture.MagicMicro && magic != capture.MagicNano:
		return h, fmt.Errorf("magic number 0x%08x: %w", magic, errNotRepairable)
	case major != 2 || minor != 4:
		return h, fmt.Errorf("version %d.%d: %w", major, minor, errNotRepairable)
	case h.snaplen == 0 || h.snaplen > pcapSnaplen:
		return h, fmt.Errorf("snaplen %d: %w", h.snaplen, errNotRepairable)
	}
	return h, nil
}

// scanRecords reads the records that follow the file header from r up to
// the first one that is cut short or longer than the snaplen, and returns
// what the records before it hold: Bytes is where that record starts.
// The error is a read error, never the end of the file; with it, the
// result says where the record being read starts.
func scanRecords(r *bufio.Reader, h repairHeader) (repairResult, error) {
	res := repairResult{Bytes: pcapHeaderLen}
	var rec [pcapRecordLen]byte
	for {
		if _, err := io.ReadFull(r, rec[:]); err != nil {
			return res, readEnd(err)
		}
		n := binary.LittleEndian.Uint32(rec[8:])
		if n > h.snaplen {
			return res, nil
		}
		if _, err := r.Discard(int(n)); err != nil {
			return res, readEnd(err)
		}
		t := h.recordTime(rec[:])
		if res.Packets == 0 {
			res.First = t
		}
		res.Last = t
		res.Packets++
		res.Bytes += pcapRecordLen + int64(n)
	}
}

// readEnd maps the end of the file, met at a record boundary or inside a
// record, to nil, and returns any other error.
func readEnd(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return nil
	}
	return err
}

// recordTime is the capture time in the record header b.
func (h repairHeader) recordTime(b []byte) time.Time {
	sec := int64(binary.LittleEndian.Uint32(b[0:]))
	frac := int64(binary.LittleEndian.Uint32(b[4:]))
	if !h.nano {
		frac *= 1000
	}
	return time.Unix(sec, frac).UTC()
}
