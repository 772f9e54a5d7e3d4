package processor

import (
	"slices"
	"time"

	"github.com/lc-voip/lc/internal/capture"
	"github.com/lc-voip/lc/internal/event"
)

// stream is a sequence of pcap files of one kind that replace each other:
// a call's SIP or RTP parts, or the rotating "other" files. It starts a new
// part when the next packet would pass maxSize or has another format, and
// reports every file it closes. Once writing to it failed, it takes no
// more packets: a run stops at its first write error, and what is still
// processed then goes to the streams that did not fail.
type stream struct {
	ledger  Ledger
	call    string // the ledger key of the call the stream belongs to; "" for "other" files
	kind    event.FileKind
	callID  string
	maxSize int64         // 0: no size limit
	maxAge  time.Duration // 0: no age limit
	// name returns the path of part number part, whose first packet is p.
	name func(p *capture.Packet, part int) (string, error)

	cur     *pcapFile
	parts   int             // files begun before cur, or before the next file: the part number of the one
	paths   []string        // closed files, in order, once their event.FileClosed is made
	written int64           // packets in the closed files, as their event.FileClosed events report them
	err     error           // the first failure
	errs    []string        // why packets meant for the stream are not in its files, each message once
	last    *capture.Packet // the packet written last, so a packet reaching the stream twice is written once
}

// write appends p, rotating first when needed; at is the time p counts as
// (its own, or the clock's for a stray: see Processor.when), which the age
// of files is measured in. It reports false, and writes nothing, when p is
// the packet it wrote last. An error means that p is not in the stream's
// files; the stream keeps its message.
func (s *stream) write(fc *fileCache, p *capture.Packet, at time.Time, emit func(event.Event)) (bool, error) {
	if p == s.last {
		return false, nil
	}
	if s.err != nil {
		return false, s.err
	}
	if s.cur != nil {
		var rotate event.CloseReason
		switch {
		case s.cur.format != formatOf(p):
			rotate = event.ReasonRotateLink
		case s.maxSize > 0 && s.cur.packets > 0 && s.cur.bytes+recordSize(p) > s.maxSize:
			rotate = event.ReasonRotateSize
		case s.maxAge > 0 && at.Sub(s.cur.opened) >= s.maxAge:
			rotate = event.ReasonRotateAge
		}
		if rotate != "" {
			s.close(fc, rotate, emit)
		}
	}
	if s.cur == nil {
		path, err := s.name(p, s.parts)
		if err != nil {
			return false, s.fail(err)
		}
		s.cur = &pcapFile{path: path, kind: s.kind, format: formatOf(p), opened: at}
		s.begin(s.cur)
	}
	s.last = p
	if err := fc.write(s.cur, p); err != nil {
		return false, s.fail(err)
	}
	s.cur.touched = at
	return true, nil
}

// begin records in the ledger that pf, the stream's next part, was
// created (and, for a call's stream, notes it on the call).
func (s *stream) begin(pf *pcapFile) {
	r := record(fileRecord{Path: pf.path, Kind: s.kind, CallID: s.callID, Part: s.parts, Call: s.call})
	s.ledger.Begin(ledgerFile+pf.path, r)
	if s.call != "" {
		s.ledger.Note(s.call, r)
	}
}

// fail keeps err's message among the stream's errors, once, and returns
// err.
func (s *stream) fail(err error) error {
	if s.err == nil {
		s.err = err
	}
	if msg := err.Error(); !slices.Contains(s.errs, msg) {
		s.errs = append(s.errs, msg)
	}
	return err
}

// close finishes the current file, if any. Once the file cache has
// closed it, it emits its event.FileClosed, which reports what is in the
// file: when a write failed, the records that reached it and the error.
// A failure to write or close it reaches the processor through the
// cache.
func (s *stream) close(fc *fileCache, reason event.CloseReason, emit func(event.Event)) {
	pf := s.cur
	if pf == nil {
		return
	}
	s.cur = nil
	part := s.parts
	s.parts++
	fc.closeFile(pf, func() {
		s.paths = append(s.paths, pf.path)
		s.written += pf.disk.packets
		if pf.err != nil {
			s.fail(pf.err)
		}
		emit(event.FileClosed{
			Path: pf.path, Kind: s.kind, CallID: s.callID, Part: part, Reason: reason,
			Packets: pf.disk.packets, Bytes: pf.disk.bytes, First: pf.disk.first, Last: pf.disk.last,
			Error: errString(pf.err),
		})
	})
}
