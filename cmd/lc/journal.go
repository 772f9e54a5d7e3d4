package main

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/lc-voip/lc/internal/event"
	"github.com/lc-voip/lc/internal/journal"
	"github.com/lc-voip/lc/internal/processor"
	"github.com/lc-voip/lc/internal/script"
	"github.com/spf13/pflag"
)

// journalOptions are the flags of the journal.
type journalOptions struct {
	enabled bool
	sync    string
}

func (o *journalOptions) addFlags(f *pflag.FlagSet) {
	f.BoolVar(&o.enabled, "journal", true, "keep events, hook runs and open calls in OUTPUT-DIR/.lc/journal, so that a restart after a crash runs what was left and closes what was open")
	f.StringVar(&o.sync, "journal-sync", "batch", "when the journal reaches the disk: batch (within 100ms), always (before going on) or off (left to the kernel)")
}

// validate reports a bad sync mode.
func (o *journalOptions) validate() []error {
	if _, err := journal.ParseSyncMode(o.sync); err != nil {
		return []error{&flagError{Flag: "journal-sync", Value: o.sync, Reason: "must be batch, always or off"}}
	}
	return nil
}

// journalDir is where lc keeps the journal of the output directory out.
func journalDir(out string) string { return filepath.Join(out, ".lc", "journal") }

// journalLink is the journal of a run as the hook engine and the processor
// see it. They are made before the journal is opened (after the output
// directory exists and privileges are dropped); until then, and without
// --journal, it keeps nothing.
type journalLink struct {
	j      atomic.Pointer[journal.Journal]
	log    *slog.Logger
	warned atomic.Bool // a failure of the processor's records was logged

	// killAfter, when positive, makes lc kill itself with SIGKILL right
	// after that many journal records: the crash tests' way to stop it
	// between any two records. Set from killAfterEnv.
	killAfter int64
	records   atomic.Int64
}

// killAfterEnv names the environment variable that sets
// journalLink.killAfter. Only the crash tests set it.
const killAfterEnv = "LC_TEST_KILL_AFTER_JOURNAL_RECORDS"

// Begin implements script.Journal.
func (l *journalLink) Begin(id string, data []byte) error {
	err := l.write(func(j *journal.Journal) error { return j.Begin(id, data) })
	if errors.Is(err, journal.ErrBegun) {
		return script.ErrPending
	}
	return err
}

// Note implements script.Journal.
func (l *journalLink) Note(id string, data []byte) error {
	return l.write(func(j *journal.Journal) error { return j.Note(id, data) })
}

// End implements script.Journal.
func (l *journalLink) End(id string) error {
	return l.write(func(j *journal.Journal) error { return j.End(id) })
}

// Data implements script.Journal.
func (l *journalLink) Data(id string) ([]byte, error) {
	j := l.j.Load()
	if j == nil {
		return nil, errors.New("no journal")
	}
	return j.Data(id)
}

func (l *journalLink) write(f func(*journal.Journal) error) error {
	j := l.j.Load()
	if j == nil {
		return nil
	}
	err := f(j)
	if l.killAfter > 0 && l.records.Add(1) == l.killAfter {
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
	}
	return err
}

// ledger is the journal as the processor's Ledger: a failure is logged
// (the first loudly) and counted by the journal.
type ledger struct{ l *journalLink }

func (g ledger) Begin(id string, data []byte) { g.failed(g.l.Begin(id, data)) }
func (g ledger) Note(id string, data []byte)  { g.failed(g.l.Note(id, data)) }
func (g ledger) End(id string)                { g.failed(g.l.End(id)) }

func (g ledger) failed(err error) {
	if err == nil {
		return
	}
	if !g.l.warned.Swap(true) {
		g.l.log.Error("journal write failed: calls and files open now may not be closed after a crash (later failures are counted, not logged)", "error", err)
	}
}

// resumed is what opening the journal found of an earlier run.
type resumed struct {
	replayed  int // events whose hooks had not all run
	recovered processor.Recovered
	setAside  string // where an unreadable journal went
}

// any reports whether the earlier run left work: events or open calls or
// files.
func (r resumed) any() bool { return r.replayed > 0 || r.recovered.Calls > 0 || r.recovered.Files > 0 }

// resumedFigures is what openJournal found; zero without a journal. Safe
// from any goroutine.
func (r *processRun) resumedFigures() resumed {
	if found := r.found.Load(); found != nil {
		return *found
	}
	return resumed{}
}

// openJournal opens the journal of the output directory, hands the events
// an earlier run left unfinished to the engine and the calls and files it
// left open to the processor, and says what it found.
func (r *processRun) openJournal() error {
	if !r.opt.journal.enabled {
		return nil
	}
	mode, _ := journal.ParseSyncMode(r.opt.journal.sync) // validated
	j, rec, err := journal.Open(journalDir(r.cfg.OutputDir), journal.Options{Sync: mode, Logger: r.log})
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	if r.s.lookupEnv != nil {
		if v, ok := r.s.lookupEnv(killAfterEnv); ok {
			r.link.killAfter, _ = strconv.ParseInt(v, 10, 64)
		}
	}
	r.link.j.Store(j)
	got := resumed{setAside: rec.SetAside}
	if rec.SetAside != "" {
		r.log.Error("the journal could not be read: it was set aside and a new one started; events it held will not run", "set_aside", rec.SetAside, "error", rec.Cause)
	}
	var (
		left    []processor.LedgerItem
		pending []event.Event
	)
	for _, it := range rec.Items {
		if !strings.HasPrefix(it.ID, script.JournalPrefix) {
			left = append(left, processor.LedgerItem{ID: it.ID, Data: it.Data, Notes: it.Notes})
			continue
		}
		ev, err := event.Decode(it.Data)
		if err != nil {
			r.log.Error("journal: an event cannot be read back; its hooks will not run", "event_id", strings.TrimPrefix(it.ID, script.JournalPrefix), "error", err)
			continue
		}
		done := make([]string, len(it.Notes))
		for i, n := range it.Notes {
			done[i] = string(n)
		}
		pending = append(pending, ev)
		r.keep.replaying(ev)
		r.engine.Replay(ev, done)
		got.replayed++
	}
	got.recovered = r.proc.Recover(left, pending)
	r.found.Store(&got)
	if got.any() || rec.TornBytes > 0 {
		r.log.Warn("resuming after lc stopped without finishing: running the hooks it left and closing the calls and files it left open",
			"replayed_events", got.replayed, "interrupted_calls", got.recovered.Calls, "repaired_files", got.recovered.Files,
			"cut_bytes", got.recovered.Cut, "journal_torn_bytes", rec.TornBytes)
	}
	return nil
}

// closeJournal closes the journal, if open, and returns how many events
// it keeps for the next start.
func (r *processRun) closeJournal() (pending int, err error) {
	j := r.link.j.Load()
	if j == nil {
		return 0, nil
	}
	pending = j.Stats().Open
	if err := j.Close(); err != nil {
		return pending, fmt.Errorf("journal: %w", err)
	}
	return pending, nil
}

// readPending reads the journal of the output directory out without
// changing it; a missing journal holds nothing.
func readPending(out string) (journal.Recovery, error) {
	rec, err := journal.Read(journalDir(out))
	if errors.Is(err, fs.ErrNotExist) {
		return journal.Recovery{}, nil
	}
	return rec, err
}

// journalFigures returns the journal's figures, or nil without a journal.
// Safe from any goroutine.
func (r *processRun) journalFigures() *journalFigures {
	j, found := r.link.j.Load(), r.found.Load()
	if j == nil || found == nil {
		return nil
	}
	return &journalFigures{stats: j.Stats(), resumed: *found}
}
