package main

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/lc-voip/lc/internal/event"
	"github.com/lc-voip/lc/internal/script"
	"github.com/lc-voip/lc/internal/script/runner"
	"github.com/lc-voip/lc/internal/script/sandbox"
	"github.com/lc-voip/lc/internal/script/template"
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
	o.timeout = sandbox.DefaultTimeout
	o.memoryLimit = sandbox.DefaultMemoryLimit
	f.DurationVar(&o.timeout, "hook-timeout", o.timeout, "time limit of one Lua hook invocation, exec() included")
	f.Var(sizeValue{&o.memoryLimit}, "hook-memory-limit", "memory budget of one Lua hook invocation (K/M/G or KiB/MiB/GiB)")
}

// validate reports bad limit values.
func (o *luaOptions) validate() []error {
	var errs []error
	if o.timeout <= 0 {
		errs = append(errs, &flagError{Flag: "hook-timeout", Value: o.timeout.String(), Reason: "must be positive"})
	}
	if o.memoryLimit < 1<<20 {
		errs = append(errs, &flagError{Flag: "hook-memory-limit", Value: formatSize(o.memoryLimit), Reason: "must be at least 1M"})
	}
	return errs
}

// load compiles the script at path and prepares its hooks with cfg, its
// limits set from the flags.
func (o *luaOptions) load(path string, cfg script.LuaConfig) (*script.LuaHooks, error) {
	src, err := readSmallFile(path, maxScriptFile)
	if err != nil {
		return nil, err
	}
	compiled, err := sandbox.Compile(path, src)
	if err != nil {
		return nil, err
	}
	cfg.Sandbox.Timeout, cfg.Sandbox.MemoryLimit = o.timeout, o.memoryLimit
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

// build parses the templates and loads the script, reporting every
// problem at once.
func (o *hookOptions) build(log *slog.Logger) (hookConfig, error) {
	var errs []error
	if o.commandTimeout <= 0 {
		errs = append(errs, &flagError{Flag: "command-timeout", Value: o.commandTimeout.String(), Reason: "must be positive"})
	}
	if o.concurrency < 1 {
		errs = append(errs, &flagError{Flag: "command-concurrency", Value: fmt.Sprint(o.concurrency), Reason: "must be at least 1"})
	}
	if o.shutdownTimeout < 0 {
		errs = append(errs, &flagError{Flag: "shutdown-timeout", Value: o.shutdownTimeout.String(), Reason: "must not be negative"})
	}
	errs = append(errs, o.lua.validate()...)
	run := &runner.Runner{Timeout: o.commandTimeout, DryRun: o.dryRun}
	hc := hookConfig{engine: script.EngineConfig{Concurrency: o.concurrency, Logger: log}}
	var cerrs []error
	hc.set.Hooks, cerrs = commandTemplates{pcap: o.pcapCommand, voip: o.voipCommand}.hooks(run, log)
	errs = append(errs, cerrs...)
	if o.lua.script != "" && len(errs) == 0 {
		lh, err := o.lua.load(o.lua.script, script.LuaConfig{Sandbox: sandbox.Config{PoolSize: o.concurrency}, Runner: run, Logger: log})
		if err != nil {
			errs = append(errs, &flagError{Flag: "hook-script", Value: o.lua.script, Reason: err.Error()})
		} else {
			lua := lh.Hooks()
			hc.set.Hooks = append(hc.set.Hooks, lua.Hooks...)
			hc.set.Release = lua.Release
		}
	}
	return hc, errors.Join(errs...)
}

// commandTemplates are the --pcap-command and --voip-command templates;
// "" is none.
type commandTemplates struct{ pcap, voip string }

// hooks parses the templates into command hooks that run with run and log
// on log; a template that does not parse is a flagError.
func (c commandTemplates) hooks(run *runner.Runner, log *slog.Logger) ([]script.Hook, []error) {
	var (
		hooks []script.Hook
		errs  []error
	)
	for _, t := range []struct {
		flag, tmpl string
		typ        event.Type
	}{
		{"pcap-command", c.pcap, event.TypeFileClosed},
		{"voip-command", c.voip, event.TypeCallCompleted},
	} {
		if t.tmpl == "" {
			continue
		}
		tmpl, err := template.Parse(t.tmpl, script.Placeholders(t.typ))
		if err != nil {
			errs = append(errs, &flagError{Flag: t.flag, Value: t.tmpl, Reason: err.Error()})
			continue
		}
		hooks = append(hooks, script.NewCommandHook(t.flag, t.typ, tmpl, run, log))
	}
	return hooks, errs
}

// hookConfig is the configured hooks and the engine's settings, before
// the engine starts.
type hookConfig struct {
	engine script.EngineConfig
	set    script.Set
}
