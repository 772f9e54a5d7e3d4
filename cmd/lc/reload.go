package main

import (
	"log/slog"

	"github.com/lc-voip/lc/internal/processor"
	"github.com/lc-voip/lc/internal/script"
	"github.com/spf13/pflag"
)

// reloadHooks builds the hooks again from the same command line, the
// environment and the config file as it is now, and, if that succeeds,
// makes them the hooks of new events; hooks already queued or running
// finish with the old ones. On any error the current hooks stay. keep are
// hooks that are not reloaded (the --events-to publisher): they stay, after
// the new ones.
func reloadHooks(given *pflag.FlagSet, s streams, configPath string, engine *script.Engine, log *slog.Logger, keep ...script.Hook) {
	cfg := processor.DefaultConfig()
	var opt processOptions
	fresh := pflag.NewFlagSet("reload", pflag.ContinueOnError)
	addProcessFlags(fresh, &cfg, &opt)
	var err error
	given.Visit(func(f *pflag.Flag) {
		if err == nil {
			err = copyFlag(f, fresh.Lookup(f.Name))
		}
	})
	if err == nil {
		_, err = loadSettings(fresh, processorSection, configPath, s.lookupEnv, s.envNames())
	}
	var hc hookConfig
	if err == nil {
		hc, err = opt.hooks.build(log)
	}
	if err != nil {
		log.Error("reload failed; the current hooks stay", "error", err)
		return
	}
	hc.set.Hooks = append(hc.set.Hooks, keep...)
	names := make([]string, len(hc.set.Hooks))
	for i, h := range hc.set.Hooks {
		names[i] = h.Name()
	}
	engine.Replace(hc.set)
	log.Info("hooks reloaded", "hooks", names)
}

// copyFlag gives to the value that from has, as set on the command line.
func copyFlag(from, to *pflag.Flag) error {
	if sv, ok := from.Value.(pflag.SliceValue); ok {
		if err := to.Value.(pflag.SliceValue).Replace(sv.GetSlice()); err != nil {
			return err
		}
	} else if err := to.Value.Set(from.Value.String()); err != nil {
		return err
	}
	to.Changed = true
	return nil
}
