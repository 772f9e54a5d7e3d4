package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lc-voip/lc/internal/event"
	"github.com/lc-voip/lc/internal/processor"
	"github.com/lc-voip/lc/internal/retention"
	"github.com/spf13/pflag"
)

// retentionOptions are the flags of disk retention.
type retentionOptions struct {
	maxSize retentionSize
	maxAge  time.Duration
	dryRun  bool
}

func (o *retentionOptions) addFlags(f *pflag.FlagSet) {
	f.Var(&o.maxSize, "retention-max-size", "remove the oldest calls and other pcaps while the output tree is over this size (K/M/G/T suffixes), or while the output filesystem is fuller than this percentage (e.g. 80%); 0 = no limit")
	f.DurationVar(&o.maxAge, "retention-max-age", 0, "remove calls and other pcaps older than this, in packet time (e.g. 720h); 0 = no limit")
	f.BoolVar(&o.dryRun, "retention-dry-run", false, "log what retention would remove, and remove nothing")
}

// enabled reports whether a retention limit is set.
func (o retentionOptions) enabled() bool {
	return o.maxSize.bytes > 0 || o.maxSize.percent > 0 || o.maxAge > 0
}

// validate reports a negative age and a dry run of nothing.
func (o retentionOptions) validate() []error {
	var errs []error
	if o.maxAge < 0 {
		errs = append(errs, &flagError{Flag: "retention-max-age", Value: o.maxAge.String(), Reason: "must not be negative"})
	}
	if o.dryRun && !o.enabled() {
		errs = append(errs, &flagError{Flag: "retention-dry-run", Value: "true", Reason: "needs --retention-max-size or --retention-max-age"})
	}
	return errs
}

// retentionSize is the value of --retention-max-size: bytes, or a
// percentage of the output filesystem.
type retentionSize struct {
	bytes   int64
	percent float64
}

func (v *retentionSize) String() string {
	if v.percent > 0 {
		return strconv.FormatFloat(v.percent, 'f', -1, 64) + "%"
	}
	return formatSize(v.bytes)
}

func (v *retentionSize) Set(s string) error {
	if p, ok := strings.CutSuffix(strings.TrimSpace(s), "%"); ok {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || !(f > 0 && f < 100) {
			return fmt.Errorf("invalid percentage %q (want more than 0%% and less than 100%% of the output filesystem)", s)
		}
		*v = retentionSize{percent: f}
		return nil
	}
	n, err := parseSize(s)
	if err != nil {
		return fmt.Errorf("invalid size %q (want bytes with an optional K, M, G or T suffix, or a percentage such as 80%%)", s)
	}
	*v = retentionSize{bytes: n}
	return nil
}

func (*retentionSize) Type() string { return "size|percent" }

// retentionKinds are the units of lc's output tree, as processor.Layout
// names them: call directories, calls/<CallsLayout>/HHMMSS_<callid>, and
// "other" files, other/YYYY-MM-DD/YYYYMMDD_HHMMSS.pcap.
func retentionKinds(cfg processor.Config) []retention.Kind {
	return []retention.Kind{
		{Name: "calls", Levels: strings.Split(cfg.CallsLayout, "/"), Unit: "150405"},
		{Name: "other", Levels: []string{"2006-01-02"}, Unit: "20060102_150405"},
	}
}

// keeper tells the retention which units lc is done with, from the events
// and the hook engine's Done: a call's directory once its CallCompleted
// and every FileClosed of its files have finished their hooks, an "other"
// file once its FileClosed has. A unit is held (counted, never removed)
// from its last event until then. Its methods are safe from any goroutine
// and do nothing on a nil keeper (retention off).
type keeper struct {
	c     *retention.Cleaner
	opt   retentionOptions
	bases []string // the output directory as the events name it
	log   *slog.Logger
	// wait, when set (reading files), makes the processing loop wait
	// for hooks when the tree is over the limit (see waitRoom), until
	// the context: set by limitWaits, before the first packet.
	wait   atomic.Pointer[context.Context]
	warned atomic.Bool // a path outside the layout was logged

	// Guarded by mu.
	mu    sync.Mutex
	units map[string]*unitEvents // by path relative to the output directory
}

// unitEvents are the events of a unit that are not done yet.
type unitEvents struct {
	pending map[string]bool // event IDs submitted, not done
	bytes   int64           // what its FileClosed events say its files hold
	when    time.Time       // its first packet; zero: the time its name says
	last    bool            // its last event is submitted, or it is of an earlier run
}

// newKeeper opens the retention of cfg's output directory, which exists
// (processor.New made it). The clock is the capture's packet time,
// published by proc; the wall clock in live capture.
func newKeeper(o retentionOptions, cfg processor.Config, proc *processor.Processor, live bool, log *slog.Logger) (*keeper, error) {
	abs, err := filepath.Abs(cfg.OutputDir)
	if err != nil {
		return nil, err
	}
	root := abs
	if resolved, err := filepath.EvalSymlinks(abs); err == nil {
		root = resolved
	}
	now := func() time.Time { return proc.Counters().Published().LastPacket }
	if live {
		now = time.Now
	}
	c, err := retention.New(root, retention.Config{
		Kinds:          retentionKinds(cfg),
		MaxBytes:       o.maxSize.bytes,
		MaxUsedPercent: o.maxSize.percent,
		MaxAge:         o.maxAge,
		DryRun:         o.dryRun,
		Location:       cfg.Location,
		Now:            now,
		Logger:         log,
	})
	if err != nil {
		return nil, err
	}
	return &keeper{c: c, opt: o, bases: []string{root, abs}, log: log, units: map[string]*unitEvents{}}, nil
}

// unitOf returns the unit an event reports on, relative to the output
// directory, whether it is the unit's last event, and the bytes and first
// packet time it gives.
func (k *keeper) unitOf(ev event.Event) (rel string, last bool, bytes int64, when time.Time, ok bool) {
	switch e := ev.(type) {
	case event.CallCompleted:
		rel, ok = k.rel(e.Dirname)
		return rel, true, 0, e.CallDate, ok
	case event.FileClosed:
		if e.CallID != "" {
			rel, ok = k.rel(filepath.Dir(e.Path))
			return rel, false, e.Bytes, time.Time{}, ok
		}
		rel, ok = k.rel(e.Path)
		return rel, true, e.Bytes, e.First, ok
	}
	return "", false, 0, time.Time{}, false
}

// rel is path relative to the output directory, slash-separated.
func (k *keeper) rel(path string) (string, bool) {
	for _, base := range k.bases {
		r, err := filepath.Rel(base, path)
		if err == nil && r != "." && r != ".." && !strings.HasPrefix(r, ".."+string(filepath.Separator)) && !filepath.IsAbs(r) {
			return filepath.ToSlash(r), true
		}
	}
	return "", false
}

// emitted notes ev before it is submitted to the hook engine; its last
// event holds the unit.
func (k *keeper) emitted(ev event.Event) {
	if k == nil {
		return
	}
	rel, last, bytes, when, ok := k.unitOf(ev)
	if !ok {
		return
	}
	k.mu.Lock()
	u := k.pend(rel, ev)
	u.bytes += bytes
	if last {
		u.last = true
		u.when = when
	}
	held := u.bytes
	k.mu.Unlock()
	if last {
		k.check(rel, k.c.Hold(rel, held))
	}
}

// replaying notes ev, an event of an earlier run that the journal held,
// before the engine replays it.
func (k *keeper) replaying(ev event.Event) {
	if k == nil {
		return
	}
	if rel, _, _, _, ok := k.unitOf(ev); ok {
		k.mu.Lock()
		k.pend(rel, ev)
		k.mu.Unlock()
	}
}

// pend records ev as pending for the unit rel and returns the unit.
// Called with mu held.
func (k *keeper) pend(rel string, ev event.Event) *unitEvents {
	u := k.units[rel]
	if u == nil {
		u = &unitEvents{pending: map[string]bool{}}
		k.units[rel] = u
	}
	u.pending[ev.EventID()] = true
	return u
}

// done is the hook engine's Done: the unit is added to the retention
// when this was its last event not done.
func (k *keeper) done(ev event.Event) {
	if k == nil {
		return
	}
	rel, _, _, _, ok := k.unitOf(ev)
	if !ok {
		return
	}
	k.mu.Lock()
	u := k.units[rel]
	if u == nil || !u.pending[ev.EventID()] {
		k.mu.Unlock()
		return
	}
	delete(u.pending, ev.EventID())
	ready, when := len(u.pending) == 0 && u.last, u.when
	if ready {
		delete(k.units, rel)
	}
	k.mu.Unlock()
	if ready {
		k.check(rel, k.c.Add(rel, when))
	}
}

// check logs err, a path the retention does not take for a unit of the
// output tree: loudly the first time.
func (k *keeper) check(rel string, err error) {
	if err == nil {
		return
	}
	if !k.warned.Swap(true) {
		k.log.Warn("retention: a file lc wrote is not where the layout says: it is left alone (later ones are logged at debug)", "path", rel, "error", err)
		return
	}
	k.log.Debug("retention: not a unit of the output tree: left alone", "path", rel, "error", err)
}

// start finds the units earlier runs left (done, unless the journal
// holds events of theirs: those are done when their replay is) and starts
// the retention's goroutine. It runs after the journal is opened, before
// the first packet, so everything it finds is of earlier runs.
func (k *keeper) start() {
	if k == nil {
		return
	}
	units, err := k.c.Scan()
	if err != nil {
		k.log.Warn("retention: cannot list all of the output directory: what it could not list is left alone", "error", err)
	}
	var ready []string
	k.mu.Lock()
	for _, rel := range units {
		u, ok := k.units[rel]
		switch {
		case !ok:
			ready = append(ready, rel)
		case len(u.pending) == 0:
			delete(k.units, rel)
			ready = append(ready, rel)
		default:
			u.last = true // of an earlier run: done when its events are
		}
	}
	k.mu.Unlock()
	for _, rel := range ready {
		k.check(rel, k.c.Add(rel, time.Time{}))
	}
	k.log.Info("retention on", "max_size", k.opt.maxSize.String(), "max_age", k.opt.maxAge, "dry_run", k.opt.dryRun,
		"earlier_units", len(units), "earlier_units_waiting_for_hooks", len(units)-len(ready))
	k.c.Start()
}

// limitWaits makes waitRoom wait, until ctx is done: reading files, the
// processing loop waits for hooks rather than fill the disk.
func (k *keeper) limitWaits(ctx context.Context) {
	if k != nil {
		k.wait.Store(&ctx)
	}
}

// waitRoom waits, when limitWaits was called, while the tree is over the
// size limit and only units whose hooks still run could bring it under.
func (k *keeper) waitRoom() {
	if k == nil {
		return
	}
	if ctx := k.wait.Load(); ctx != nil {
		k.c.WaitRoom(*ctx)
	}
}

// close makes the last pass and returns the figures; nil without
// retention.
func (k *keeper) close() *retention.Stats {
	if k == nil {
		return nil
	}
	st := k.c.Close()
	return &st
}

// stats returns the figures so far; nil without retention.
func (k *keeper) stats() *retention.Stats {
	if k == nil {
		return nil
	}
	st := k.c.Stats()
	return &st
}
