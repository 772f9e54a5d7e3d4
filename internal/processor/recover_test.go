package processor

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lc-voip/lc/internal/event"
	"github.com/lc-voip/lc/internal/journal"
	"github.com/lc-voip/lc/internal/testpcap"
)

// journalLedger is a journal as a Ledger.
type journalLedger struct {
	t *testing.T
	j *journal.Journal
}

func (l journalLedger) Begin(id string, data []byte) { l.check(l.j.Begin(id, data)) }
func (l journalLedger) Note(id string, data []byte)  { l.check(l.j.Note(id, data)) }
func (l journalLedger) End(id string)                { l.check(l.j.End(id)) }

func (l journalLedger) check(err error) {
	if err != nil {
		l.t.Error(err)
	}
}

// withJournal makes a run record in j and end each item once the event
// that reports it was emitted, as lc does once the event is durable.
func withJournal(t *testing.T, j *journal.Journal) func(*Config) {
	return func(c *Config) {
		c.Ledger = journalLedger{t, j}
		emit := c.Emit
		c.Emit = func(e event.Event) {
			emit(e)
			j.End(LedgerKey(e))
		}
	}
}

func openJournal(t *testing.T, dir string) (*journal.Journal, []LedgerItem) {
	t.Helper()
	j, rec, err := journal.Open(dir, journal.Options{Sync: journal.SyncOff})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	var items []LedgerItem
	for _, it := range rec.Items {
		items = append(items, LedgerItem{ID: it.ID, Data: it.Data, Notes: it.Notes})
	}
	return j, items
}

// TestRecoverAfterCrash: a run dies with a call and an "other" file open
// and the last record of the call's SIP file half written; the next run
// repairs the files, reports each with a FileClosed ("interrupted") and
// the call with a CallCompleted ("interrupted") after them, and ends the
// ledger's items; a call that had ended is left alone.
func TestRecoverAfterCrash(t *testing.T) {
	out, jdir := t.TempDir(), t.TempDir()
	j, _ := openJournal(t, jdir)
	r := startRun(t, out, withJournal(t, j))
	tl := &testpcap.Timeline{Now: t0}
	tl.BasicCall(testpcap.NewDialog(1), 3)
	tl.Now = tl.Now.Add(DefaultGrace + time.Second) // call 1 ends before call 2 starts
	tl.BasicCall(testpcap.NewDialog(2), 3)
	o := testpcap.NewDialog(3)
	tl.Add(testpcap.UDP(o.Caller, o.Callee, o.Request("OPTIONS", 1, "", "")), 0)
	pkts := slices.Delete(tl.Pkts, len(tl.Pkts)-3, len(tl.Pkts)-1) // call 2 loses its BYE and 200
	r.feed(pkts...)
	if err := r.p.files.flushAll(); err != nil { // what reached the files before the kill
		t.Fatal(err)
	}
	j.Close() // the kill: nothing else is closed

	j2, items := openJournal(t, jdir)
	var sipPath string
	for _, it := range items {
		if strings.HasPrefix(it.ID, ledgerFile) && strings.HasSuffix(it.ID, "_sip.pcap") {
			sipPath = strings.TrimPrefix(it.ID, ledgerFile)
		}
	}
	fi, err := os.Stat(sipPath)
	if err != nil {
		t.Fatalf("the open call's SIP file: %v (ledger items %d)", err, len(items))
	}
	if err := os.Truncate(sipPath, fi.Size()-5); err != nil {
		t.Fatal(err)
	}

	r2 := startRun(t, out, withJournal(t, j2))
	got := r2.p.Recover(items, nil)
	if got.Calls != 1 || got.Files != 3 || got.Cut == 0 {
		t.Fatalf("Recover = %+v, want 1 call, 3 files, a cut", got)
	}
	var kinds []string
	for _, e := range r2.events {
		switch e := e.(type) {
		case event.FileClosed:
			kinds = append(kinds, string(e.Kind))
			if e.Reason != event.ReasonInterrupted || e.Error != "" {
				t.Errorf("file event %+v", e)
			}
			if n, _, _, err := readCapture(e.Path); err != nil || n != e.Packets {
				t.Errorf("%s reads %d packets, %v; the event says %d", e.Path, n, err, e.Packets)
			}
		case event.CallCompleted:
			kinds = append(kinds, "call")
			if e.State != event.StateInterrupted || e.CallID != testpcap.NewDialog(2).CallID || len(e.SIPFiles) != 1 || len(e.RTPFiles) != 1 ||
				e.SIPPackets != 4 || e.RTPPackets != 6 || !e.Incomplete || e.EndDate.Before(e.CallDate) {
				t.Errorf("call event %+v", e)
			}
		}
	}
	if want := []string{"sip", "rtp", "call", "other"}; !slices.Equal(kinds, want) {
		t.Errorf("events %v, want %v", kinds, want)
	}
	if open := j2.Items(); len(open) != 0 {
		t.Errorf("the ledger still holds %d items", len(open))
	}
}

// TestRecoverSkipsReported: a file whose item a crash left open while a
// durable event already reports it (the crash came between the two) is
// not reported again; its item is ended.
func TestRecoverSkipsReported(t *testing.T) {
	out, jdir := t.TempDir(), t.TempDir()
	j, _ := openJournal(t, jdir)
	r := startRun(t, out, withJournal(t, j))
	o := testpcap.NewDialog(1)
	tl := &testpcap.Timeline{Now: t0}
	tl.Add(testpcap.UDP(o.Caller, o.Callee, o.Request("OPTIONS", 1, "", "")), 0)
	r.feed(tl.Pkts...)
	if err := r.p.files.flushAll(); err != nil {
		t.Fatal(err)
	}
	j.Close()

	j2, items := openJournal(t, jdir)
	if len(items) != 1 {
		t.Fatalf("ledger items after the crash: %d, want the other file's", len(items))
	}
	reported := event.FileClosed{Path: strings.TrimPrefix(items[0].ID, ledgerFile), Kind: event.KindOther}
	r2 := startRun(t, out, withJournal(t, j2))
	if got := r2.p.Recover(items, []event.Event{reported}); got.Files != 0 || len(r2.events) != 0 {
		t.Errorf("Recover = %+v with events %v; want nothing reported again", got, r2.events)
	}
	if open := j2.Items(); len(open) != 0 {
		t.Errorf("the ledger still holds %d items", len(open))
	}
}
