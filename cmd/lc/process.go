package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/lc-voip/lc/internal/capture"
	"github.com/lc-voip/lc/internal/event"
	"github.com/lc-voip/lc/internal/live"
	"github.com/lc-voip/lc/internal/processor"
	"github.com/lc-voip/lc/internal/script"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// processOptions are the flags of lc process that are not processor.Config.
type processOptions struct {
	capture   captureOptions
	events    string
	eventsTo  natsOptions // --events-to and the --nats-* flags
	logLevel  string
	logFormat string
	progress  string
	config    string
	hooks     hookOptions
	journal   journalOptions
	retention retentionOptions
	metrics   string
	status    time.Duration
	user      string
	profile   string
}

func newProcessCmd(s streams) *cobra.Command {
	cfg := processor.DefaultConfig()
	var opt processOptions
	cmd := &cobra.Command{
		Use:   "process (-r FILE ... | -i INTERFACE ...) [-f FILTER] [-o DIR] [flags]",
		Short: "Split captures or live traffic into per-call pcaps and run hooks",
		Long: `process reads packets from capture files (pcap or pcapng; "-" is standard
input; plain, gzip or zstd) or captures them on network interfaces (Linux; "any" for all),
follows SIP calls and the RTP/RTCP their SDP negotiates, and writes one SIP
and one RTP pcap per call plus rotating pcaps for all other traffic.
Several files are merged in timestamp order. Every timeout is packet time;
in live capture a wall-clock tick moves time on when no packet arrives.`,
		Args: noFilterWords,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// Before cfg and opt are copied: this sets the flags' variables.
			// Its problems are reported with those of validation.
			set, err := loadSettings(cmd.Flags(), processorSection, opt.config, s.lookupEnv, s.envNames())
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
	f.StringArrayVarP(&opt.capture.files, "read-file", "r", nil, "capture file to read (pcap or pcapng, plain, gzip or zstd; - for stdin); repeat to merge several")
	f.StringArrayVarP(&opt.capture.interfaces, "interface", "i", nil, "capture on this network interface (Linux; any = all); repeat for several")
	f.StringVarP(&opt.capture.filter, "filter", "f", "", "keep only packets matching this tcpdump-style filter (in the kernel when capturing)")
	f.IntVar(&opt.capture.snaplen, "snaplen", live.DefaultSnaplen, "bytes kept of each captured packet")
	f.BoolVar(&opt.capture.promisc, "promisc", true, "put capture interfaces in promiscuous mode")
	opt.capture.buffer = live.DefaultBuffer
	f.Var(sizeValue{&opt.capture.buffer}, "capture-buffer", "kernel ring size per interface (K/M/G suffixes)")
	f.StringVarP(&cfg.OutputDir, "output-dir", "o", cfg.OutputDir, "output directory")
	f.BoolVar(&cfg.PerCallPcap, "per-call-pcap", cfg.PerCallPcap, "write a SIP and an RTP pcap per call")
	f.BoolVar(&cfg.OtherPcap, "auto-rotate-pcap", cfg.OtherPcap, "write traffic of no call to rotating pcaps")
	f.StringVar(&cfg.CallsLayout, "calls-layout", cfg.CallsLayout, "Go time layout of the directories between calls/ and each call's directory; / starts a level (2006-01-02/15/04 adds one per minute)")
	f.VarPF(localTimeValue{&cfg.Location}, "local-time", "", "name dated directories and files in the local time zone (TZ, else /etc/localtime) instead of UTC").NoOptDefVal = "true"
	f.DurationVar(&cfg.Grace, "call-grace-period", cfg.Grace, "how long an ended call waits for retransmissions and late RTP")
	f.DurationVar(&cfg.IdleTimeout, "call-idle-timeout", cfg.IdleTimeout, "end a call after this long without a packet")
	f.DurationVar(&cfg.MaxCallDuration, "max-call-duration", cfg.MaxCallDuration, "end a call that lasts longer than this")
	f.DurationVar(&cfg.AuthWait, "auth-wait", cfg.AuthWait, "after a 401/407, how long to wait for the new INVITE")
	f.Var(sizeValue{&cfg.RotateMaxSize}, "auto-rotate-max-size", "start a new other pcap past this size (K/M/G suffixes)")
	f.DurationVar(&cfg.RotateMaxAge, "auto-rotate-max-age", cfg.RotateMaxAge, "start a new other pcap when the current one is this old")
	f.DurationVar(&cfg.RotateIdle, "auto-rotate-idle-timeout", cfg.RotateIdle, "close the other pcap after this long without a packet")
	f.Var(sizeValue{&cfg.PerCallMaxSize}, "per-call-max-size", "start a new part of a call pcap past this size (K/M/G suffixes)")
	f.IntVar(&cfg.MaxOpenFiles, "max-open-files", 0, "output files open at once at most (default: what ulimit -n leaves room for, at most 4096)")
	f.IntVar(&cfg.MaxCalls, "max-calls", cfg.MaxCalls, "calls followed at once at most; a new call beyond it goes to the other pcaps")
	f.StringVar(&cfg.Compress, "compress", "", "compress every pcap once closed: gzip (.pcap.gz) or zstd (.pcap.zst); events name the compressed files")
	f.Var(sizeValue{&cfg.ReassemblyBytes}, "reassembly-memory", "bytes TCP reassembly and IP defragmentation hold at most, together (K/M/G suffixes)")
	f.StringVar(&opt.events, "events", "", "write every event as a JSON line to this file (- for stdout)")
	opt.eventsTo.addFlags(f, "events-to", "publish every event to NATS JetStream: nats://HOST:PORT (several separated by commas)", true)
	f.StringVar(&opt.logLevel, "log-level", "info", "debug, info, warn or error")
	f.StringVar(&opt.logFormat, "log-format", "text", "text or json")
	f.StringVar(&opt.progress, "progress", "auto", "show progress on stderr: auto (when a terminal), always or never")
	f.StringVar(&opt.profile, "cpu-profile", "", "write a Go CPU profile of the processing to this file (for go tool pprof, and to build lc with PGO)")
	opt.hooks.addFlags(f)
	opt.journal.addFlags(f)
	opt.retention.addFlags(f)
	f.StringVar(&opt.metrics, "metrics-addr", "", "serve Prometheus metrics at http://ADDR/metrics (host:port; off when empty)")
	f.DurationVar(&opt.status, "status-interval", defaultStatusInterval, "log a status line this often (0 = never)")
	f.StringVar(&opt.user, "user", "", "after opening inputs, output directory and metrics port, run as this user (hooks too); needs root")
	f.StringVar(&opt.config, "config", "", "YAML config file (default: $XDG_CONFIG_HOME/lc/config.yaml, then /etc/lc/config.yaml)")
}

// localTimeValue is the --local-time flag: true sets the time zone to
// time.Local, false to nil (UTC).
type localTimeValue struct{ loc **time.Location }

func (v localTimeValue) String() string {
	return strconv.FormatBool(v.loc != nil && *v.loc != nil)
}

func (v localTimeValue) Set(s string) error {
	local, err := strconv.ParseBool(s)
	if err != nil {
		return err
	}
	*v.loc = nil
	if local {
		*v.loc = time.Local
	}
	return nil
}

func (localTimeValue) Type() string { return "bool" }

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
func (opt processOptions) prepare(s streams, cfg processor.Config, set settings, settingsErr error) (*slog.Logger, hookConfig, *account, error) {
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
		return nil, hookConfig{}, nil, usageError{err}
	}
	return log, hooks, runAs, nil
}

// outcome is the error a run ends with: a failure of processing or output
// (failed), else a corrupt input (a capture cut off in its last record is
// only a warning), else hooks left unrun.
func outcome(failed error, problems []capture.Problem, h *script.EngineStats) error {
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
	return unrunHooks(h)
}

// unrunHooks is the error of a run that ended with hooks not run (the
// shutdown deadline passed first, or spooled events were lost), or nil.
func unrunHooks(h *script.EngineStats) error {
	var n hooksNotRunError
	if h != nil {
		n.runs = h.Unrun
		if sp := h.Spool; sp != nil {
			n.events = sp.Queued + sp.Lost
		}
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
	problems := withSources(errors.Join(append(append(opt.capture.validate(), opt.journal.validate()...), opt.retention.validate()...)...), set)
	if opt.progress != "auto" && opt.progress != "always" && opt.progress != "never" {
		problems = append(problems, fmt.Errorf("progress = %q: must be auto, always or never", opt.progress))
	}
	if opt.status < 0 {
		problems = append(problems, withSources(&flagError{Flag: "status-interval", Value: opt.status.String(), Reason: "must not be negative"}, set)...)
	}
	problems = append(problems, withSources(cfg.Validate(), set)...)
	problems = append(problems, withSources(errors.Join(opt.eventsTo.validate(true)...), set)...)
	inputs := len(opt.capture.files) + len(opt.capture.interfaces)
	return append(problems, withSources(checkFileLimit(cfg.MaxOpenFiles, inputs, opt.hooks.concurrency), set)...)
}

// withSources splits a joined validation error and names where each bad
// value came from, by its key in the section of set.
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
		if fe, ok := asFlagError(e); ok {
			if set.invalid[fe.Flag] {
				continue // its value did not parse: said already
			}
			e = fmt.Errorf("%s = %q (from %s): %s", set.section.configKey(fe.Flag), fe.Value, set.source(fe.Flag), fe.Reason)
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
func openEvents(path string, stdout io.Writer) (func(event.Event) error, func() error, error) {
	if path == "" {
		return func(event.Event) error { return nil }, func() error { return nil }, nil
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
	bw := bufio.NewWriterSize(w, 64<<10)
	var line []byte
	write := func(e event.Event) error {
		line = append(event.AppendJSON(line[:0], e), '\n')
		// A line goes to the file in one write, so that a kill leaves
		// whole lines only.
		if len(line) > bw.Available() {
			if err := bw.Flush(); err != nil {
				return err
			}
		}
		_, err := bw.Write(line)
		return err
	}
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
