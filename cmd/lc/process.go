package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/lc-voip/lc/internal/capture"
	"github.com/lc-voip/lc/internal/live"
	"github.com/lc-voip/lc/internal/processor"
	"github.com/lc-voip/lc/internal/script"
	"github.com/lc-voip/lc/internal/spool"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// processOptions are the flags of lc process that are not processor.Config.
type processOptions struct {
	capture   captureOptions
	events    string
	logLevel  string
	logFormat string
	progress  string
	config    string
	hooks     hookOptions
	metrics   string
	status    time.Duration
	user      string
}

func newProcessCmd(s streams) *cobra.Command {
	cfg := processor.DefaultConfig()
	var opt processOptions
	cmd := &cobra.Command{
		Use:   "process (-r FILE ... | -i INTERFACE ...) [-f FILTER] [-o DIR] [flags]",
		Short: "Split captures or live traffic into per-call pcaps and run hooks",
		Long: `process reads packets from capture files (pcap or pcapng; "-" is standard
input) or captures them on network interfaces (Linux; "any" for all),
follows SIP calls and the RTP/RTCP their SDP negotiates, and writes one SIP
and one RTP pcap per call plus rotating pcaps for all other traffic.
Several files are merged in timestamp order. Every timeout is packet time;
in live capture a wall-clock tick moves time on when no packet arrives.`,
		Args: noFilterWords,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// Before cfg and opt are copied: this sets the flags' variables.
			// Its problems are reported with those of validation.
			set, err := loadSettings(cmd.Flags(), opt.config, s.lookupEnv, s.envNames())
			return runProcess(cmd, s, cfg, opt, set, err)
		},
	}
	addProcessFlags(cmd.Flags(), &cfg, &opt)
	return cmd
}

// noFilterWords refuses words after the flags of lc process, as tcpdump
// takes its filter, and says how lc takes one.
func noFilterWords(_ *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	words := strings.Join(args, " ")
	return usageError{fmt.Errorf("unexpected words %q: lc process takes a filter with -f, as in -f %s", words, shellQuote(words))}
}

// shellQuote quotes s for a POSIX shell command line.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// addProcessFlags defines the flags of lc process on f, bound to cfg and
// opt.
func addProcessFlags(f *pflag.FlagSet, cfg *processor.Config, opt *processOptions) {
	f.SortFlags = false
	f.StringArrayVarP(&opt.capture.files, "read-file", "r", nil, "capture file to read (pcap or pcapng; - for stdin); repeat to merge several")
	f.StringArrayVarP(&opt.capture.interfaces, "interface", "i", nil, "capture on this network interface (Linux; any = all); repeat for several")
	f.StringVarP(&opt.capture.filter, "filter", "f", "", "keep only packets matching this tcpdump-style filter (in the kernel when capturing)")
	f.IntVar(&opt.capture.snaplen, "snaplen", live.DefaultSnaplen, "bytes kept of each captured packet")
	f.BoolVar(&opt.capture.promisc, "promisc", true, "put capture interfaces in promiscuous mode")
	opt.capture.buffer = live.DefaultBuffer
	f.Var(sizeValue{&opt.capture.buffer}, "capture-buffer", "kernel ring size per interface (K/M/G suffixes)")
	f.StringVarP(&cfg.OutputDir, "output-dir", "o", cfg.OutputDir, "output directory")
	f.BoolVar(&cfg.PerCallPcap, "per-call-pcap", cfg.PerCallPcap, "write a SIP and an RTP pcap per call")
	f.BoolVar(&cfg.OtherPcap, "auto-rotate-pcap", cfg.OtherPcap, "write traffic of no call to rotating pcaps")
	f.DurationVar(&cfg.Grace, "call-grace-period", cfg.Grace, "how long an ended call waits for retransmissions and late RTP")
	f.DurationVar(&cfg.IdleTimeout, "call-idle-timeout", cfg.IdleTimeout, "end a call after this long without a packet")
	f.DurationVar(&cfg.MaxCallDuration, "max-call-duration", cfg.MaxCallDuration, "end a call that lasts longer than this")
	f.DurationVar(&cfg.AuthWait, "auth-wait", cfg.AuthWait, "after a 401/407, how long to wait for the new INVITE")
	f.Var(sizeValue{&cfg.RotateMaxSize}, "auto-rotate-max-size", "start a new other pcap past this size (K/M/G suffixes)")
	f.DurationVar(&cfg.RotateMaxAge, "auto-rotate-max-age", cfg.RotateMaxAge, "start a new other pcap when the current one is this old")
	f.DurationVar(&cfg.RotateIdle, "auto-rotate-idle-timeout", cfg.RotateIdle, "close the other pcap after this long without a packet")
	f.Var(sizeValue{&cfg.PerCallMaxSize}, "per-call-max-size", "start a new part of a call pcap past this size (K/M/G suffixes)")
	f.IntVar(&cfg.MaxOpenFiles, "max-open-files", cfg.MaxOpenFiles, "output files open at once at most")
	f.IntVar(&cfg.MaxCalls, "max-calls", cfg.MaxCalls, "calls followed at once at most; a new call beyond it goes to the other pcaps")
	f.Var(sizeValue{&cfg.ReassemblyBytes}, "reassembly-memory", "bytes TCP reassembly and IP defragmentation hold at most, together (K/M/G suffixes)")
	f.StringVar(&opt.events, "events", "", "write every event as a JSON line to this file (- for stdout)")
	f.StringVar(&opt.logLevel, "log-level", "info", "debug, info, warn or error")
	f.StringVar(&opt.logFormat, "log-format", "text", "text or json")
	f.StringVar(&opt.progress, "progress", "auto", "show progress on stderr: auto (when a terminal), always or never")
	opt.hooks.addFlags(f)
	f.StringVar(&opt.metrics, "metrics-addr", "", "serve Prometheus metrics at http://ADDR/metrics (host:port; off when empty)")
	f.DurationVar(&opt.status, "status-interval", defaultStatusInterval, "log a status line this often (0 = never)")
	f.StringVar(&opt.user, "user", "", "after opening inputs, output directory and metrics port, run as this user (hooks too); needs root")
	f.StringVar(&opt.config, "config", "", "YAML config file (default: $XDG_CONFIG_HOME/lc/config.yaml, then /etc/lc/config.yaml)")
}

// runProcess runs lc process; settingsErr holds the problems loadSettings
// found, reported together with every other problem of the configuration.
func runProcess(cmd *cobra.Command, s streams, cfg processor.Config, opt processOptions, set settings, settingsErr error) error {
	log, hooks, runAs, err := opt.prepare(s, cfg, set, settingsErr)
	if err != nil {
		return err
	}
	cfg.Logger = log
	if set.file != "" {
		log.Debug("config file read", "file", set.file)
	}

	in, err := openInput(opt.capture, s.in, log)
	if err != nil {
		return err
	}
	defer in.Close()

	events, closeEvents, err := openEvents(opt.events, s.out)
	if err != nil {
		return err
	}
	var mx *metrics
	if opt.metrics != "" {
		mx = newMetrics()
		hooks.cfg.Observe = mx.observe
	}
	engine := hooks.start()
	if in.live != nil {
		// Capture must never wait for hooks: events beyond the queue
		// wait as many again in memory, then on disk in the output
		// directory, in order.
		engine.spill(cfg.OutputDir, hooks.cfg.QueueSize, log)
	}
	var emitErr error
	cfg.Emit = func(e processor.Event) {
		if err := events(e); err != nil && emitErr == nil {
			emitErr = err
		}
		engine.submit(e)
	}
	abandon := func() { // before the run: nothing was processed
		closeEvents()
		engine.close(s.abort)
	}
	_, statErr := os.Stat(cfg.OutputDir)
	proc, err := processor.New(cfg)
	if err != nil {
		abandon()
		return err
	}

	if mx != nil {
		mx.sources = metricSources{counters: proc.Counters(), hooks: engine.stats, capture: in.captureStats, spool: engine.spoolStats}
		stopMetrics, err := mx.serve(opt.metrics, log)
		if err != nil {
			abandon()
			return usageError{withSource(err, "metrics-addr", set)}
		}
		defer stopMetrics()
	}
	if err := dropPrivileges(runAs, cfg.OutputDir, errors.Is(statErr, fs.ErrNotExist), log); err != nil {
		abandon()
		return err
	}
	stopReload := func() {}
	if engine.engine != nil && s.reload != nil {
		stopReload = each(s.reload, func(struct{}) { reloadHooks(cmd.Flags(), s, opt.config, engine, log) })
	}
	status := &statusLine{log: log, counters: proc.Counters(), hooks: engine.stats, capture: in.captureStats, spool: engine.spoolStats}
	stopStatus := status.start(opt.status)
	defer stopStatus()

	// Hooks get until drain: for ever without a signal, shutdown-timeout
	// after the first, nothing after a second. Past it, ending calls
	// does not wait for room in the hook queue.
	drain := drainContext(cmd.Context(), s.abort, opt.hooks.shutdownTimeout)
	engine.limitWaits(drain)
	start := time.Now()
	src, runCtx := in.start(cmd.Context())
	if in.live != nil {
		log.Info("capturing", "interfaces", strings.Join(opt.capture.interfaces, ","), "filter", opt.capture.filter)
	}
	stopProgress := startProgress(s.err, opt.progress, in, proc.Counters())
	runErr := proc.Run(runCtx, src)
	stopProgress()
	in.Close()   // a ring no longer read would fill and count drops
	stopReload() // the hooks of the last events are the ones in place now
	if in.live != nil && cmd.Context().Err() != nil {
		log.Info("stopped capturing; ending open calls and running their hooks")
	}
	if errors.Is(runErr, context.Canceled) {
		log.Warn("interrupted: stopped reading input; ending open calls and running their hooks")
		runErr = nil
	}
	closeErr := proc.Close()
	if closeErr == runErr {
		closeErr = nil // the write error that stopped the run, reported once
	}
	eventsErr := closeEvents()
	hookStats := engine.close(drain)

	printSummary(s.err, summary{
		stats:     proc.Stats(),
		hooks:     hookStats,
		spool:     engine.spoolStats(),
		problems:  in.problems(),
		capture:   in.captureStats(),
		unmatched: in.unmatched(),
		elapsed:   time.Since(start),
		inputs:    len(opt.capture.files) + len(opt.capture.interfaces),
		out:       cfg.OutputDir,
	})
	return outcome(errors.Join(runErr, closeErr, emitErr, eventsErr), in.problems(), hookStats, engine.spoolStats())
}

// dropPrivileges runs the process as runAs, if set, which then owns outDir
// when lc created it, and drops the capabilities that opening the inputs
// needed. Only switching user can fail; capabilities lc cannot drop are
// a warning.
func dropPrivileges(runAs *account, outDir string, createdOut bool, log *slog.Logger) error {
	if runAs != nil {
		if err := runAs.become(outDir, createdOut); err != nil {
			return err
		}
		log.Info("running as user", "user", runAs.name, "uid", runAs.uid)
	}
	if dropped, err := dropCapabilities(); err != nil {
		log.Warn("hooks run with lc's capabilities", "error", err)
	} else if dropped {
		log.Info("capabilities dropped after opening the capture")
	}
	return nil
}

// prepare builds the logger, the hooks and the account to run as, and
// reports every problem of the configuration at once, settingsErr's (from
// loadSettings) first, as a usage error.
func (opt processOptions) prepare(s streams, cfg processor.Config, set settings, settingsErr error) (*slog.Logger, hookSet, *account, error) {
	log, err := newLogger(s.err, opt.logLevel, opt.logFormat)
	problems := withSources(settingsErr, set)
	if err != nil {
		problems = append(problems, err)
	}
	problems = append(problems, opt.validate(cfg, set)...)
	hooks, err := opt.hooks.build(log)
	problems = append(problems, withSources(err, set)...)
	runAs, err := lookupAccount(opt.user)
	if err != nil {
		problems = append(problems, withSource(err, "user", set))
	}
	if err := errors.Join(problems...); err != nil {
		return nil, hookSet{}, nil, usageError{err}
	}
	return log, hooks, runAs, nil
}

// outcome is the error a run ends with: a failure of processing or output
// (failed), else a corrupt input (a capture cut off in its last record is
// only a warning), else hooks left unrun.
func outcome(failed error, problems []capture.Problem, h *script.EngineStats, sp *spool.Stats) error {
	if failed != nil {
		return failed
	}
	var corrupt []error
	for _, p := range problems {
		if !p.Truncated {
			corrupt = append(corrupt, p.Err)
		}
	}
	if err := errors.Join(corrupt...); err != nil {
		return err
	}
	return unrunHooks(h, sp)
}

// unrunHooks is the error of a run that ended with hooks not run (the
// shutdown deadline passed first, or spooled events were lost), or nil.
func unrunHooks(h *script.EngineStats, sp *spool.Stats) error {
	var n hooksNotRunError
	if h != nil {
		n.runs = h.Unrun
	}
	if sp != nil {
		n.events = sp.Queued + sp.Lost
	}
	if n.runs == 0 && n.events == 0 {
		return nil
	}
	return n
}

// validate reports the problems of the options and of cfg, each naming
// where its value came from; the hooks and the user are checked where
// they are built.
func (opt processOptions) validate(cfg processor.Config, set settings) []error {
	problems := withSources(errors.Join(opt.capture.validate()...), set)
	if opt.progress != "auto" && opt.progress != "always" && opt.progress != "never" {
		problems = append(problems, fmt.Errorf("progress = %q: must be auto, always or never", opt.progress))
	}
	if opt.status < 0 {
		problems = append(problems, withSources(&processor.FieldError{Key: "status-interval", Value: opt.status.String(), Reason: "must not be negative"}, set)...)
	}
	problems = append(problems, withSources(cfg.Validate(), set)...)
	inputs := len(opt.capture.files) + len(opt.capture.interfaces)
	return append(problems, withSources(checkFileLimit(cfg.MaxOpenFiles, inputs, opt.hooks.concurrency), set)...)
}

// withSources splits a joined validation error and names where each bad
// value came from.
func withSources(err error, set settings) []error {
	if err == nil {
		return nil
	}
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	out := make([]error, 0, len(errs))
	for _, e := range errs {
		var fe *processor.FieldError
		if errors.As(e, &fe) {
			if set.invalid[fe.Key] {
				continue // its value did not parse: said already
			}
			e = fmt.Errorf("%s = %q (from %s): %s", configKey(fe.Key), fe.Value, set.source(fe.Key), fe.Reason)
		}
		out = append(out, e)
	}
	return out
}

// withSource names where the value of flag came from in err.
func withSource(err error, flag string, set settings) error {
	return fmt.Errorf("%w (from %s)", err, set.source(flag))
}

// drainContext is done when hooks must stop: at once on a second
// interrupt (abort), or shutdownTimeout after the first one (stop).
// Without an interrupt, queued hooks all run.
func drainContext(stop, abort context.Context, shutdownTimeout time.Duration) context.Context {
	ctx, cancel := context.WithCancel(abort)
	context.AfterFunc(stop, func() { time.AfterFunc(shutdownTimeout, cancel) })
	return ctx
}

// openEvents returns the event sink for --events and a function that
// flushes and closes it.
func openEvents(path string, stdout io.Writer) (func(processor.Event) error, func() error, error) {
	if path == "" {
		return func(processor.Event) error { return nil }, func() error { return nil }, nil
	}
	var (
		w     io.Writer = stdout
		close           = func() error { return nil }
	)
	if path != "-" {
		f, err := os.Create(path)
		if err != nil {
			return nil, nil, fmt.Errorf("events file: %w", err)
		}
		w, close = f, f.Close
	}
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	write := func(e processor.Event) error { return enc.Encode(e) }
	done := func() error {
		err := bw.Flush()
		if cerr := close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("events file: %w", err)
		}
		return nil
	}
	return write, done, nil
}

func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log-level = %q: must be debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch strings.ToLower(format) {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("log-format = %q: must be text or json", format)
}
