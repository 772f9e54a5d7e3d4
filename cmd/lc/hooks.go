package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/lc-voip/lc/internal/processor"
	"github.com/lc-voip/lc/internal/script"
	"github.com/spf13/pflag"
)

// Defaults of the hook flags.
const (
	defaultCommandTimeout  = 30 * time.Second
	defaultShutdownTimeout = 60 * time.Second
)

// hookOptions are the flags that configure hooks.
type hookOptions struct {
	pcapCommand     string
	voipCommand     string
	commandTimeout  time.Duration
	concurrency     int
	dryRun          bool
	shutdownTimeout time.Duration
}

func (o *hookOptions) addFlags(f *pflag.FlagSet) {
	f.StringVar(&o.pcapCommand, "pcap-command", "", "run this command template whenever a pcap file is closed (%pcap%, %basename%, %dirname%, %kind%, %callid%)")
	f.StringVar(&o.voipCommand, "voip-command", "", "run this command template once per call, after its files are closed (%callid%, %dirname%, %caller%, %called%, %calldate%, ...)")
	f.DurationVar(&o.commandTimeout, "command-timeout", defaultCommandTimeout, "kill a hook command's process group after this long")
	f.IntVar(&o.concurrency, "command-concurrency", script.DefaultConcurrency, "hooks running at once")
	f.BoolVar(&o.dryRun, "dry-run", false, "log the commands hooks would run instead of running them")
	f.DurationVar(&o.shutdownTimeout, "shutdown-timeout", defaultShutdownTimeout, "after a stop signal, how long queued hooks may still run")
}

// build parses the templates and returns the hooks, reporting every
// problem at once.
func (o *hookOptions) build(log *slog.Logger) (hookSet, error) {
	var errs []error
	if o.commandTimeout <= 0 {
		errs = append(errs, &processor.FieldError{Key: "command-timeout", Value: o.commandTimeout.String(), Reason: "must be positive"})
	}
	if o.concurrency < 1 {
		errs = append(errs, &processor.FieldError{Key: "command-concurrency", Value: fmt.Sprint(o.concurrency), Reason: "must be at least 1"})
	}
	if o.shutdownTimeout < 0 {
		errs = append(errs, &processor.FieldError{Key: "shutdown-timeout", Value: o.shutdownTimeout.String(), Reason: "must not be negative"})
	}
	runner := &script.Runner{Timeout: o.commandTimeout, DryRun: o.dryRun}
	set := hookSet{cfg: script.EngineConfig{Concurrency: o.concurrency, Logger: log}}
	if o.pcapCommand != "" {
		t, err := script.ParseTemplate(o.pcapCommand, script.PcapPlaceholders)
		if err != nil {
			errs = append(errs, &processor.FieldError{Key: "pcap-command", Value: o.pcapCommand, Reason: err.Error()})
		} else {
			set.hooks = append(set.hooks, script.NewPcapCommand(t, runner, log))
		}
	}
	if o.voipCommand != "" {
		t, err := script.ParseTemplate(o.voipCommand, script.CallPlaceholders)
		if err != nil {
			errs = append(errs, &processor.FieldError{Key: "voip-command", Value: o.voipCommand, Reason: err.Error()})
		} else {
			set.hooks = append(set.hooks, script.NewVoipCommand(t, runner, log))
		}
	}
	return set, errors.Join(errs...)
}

// hookSet is the configured hooks, before they run.
type hookSet struct {
	cfg   script.EngineConfig
	hooks []script.Hook
}

// start starts the engine; with no hooks there is nothing to start.
func (s hookSet) start() runningHooks {
	if len(s.hooks) == 0 {
		return runningHooks{}
	}
	return runningHooks{engine: script.NewEngine(s.cfg, s.hooks)}
}

// runningHooks is the engine, or nothing when no hook is configured.
type runningHooks struct {
	engine *script.Engine
}

func (r runningHooks) submit(e processor.Event) {
	if r.engine != nil {
		r.engine.Submit(e)
	}
}

// close drains the queue until ctx is done and returns the counts.
func (r runningHooks) close(ctx context.Context) *script.EngineStats {
	if r.engine == nil {
		return nil
	}
	st := r.engine.Close(ctx)
	return &st
}
