package processor

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/lc-voip/lc/internal/event"
)

// repaired is what repair found of a file.
type repaired struct {
	res repairResult
	err error
}

// Recovered is what Recover closed.
type Recovered struct {
	Calls int   // calls completed as interrupted
	Files int   // files repaired and closed
	Cut   int64 // bytes of half-written records cut off the files
}

// Recover closes the calls and files that a crash left open, as the items
// of the Ledger of the run that crashed say, before Run: each file is
// repaired (cut back after its last whole record, so that it reads
// cleanly; a file without a whole header is removed) and reported by a
// FileClosed with reason "interrupted"; each call by a CallCompleted in
// state "interrupted" that lists all its files, the closed ones too, with
// what they hold. A call's FileClosed events come before its
// CallCompleted. As for every event, the receiver of each event ends its
// item (see Ledger). An item that one of the pending events (those the
// crashed run made durable and whose hooks still run) reports is ended
// without an event: the crash came between the event and the end of its
// item. Items that are not the processor's are ignored.
func (p *Processor) Recover(items []LedgerItem, pending []event.Event) Recovered {
	var rec Recovered
	reported := map[string]bool{}
	for _, ev := range pending {
		reported[LedgerKey(ev)] = true
	}
	files := map[string]fileRecord{}
	var calls []LedgerItem
	var order []string
	for _, it := range items {
		switch {
		case reported[it.ID]:
			p.ledger.End(it.ID) // closed already: a pending event reports it
		case strings.HasPrefix(it.ID, ledgerFile):
			var r fileRecord
			if json.Unmarshal(it.Data, &r) == nil {
				files[r.Path] = r
				order = append(order, r.Path)
			}
		case strings.HasPrefix(it.ID, ledgerCall):
			calls = append(calls, it)
		}
	}
	held := map[string]repaired{} // what each file closed here holds
	closeFile := func(r fileRecord) {
		res, err := p.repair(r.Path)
		held[r.Path] = repaired{res, err}
		rec.Files++
		rec.Cut += res.Cut
		p.emit(event.FileClosed{Path: res.path(r.Path), Kind: r.Kind, CallID: r.CallID, Part: r.Part, Reason: event.ReasonInterrupted,
			Packets: res.Packets, Bytes: res.Bytes, First: res.First, Last: res.Last, Error: errString(err)})
		delete(files, r.Path)
	}
	for _, c := range calls {
		var cr callRecord
		if json.Unmarshal(c.Data, &cr) != nil {
			continue
		}
		callFiles := fileRecords(c.Notes)
		for _, r := range callFiles {
			if _, open := files[r.Path]; open {
				closeFile(r)
			}
		}
		p.completeInterrupted(cr, callFiles, held)
		rec.Calls++
	}
	for _, path := range order {
		if r, open := files[path]; open {
			closeFile(r)
		}
	}
	return rec
}

// fileRecords decodes the files a call's notes name.
func fileRecords(notes [][]byte) []fileRecord {
	var files []fileRecord
	for _, n := range notes {
		var r fileRecord
		if json.Unmarshal(n, &r) == nil {
			files = append(files, r)
		}
	}
	return files
}

// completeInterrupted emits the CallCompleted of a call a crash left open,
// with all its files; held has what the files closed by Recover hold, the
// others are read.
func (p *Processor) completeInterrupted(cr callRecord, files []fileRecord, held map[string]repaired) {
	ev := event.CallCompleted{CallID: cr.CallID, Dirname: cr.Dirname, Caller: cr.Caller, Called: cr.Called,
		CallDate: cr.CallDate, EndDate: cr.CallDate, State: event.StateInterrupted, Partial: cr.Partial, Follows: cr.Follows}
	for _, r := range files {
		h, ok := held[r.Path]
		if !ok {
			h.res, h.err = p.repair(r.Path) // closed before the crash: whole, nothing to cut
		}
		res := h.res
		if res.Last.After(ev.EndDate) {
			ev.EndDate = res.Last
		}
		switch {
		case h.err != nil:
			ev.Incomplete = true
			ev.Errors = append(ev.Errors, r.Path+": "+h.err.Error())
		case res.Cut > 0:
			ev.Incomplete = true
			ev.Errors = append(ev.Errors, fmt.Sprintf("%s: %d bytes of a record half written when lc stopped were cut", r.Path, res.Cut))
		}
		switch r.Kind {
		case event.KindSIP:
			ev.SIPFiles, ev.SIPPackets = append(ev.SIPFiles, res.path(r.Path)), ev.SIPPackets+res.Packets
		case event.KindRTP:
			ev.RTPFiles, ev.RTPPackets = append(ev.RTPFiles, res.path(r.Path)), ev.RTPPackets+res.Packets
		}
	}
	p.stats.Calls[event.StateInterrupted]++
	p.emit(ev)
}

// path is the path of the file repaired: the compressed copy found, or
// the one asked for.
func (r repairResult) path(asked string) string {
	if r.Path != "" {
		return r.Path
	}
	return asked
}

// errNeverWritten is the error of a file lc stopped before writing: it is
// missing, or too short to hold a header and removed.
var errNeverWritten = errors.New("lc stopped before anything reached this file: there is no file")

// repair repairs the file at path, reached beneath the output directory.
// A file too short to hold a header is removed; it and a missing one
// (lc stopped before creating it) hold nothing: errNeverWritten.
//
// With compression, a crash may come while a closed file is compressed:
// when the pcap is missing, the compressed copy renamed into place is the
// file; when the pcap is there, a compressed copy of it is removed (its
// event was never made) and the pcap is the file.
func (p *Processor) repair(path string) (repairResult, error) {
	f, err := p.out.openFile(path, os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		if whole := p.compressedCopy(path); whole != "" {
			return p.readWhole(whole)
		}
		return repairResult{}, errNeverWritten
	}
	if err == nil {
		if copied := p.compressedCopy(path); copied != "" {
			p.out.remove(copied)
		}
	}
	if err != nil {
		return repairResult{}, fmt.Errorf("repair: %w", err)
	}
	defer f.Close()
	res, err := repairPcap(f)
	if errors.Is(err, errNotRepairable) {
		if fi, serr := f.Stat(); serr == nil && fi.Size() < pcapHeaderLen {
			if rerr := p.out.remove(path); rerr == nil {
				return repairResult{}, errNeverWritten
			}
		}
		return res, err
	}
	if err == nil && res.Cut > 0 {
		err = f.Sync()
	}
	return res, err
}
