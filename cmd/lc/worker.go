package main

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/lc-voip/lc/internal/natsbus"
	"github.com/lc-voip/lc/internal/script"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// workerOptions are the flags of lc hooks worker.
type workerOptions struct {
	hooks      hookOptions
	nats       natsOptions
	consumer   string
	ackWait    time.Duration // 0: from the hooks' time limits
	maxDeliver int
	logLevel   string
	logFormat  string
	metrics    string
	status     time.Duration
	config     string
}

func newHooksWorkerCmd(s streams) *cobra.Command {
	var opt workerOptions
	cmd := &cobra.Command{
		Use:   "worker --nats URL [hook flags]",
		Short: "Run hooks on the events other lc processes publish to NATS JetStream",
		Long: `worker takes the events that lc process --events-to publishes to NATS
JetStream from a durable consumer that all workers share, and runs the same
hook engine on them as lc process: --hook-script, --pcap-command,
--voip-command, their limits and --dry-run. A call is one unit of work: its
pcap hooks, then its voip hook, in order, on one worker. A message is
acknowledged when its hooks have run; one whose hooks failed is delivered
again, --nats-max-deliver times in all, then put on lc.NODE.dead. On
SIGINT or SIGTERM the worker takes no more messages, lets the running
hooks finish for up to --shutdown-timeout and gives back what it holds.
Every flag can also be set in the worker: section of the config file or
in LC_WORKER_<FLAG>, read once at start: SIGHUP reloads nothing.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// Before opt is copied: this sets the flags' variables. Its
			// problems are reported with those of validation.
			set, err := loadSettings(cmd.Flags(), workerSection, opt.config, s.lookupEnv, s.envNames())
			return runWorker(cmd, s, opt, set, err)
		},
	}
	addWorkerFlags(cmd.Flags(), &opt)
	return cmd
}

// addWorkerFlags defines the flags of lc hooks worker on f, bound to opt.
func addWorkerFlags(f *pflag.FlagSet, opt *workerOptions) {
	f.SortFlags = false
	opt.nats.addFlags(f, "nats", "NATS server to take events from: nats://HOST:PORT (several separated by commas)", false)
	f.StringVar(&opt.consumer, "nats-consumer", natsbus.DefaultConsumer, "durable consumer the workers share")
	f.DurationVar(&opt.ackWait, "nats-ack-wait", 0, "how long a message a worker took waits before it goes to another worker, if this one stops saying it is at work (default: the longer of --command-timeout and --hook-timeout, plus 30s)")
	f.IntVar(&opt.maxDeliver, "nats-max-deliver", natsbus.DefaultMaxDeliver, "deliveries of a message at most; after the last failed one it goes to lc.NODE.dead")
	opt.hooks.addFlags(f)
	f.StringVar(&opt.logLevel, "log-level", "info", "debug, info, warn or error")
	f.StringVar(&opt.logFormat, "log-format", "text", "text or json")
	f.StringVar(&opt.metrics, "metrics-addr", "", "serve Prometheus metrics at http://ADDR/metrics (host:port; off when empty)")
	f.DurationVar(&opt.status, "status-interval", defaultStatusInterval, "log a status line this often (0 = never)")
	f.StringVar(&opt.config, "config", "", "YAML config file, read for its worker: section (default: $XDG_CONFIG_HOME/lc/config.yaml, then /etc/lc/config.yaml)")
}

// validate reports the problems of the worker's own flags.
func (opt workerOptions) validate() []error {
	var errs []error
	if !opt.nats.enabled() {
		errs = append(errs, fmt.Errorf("%w (or %s in the config file, or %s)", errNoNATS, workerSection.configKey("nats"), workerSection.envName("nats")))
	}
	errs = append(errs, opt.nats.validate(false)...)
	if opt.ackWait < 0 {
		errs = append(errs, &flagError{Flag: "nats-ack-wait", Value: opt.ackWait.String(), Reason: "must not be negative"})
	}
	if opt.status < 0 {
		errs = append(errs, &flagError{Flag: "status-interval", Value: opt.status.String(), Reason: "must not be negative"})
	}
	if opt.maxDeliver < 1 {
		errs = append(errs, &flagError{Flag: "nats-max-deliver", Value: fmt.Sprint(opt.maxDeliver), Reason: "must be at least 1"})
	}
	return errs
}

// ackWait is --nats-ack-wait, or its default.
func (opt workerOptions) ackWaitOrDefault() time.Duration {
	if opt.ackWait > 0 {
		return opt.ackWait
	}
	return max(opt.hooks.commandTimeout, opt.hooks.lua.timeout) + 30*time.Second
}

// prepare builds the logger and the hooks, and reports every problem of
// the configuration at once, settingsErr's (from loadSettings) first, each
// naming where its value came from, as a usage error.
func (opt workerOptions) prepare(s streams, set settings, settingsErr error) (*slog.Logger, hookConfig, error) {
	log, err := newLogger(s.err, opt.logLevel, opt.logFormat)
	problems := withSources(settingsErr, set)
	if err != nil {
		problems = append(problems, err)
		log = slog.New(slog.DiscardHandler)
	}
	problems = append(problems, withSources(errors.Join(opt.validate()...), set)...)
	hooks, err := opt.hooks.build(log)
	if err != nil {
		problems = append(problems, withSources(err, set)...)
	} else if len(hooks.set.Hooks) == 0 {
		problems = append(problems, errors.New("no hooks: give --voip-command, --pcap-command or --hook-script"))
	}
	if err := errors.Join(problems...); err != nil {
		return nil, hookConfig{}, usageError{err}
	}
	return log, hooks, nil
}

// runWorker runs lc hooks worker until it is stopped; settingsErr holds
// the problems loadSettings found, reported with those of validation.
func runWorker(cmd *cobra.Command, s streams, opt workerOptions, set settings, settingsErr error) error {
	log, hooks, err := opt.prepare(s, set, settingsErr)
	if err != nil {
		return err
	}
	nc, err := natsbus.Connect(opt.nats.config(), "lc hooks worker", log)
	if err != nil {
		return err
	}
	defer nc.Close()
	var mx *metrics
	if opt.metrics != "" {
		mx = newMetrics()
		hooks.engine.Observe = mx.observe
	}
	w, err := natsbus.NewWorker(nc, natsbus.WorkerConfig{
		Bus: opt.nats.config(), Consumer: opt.consumer, AckWait: opt.ackWaitOrDefault(), MaxDeliver: opt.maxDeliver,
		Engine: hooks.engine, Logger: log,
	}, hooks.set)
	if err != nil {
		return err
	}
	hookStats := func() *script.EngineStats { st := w.Stats().Hooks; return &st }
	if mx != nil {
		mx.sources = metricSources{hooks: hookStats}
		mx.registry.MustRegister(natsMetrics{worker: w.Stats})
		stop, err := mx.serve(opt.metrics, log)
		if err != nil {
			return usageError{err}
		}
		defer stop()
	}
	log.Info("taking events", "nats", opt.nats.url, "stream", opt.nats.stream, "consumer", opt.consumer, "ack_wait", opt.ackWaitOrDefault(), "object_store", opt.nats.files)
	status := &statusLine{log: log, hooks: hookStats, worker: w.Stats}
	stopStatus := status.start(opt.status)
	drain := drainContext(cmd.Context(), s.abort, opt.hooks.shutdownTimeout)
	runErr := w.Run(cmd.Context(), drain)
	stopStatus()
	st := w.Stats()
	log.Info("worker stopped", "received", st.Received, "acked", st.Acked, "retried", st.Retried, "dead", st.Dead,
		"files_fetched", st.Fetched, "hook_runs", st.Hooks.Runs, "hook_failures", st.Hooks.Failed, "hooks_unrun", st.Hooks.Unrun)
	return runErr
}
