package processor

import (
	"time"

	"github.com/lc-voip/lc/internal/capture"
)

// stream is a sequence of pcap files of one kind that replace each other:
// a call's SIP or RTP parts, or the rotating "other" files. It starts a new
// part when the next packet would pass maxSize or has another format, and
// reports every file it closes.
type stream struct {
	kind    FileKind
	callID  string
	maxSize int64         // 0: no size limit
	maxAge  time.Duration // 0: no age limit
	// name returns the path of part number part, whose first packet is p.
	name func(p *capture.Packet, part int) (string, error)

	cur   *pcapFile
	part  int             // part number of cur, or of the next file when cur is nil
	paths []string        // closed files, in order
	last  *capture.Packet // the packet written last, so a packet reaching the stream twice is written once
}

// write appends p, rotating first when needed. It reports false, and
// writes nothing, when p is the packet it wrote last.
func (s *stream) write(fc *fileCache, p *capture.Packet, emit func(Event)) (bool, error) {
	if p == s.last {
		return false, nil
	}
	if s.cur != nil {
		switch {
		case s.cur.format != formatOf(p):
			if err := s.close(fc, ReasonRotateLink, emit); err != nil {
				return false, err
			}
		case s.maxSize > 0 && s.cur.packets > 0 && s.cur.bytes+recordSize(p) > s.maxSize:
			if err := s.close(fc, ReasonRotateSize, emit); err != nil {
				return false, err
			}
		case s.maxAge > 0 && p.Info.Timestamp.Sub(s.cur.first) >= s.maxAge:
			if err := s.close(fc, ReasonRotateAge, emit); err != nil {
				return false, err
			}
		}
	}
	if s.cur == nil {
		path, err := s.name(p, s.part)
		if err != nil {
			return false, err
		}
		s.cur = &pcapFile{path: path, format: formatOf(p)}
	}
	s.last = p
	return true, fc.write(s.cur, p)
}

// close finishes the current file, if any, and emits its FileClosed.
func (s *stream) close(fc *fileCache, reason CloseReason, emit func(Event)) error {
	pf := s.cur
	if pf == nil {
		return nil
	}
	s.cur = nil
	s.part++
	err := fc.close(pf)
	s.paths = append(s.paths, pf.path)
	emit(FileClosed{
		Path: pf.path, Kind: s.kind, CallID: s.callID, Part: s.part - 1, Reason: reason,
		Packets: pf.packets, Bytes: pf.bytes, First: pf.first, Last: pf.last,
	})
	return err
}
