package main

import (
	"log/slog"

	"github.com/lc-voip/lc/internal/processor"
	"github.com/spf13/pflag"
)

// reloadHooks builds the hooks again from the same command line, the
// environment and the config file as it is now, and, if that succeeds,
// makes them the hooks of new events; hooks already queued or running
// finish with the old ones. On any error the current hooks stay.
func reloadHooks(given *pflag.FlagSet, s streams, configPath string, hooks *runningHooks, log *slog.Logger) {
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
		_, err = loadSettings(fresh, configPath, s.lookupEnv, s.envNames())
	}
	var set hookSet
	if err == nil {
		set, err = opt.hooks.build(log)
	}
	if err != nil {
		log.Error("reload failed; the current hooks stay", "error", err)
		return
	}
	names := make([]string, len(set.hooks))
	for i, h := range set.hooks {
		names[i] = h.Name()
	}
	hooks.replace(set)
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
