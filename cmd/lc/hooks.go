package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/lc-voip/lc/internal/processor"
	"github.com/lc-voip/lc/internal/script"
	"github.com/lc-voip/lc/internal/spool"
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
	lua             luaOptions
}

// luaOptions are the flags of Lua hook scripts, shared by lc process and
// lc hooks test.
type luaOptions struct {
	script      string
	timeout     time.Duration
	memoryLimit int64
}

func (o *luaOptions) addFlags(f *pflag.FlagSet, withScript bool) {
	if withScript {
		f.StringVar(&o.script, "hook-script", "", "Lua script defining on_pcap_close(path, file) and/or on_call_complete(call)")
	}
	o.timeout = script.DefaultLuaTimeout
	o.memoryLimit = script.DefaultLuaMemoryLimit
	f.DurationVar(&o.timeout, "hook-timeout", o.timeout, "time limit of one Lua hook invocation, exec() included")
	f.Var(sizeValue{&o.memoryLimit}, "hook-memory-limit", "memory budget of one Lua hook invocation (K/M/G or KiB/MiB/GiB)")
}

// validate reports bad limit values.
func (o *luaOptions) validate() []error {
	var errs []error
	if o.timeout <= 0 {
		errs = append(errs, &processor.FieldError{Key: "hook-timeout", Value: o.timeout.String(), Reason: "must be positive"})
	}
	if o.memoryLimit < 1<<20 {
		errs = append(errs, &processor.FieldError{Key: "hook-memory-limit", Value: formatSize(o.memoryLimit), Reason: "must be at least 1M"})
	}
	return errs
}

// load compiles the script at path and prepares its hooks.
func (o *luaOptions) load(path string, cfg script.LuaConfig) (*script.LuaHooks, error) {
	src, err := readSmallFile(path, maxScriptFile)
	if err != nil {
		return nil, err
	}
	compiled, err := script.CompileLua(path, src)
	if err != nil {
		return nil, err
	}
	cfg.Timeout, cfg.MemoryLimit = o.timeout, o.memoryLimit
	return script.NewLuaHooks(compiled, cfg)
}

func (o *hookOptions) addFlags(f *pflag.FlagSet) {
	f.StringVar(&o.pcapCommand, "pcap-command", "", "run this command template whenever a pcap file is closed (%pcap%, %basename%, %dirname%, %kind%, %callid%)")
	f.StringVar(&o.voipCommand, "voip-command", "", "run this command template once per call, after its files are closed (%callid%, %dirname%, %caller%, %called%, %calldate%, ...)")
	f.DurationVar(&o.commandTimeout, "command-timeout", defaultCommandTimeout, "kill a hook command's process group after this long")
	f.IntVar(&o.concurrency, "command-concurrency", script.DefaultConcurrency, "hooks running at once")
	f.BoolVar(&o.dryRun, "dry-run", false, "log the commands hooks would run instead of running them")
	f.DurationVar(&o.shutdownTimeout, "shutdown-timeout", defaultShutdownTimeout, "after a stop signal, how long queued hooks may still run")
	o.lua.addFlags(f, true)
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
	errs = append(errs, o.lua.validate()...)
	runner := &script.Runner{Timeout: o.commandTimeout, DryRun: o.dryRun}
	set := hookSet{cfg: script.EngineConfig{Concurrency: o.concurrency, Logger: log}}
	var cerrs []error
	set.hooks, cerrs = commandTemplates{pcap: o.pcapCommand, voip: o.voipCommand}.hooks(runner, log)
	errs = append(errs, cerrs...)
	if o.lua.script != "" && len(errs) == 0 {
		lh, err := o.lua.load(o.lua.script, script.LuaConfig{PoolSize: o.concurrency, Runner: runner, Logger: log})
		if err != nil {
			errs = append(errs, &processor.FieldError{Key: "hook-script", Value: o.lua.script, Reason: err.Error()})
		} else {
			set.lua = lh
			set.hooks = append(set.hooks, lh.Hooks()...)
		}
	}
	return set, errors.Join(errs...)
}

// commandTemplates are the --pcap-command and --voip-command templates;
// "" is none.
type commandTemplates struct{ pcap, voip string }

// hooks parses the templates into command hooks that run with runner and
// log on log; a template that does not parse is a FieldError.
func (c commandTemplates) hooks(runner *script.Runner, log *slog.Logger) ([]script.Hook, []error) {
	var (
		hooks []script.Hook
		errs  []error
	)
	for _, t := range []struct {
		key, tmpl string
		names     []string
		hook      func(*script.Template, *script.Runner, *slog.Logger) *script.CommandHook
	}{
		{"pcap-command", c.pcap, script.PcapPlaceholders, script.NewPcapCommand},
		{"voip-command", c.voip, script.CallPlaceholders, script.NewVoipCommand},
	} {
		if t.tmpl == "" {
			continue
		}
		tmpl, err := script.ParseTemplate(t.tmpl, t.names)
		if err != nil {
			errs = append(errs, &processor.FieldError{Key: t.key, Value: t.tmpl, Reason: err.Error()})
			continue
		}
		hooks = append(hooks, t.hook(tmpl, runner, log))
	}
	return hooks, errs
}

// hookSet is the configured hooks, before they run: the command
// templates first, then the script's functions.
type hookSet struct {
	cfg   script.EngineConfig
	hooks []script.Hook
	lua   *script.LuaHooks // nil without --hook-script
}

// start starts the engine; with no hooks there is nothing to start.
func (s hookSet) start() *runningHooks {
	if len(s.hooks) == 0 {
		return &runningHooks{}
	}
	return &runningHooks{engine: script.NewEngine(s.cfg, s.hooks), lua: s.lua}
}

// runningHooks is the engine, or nothing when no hook is configured.
type runningHooks struct {
	engine *script.Engine
	spool  *hookSpool // live capture: events wait here, not in the loop

	mu  sync.Mutex
	lua *script.LuaHooks // the current script's hooks; guarded by mu
}

// stats returns the engine's counts, or nil without hooks. Safe from any
// goroutine.
func (r *runningHooks) stats() *script.EngineStats {
	if r.engine == nil {
		return nil
	}
	st := r.engine.Stats()
	return &st
}

func (r *runningHooks) submit(e processor.Event) {
	switch {
	case r.spool != nil:
		r.spool.put(e)
	case r.engine != nil:
		r.engine.Submit(e)
	}
}

// spoolStats returns the spool's figures, or nil without a spool. Safe
// from any goroutine until close.
func (r *runningHooks) spoolStats() *spool.Stats {
	if r.spool == nil {
		return nil
	}
	st := r.spool.stats()
	return &st
}

// replace makes s the hooks of events submitted from now on; the old
// script's VMs are closed once no queued event needs them.
func (r *runningHooks) replace(s hookSet) {
	r.mu.Lock()
	old := r.lua
	r.lua = s.lua
	r.mu.Unlock()
	r.engine.Replace(s.hooks, func() {
		if old != nil {
			old.Close()
		}
	})
}

// limitWaits ends the engine's waits for room in its queue when ctx is
// done; see script.Engine.LimitWaits.
func (r *runningHooks) limitWaits(ctx context.Context) {
	if r.engine != nil {
		r.engine.LimitWaits(ctx)
	}
}

// close drains the queue until ctx is done and returns the counts.
func (r *runningHooks) close(ctx context.Context) *script.EngineStats {
	if r.engine == nil {
		return nil
	}
	if r.spool != nil {
		r.spool.close(ctx)
	}
	st := r.engine.Close(ctx)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.lua != nil {
		r.lua.Close()
	}
	return &st
}
