package processor

import (
	"encoding/json"
	"time"

	"github.com/lc-voip/lc/internal/event"
)

// Ledger is told of every call and file the processor opens, so that a
// restart can close what a crash left open (see Recover): a call is begun
// under "call:" and its directory when it starts, and noted with each file
// it gets; a file is begun under "file:" and its path when it is created.
//
// The processor does not end them: the receiver of the event that reports
// a file or call ends its item (LedgerKey names it) right after making
// the event durable, so that no crash can leave an item that is neither
// open here nor reported by a durable event; an item a crash leaves open
// beside a durable event that reports it was closed already, and Recover
// ends it without a new event. Package journal implements it. It is called on the
// processing goroutine; it logs and counts its own failures.
type Ledger interface {
	Begin(id string, data []byte)
	Note(id string, data []byte)
	End(id string)
}

// LedgerItem is a call or file that a Ledger holds open: its key, the
// data it was begun with, and its notes.
type LedgerItem struct {
	ID    string
	Data  []byte
	Notes [][]byte
}

// Ledger key prefixes.
const (
	ledgerCall = "call:"
	ledgerFile = "file:"
)

// callRecord is what the ledger keeps of an open call.
type callRecord struct {
	CallID   string    `json:"callid"`
	Dirname  string    `json:"dirname"`
	Caller   string    `json:"caller"`
	Called   string    `json:"called"`
	CallDate time.Time `json:"calldate"`
	Partial  bool      `json:"partial"`
	Follows  string    `json:"follows,omitempty"`
}

// fileRecord is what the ledger keeps of an open file, and of each file
// of a call in the call's notes.
type fileRecord struct {
	Path   string         `json:"path"`
	Kind   event.FileKind `json:"kind"`
	CallID string         `json:"callid,omitempty"`
	Part   int            `json:"part"`
	Call   string         `json:"call,omitempty"` // the ledger key of its call
}

// nopLedger is the Ledger of a Processor without one.
type nopLedger struct{}

func (nopLedger) Begin(string, []byte) {}
func (nopLedger) Note(string, []byte)  {}
func (nopLedger) End(string)           {}

// record is v as the ledger keeps it.
func record(v any) []byte {
	data, _ := json.Marshal(v) // the records are plain structs
	return data
}

// callKey is c's ledger key.
func callKey(c *call) string { return ledgerCall + c.dirname }

// beginCall records that c started.
func (p *Processor) beginCall(c *call) {
	p.ledger.Begin(callKey(c), record(callRecord{CallID: c.id, Dirname: c.dirname, Caller: c.caller, Called: c.called,
		CallDate: c.first, Partial: c.partial, Follows: c.follows}))
}

// LedgerKey is the key of the Ledger item of the file or call that ev
// reports. A compressed file's item is the one of the pcap it was made
// from.
func LedgerKey(ev event.Event) string {
	switch e := ev.(type) {
	case event.FileClosed:
		return ledgerFile + rawPath(e.Path)
	case event.CallCompleted:
		return ledgerCall + e.Dirname
	}
	return ""
}
