package main

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/lc-voip/lc/internal/event"
	"github.com/lc-voip/lc/internal/processor"
	"github.com/lc-voip/lc/internal/script"
	"github.com/spf13/cobra"
)

// runProcess runs lc process; settingsErr holds the problems loadSettings
// found, reported together with every other problem of the configuration.
func runProcess(cmd *cobra.Command, s streams, cfg processor.Config, opt processOptions, set settings, settingsErr error) error {
	if set.source("max-open-files") == "default" {
		cfg.MaxOpenFiles = autoOpenFiles(len(opt.capture.files)+len(opt.capture.interfaces), opt.hooks.concurrency)
	}
	log, hooks, runAs, err := opt.prepare(s, cfg, set, settingsErr)
	if err != nil {
		return err
	}
	cfg.Logger = log
	if set.file != "" {
		log.Debug("config file read", "file", set.file)
	}
	r := &processRun{s: s, opt: opt, cfg: cfg, log: log, stopReload: func() {}, link: &journalLink{log: log}}
	defer r.stop()
	_, statErr := os.Stat(cfg.OutputDir)
	if err := r.open(hooks, set); err != nil {
		return err
	}
	if err := dropPrivileges(runAs, cfg.OutputDir, errors.Is(statErr, fs.ErrNotExist), log); err != nil {
		r.abandon()
		return err
	}
	if err := r.openJournal(); err != nil {
		r.abandon()
		return err
	}
	r.keep.start()
	if len(hooks.set.Hooks) > 0 && s.reload != nil {
		r.stopReload = each(s.reload, func(struct{}) { reloadHooks(cmd.Flags(), s, opt.config, r.engine, log, r.pub.hooks()...) })
	}
	status := &statusLine{log: log, counters: r.proc.Counters(), hooks: r.hookStats, capture: r.in.captureStats}
	r.defer1(status.start(opt.status))
	return r.process(cmd)
}

// processRun is one run of lc process: its input, the --events sink, the
// hook engine and the processor, wired together.
type processRun struct {
	s      streams
	opt    processOptions
	cfg    processor.Config
	log    *slog.Logger
	in     *packetInput
	engine *script.Engine
	hooked bool // hooks are configured: their figures are shown
	proc   *processor.Processor
	pub    *publisher              // --events-to; nil without
	link   *journalLink            // the journal, once openJournal has opened it
	keep   *keeper                 // disk retention; nil without
	found  atomic.Pointer[resumed] // what the journal held of an earlier run, once opened

	closeEvents func() error
	stopReload  func()
	emitErr     error    // the first failed write of --events
	deferred    []func() // stop runs them, last first
}

// defer1 has stop run f.
func (r *processRun) defer1(f func()) { r.deferred = append(r.deferred, f) }

// stop undoes what the run set up: the status line, the metrics server,
// the input.
func (r *processRun) stop() {
	for i := len(r.deferred) - 1; i >= 0; i-- {
		r.deferred[i]()
	}
}

// open opens the input and the --events sink, starts the hook engine (with
// a spool in live capture) and the metrics server, and makes the
// processor.
func (r *processRun) open(hooks hookConfig, set settings) error {
	stopProfile, err := startProfile(r.opt.profile)
	if err != nil {
		return err
	}
	r.defer1(stopProfile)
	in, err := openInput(r.opt.capture, r.s.in, r.log)
	if err != nil {
		return err
	}
	r.in = in
	r.defer1(func() { in.Close() })
	events, closeEvents, err := openEvents(r.opt.events, r.s.out)
	if err != nil {
		return err
	}
	r.closeEvents = closeEvents
	var mx *metrics
	if r.opt.metrics != "" {
		mx = newMetrics()
		hooks.engine.Observe = mx.observe
	}
	if err := r.startEngine(hooks, mx); err != nil {
		r.closeEvents()
		return err
	}
	r.cfg.Emit = func(e event.Event) {
		if r.pub != nil {
			r.pub.Expect(e)
		}
		r.keep.emitted(e)  // before its hooks can be done
		r.engine.Submit(e) // into the journal first: an event on record is one whose hooks will run
		if err := events(e); err != nil && r.emitErr == nil {
			r.emitErr = err
		}
		r.keep.waitRoom()
	}
	if r.proc, err = processor.New(r.cfg); err != nil {
		r.abandon()
		return err
	}
	if r.opt.retention.enabled() {
		if r.keep, err = newKeeper(r.opt.retention, r.cfg, r.proc, in.live != nil, r.log); err != nil {
			r.abandon()
			return err
		}
	}
	if mx == nil {
		return nil
	}
	mx.sources = metricSources{counters: r.proc.Counters(), hooks: r.hookStats, capture: in.captureStats, journal: r.journalFigures, retention: r.keep.stats}
	stopMetrics, err := mx.serve(r.opt.metrics, r.log)
	if err != nil {
		r.abandon()
		return usageError{withSource(err, "metrics-addr", set)}
	}
	r.defer1(stopMetrics)
	return nil
}

// startEngine starts the hook engine with what the run adds to hooks: the
// spool in live capture, the journal, the --events-to publisher, the
// retention's look at finished events.
func (r *processRun) startEngine(hooks hookConfig, mx *metrics) error {
	if r.in.live != nil {
		// Capture must never wait for hooks: events beyond the queue
		// wait as many again in memory, then in the journal alone, in
		// order.
		hooks.engine.Spool = true
	}
	if r.opt.journal.enabled {
		hooks.engine.Journal = r.link
		r.cfg.Ledger = ledger{r.link}
		hooks.engine.Journaled = func(e event.Event) { r.cfg.Ledger.End(processor.LedgerKey(e)) }
	}
	// --events-to: the publisher is the last hook of every event, so an
	// event stays in the journal until the stream has acknowledged it.
	var err error
	if r.pub, err = openPublisher(r.opt.eventsTo, r.cfg.OutputDir, r.log); err != nil {
		return err
	}
	if r.pub != nil {
		r.defer1(r.pub.close)
		hooks.set.Hooks = append(hooks.set.Hooks, r.pub.hooks()...)
		if mx != nil {
			mx.registry.MustRegister(natsMetrics{publisher: r.pub.Stats})
		}
	}
	if r.opt.retention.enabled() {
		hooks.engine.Done = func(e event.Event) { r.keep.done(e) }
	}
	r.engine, r.hooked = script.NewEngine(hooks.engine, hooks.set), len(hooks.set.Hooks) > 0
	return nil
}

// abandon ends a run that processed nothing.
func (r *processRun) abandon() {
	r.closeEvents()
	r.engine.Close(r.s.abort)
	r.closeJournal()
	r.keep.close()
}

// hookStats returns the engine's counts, or nil when no hook is
// configured. Safe from any goroutine.
func (r *processRun) hookStats() *script.EngineStats {
	if !r.hooked {
		return nil
	}
	st := r.engine.Stats()
	return &st
}

// process reads the input to its end (or a stop), ends the open calls,
// lets the hooks drain, prints the summary and returns the run's outcome.
func (r *processRun) process(cmd *cobra.Command) error {
	// Hooks get until drain: for ever without a signal, shutdown-timeout
	// after the first, nothing after a second. Past it, ending calls
	// does not wait for room in the hook queue.
	drain := drainContext(cmd.Context(), r.s.abort, r.opt.hooks.shutdownTimeout)
	r.engine.LimitWaits(drain)
	if r.in.live == nil {
		r.keep.limitWaits(drain) // reading files, wait for hooks rather than fill the disk
	}
	start := time.Now()
	src, runCtx := r.in.start(cmd.Context())
	if r.in.live != nil {
		r.log.Info("capturing", "interfaces", strings.Join(r.opt.capture.interfaces, ","), "filter", r.opt.capture.filter)
	}
	stopProgress := startProgress(r.s.err, r.opt.progress, r.in, r.proc.Counters())
	runErr := r.proc.Run(runCtx, src)
	processing := time.Since(start) // the summary's rate leaves out the wait for the last hooks
	stopProgress()
	r.in.Close()   // a ring no longer read would fill and count drops
	r.stopReload() // the hooks of the last events are the ones in place now
	if r.in.live != nil && cmd.Context().Err() != nil {
		r.log.Info("stopped capturing; ending open calls and running their hooks")
	}
	if errors.Is(runErr, context.Canceled) {
		r.log.Warn("interrupted: stopped reading input; ending open calls and running their hooks")
		runErr = nil
	}
	closeErr := r.proc.Close()
	if closeErr == runErr {
		closeErr = nil // the write error that stopped the run, reported once
	}
	eventsErr := r.closeEvents()
	final := r.engine.Close(drain)
	retained := r.keep.close() // every Done is in: the last pass
	pending, journalErr := r.closeJournal()
	hooks := &final
	if !r.hooked {
		hooks = nil
	}
	writeSummary(r.s.err, r.opt.logFormat, summary{
		stats:      r.proc.Stats(),
		hooks:      hooks,
		problems:   r.in.problems(),
		capture:    r.in.captureStats(),
		unmatched:  r.in.unmatched(),
		elapsed:    time.Since(start),
		processing: processing,
		inputs:     len(r.opt.capture.files) + len(r.opt.capture.interfaces),
		out:        r.cfg.OutputDir,
		resumed:    r.resumedFigures(),
		pending:    pending,
		retention:  retained,
		end:        time.Now(),
	})
	return outcome(errors.Join(runErr, closeErr, r.emitErr, eventsErr, journalErr), r.in.problems(), hooks)
}
