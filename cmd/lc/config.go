package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"
	"github.com/spf13/viper"
)

// configSection is the top-level key of lc process settings in the file.
const configSection = "processor"

// settings records where each flag's value came from, for error messages.
type settings struct {
	file    string            // config file read, "" when none
	sources map[string]string // flag name → "flag --x", "environment LC_...", "config file F"
}

// source describes where the flag's value came from.
func (s settings) source(flag string) string {
	if src, ok := s.sources[flag]; ok {
		return src
	}
	return "default"
}

// configKey is the file key of a flag: processor.call_grace_period for
// --call-grace-period.
func configKey(flag string) string {
	return configSection + "." + strings.ReplaceAll(flag, "-", "_")
}

// envName is the environment variable of a flag:
// LC_PROCESSOR_CALL_GRACE_PERIOD for --call-grace-period.
func envName(flag string) string {
	return "LC_" + strings.ToUpper(strings.ReplaceAll(configKey(flag), ".", "_"))
}

// loadSettings gives every flag of fs that was not set on the command line
// its value from the environment, else from the config file, else leaves
// its default: flag > environment > file > default. explicit is the
// --config value ("" to search the default places). Every bad value and
// unknown file key is reported at once, naming the key, the value and
// where it came from.
func loadSettings(flags *pflag.FlagSet, explicit string, lookupEnv func(string) (string, bool)) (settings, error) {
	s := settings{sources: map[string]string{}}
	v := viper.New()
	path, err := configFile(explicit, lookupEnv)
	if err != nil {
		return s, err
	}
	if path != "" {
		v.SetConfigFile(path)
		v.SetConfigType("yaml")
		if err := v.ReadInConfig(); err != nil {
			return s, fmt.Errorf("config file %s: %w", path, err)
		}
		s.file = path
	}
	var errs []error
	known := map[string]bool{}
	flags.VisitAll(func(f *pflag.Flag) {
		if f.Name == "config" || f.Name == "help" {
			return
		}
		key := configKey(f.Name)
		known[key] = true
		switch {
		case f.Changed:
			s.sources[f.Name] = "flag --" + f.Name
		case hasEnv(lookupEnv, envName(f.Name)):
			val, _ := lookupEnv(envName(f.Name))
			src := "environment " + envName(f.Name)
			s.sources[f.Name] = src
			if err := f.Value.Set(val); err != nil {
				errs = append(errs, fmt.Errorf("%s = %q (from %s): %v", key, val, src, err))
			}
		case v.IsSet(key):
			src := "config file " + path
			s.sources[f.Name] = src
			if err := setFromFile(f, v.Get(key)); err != nil {
				errs = append(errs, fmt.Errorf("%s = %v (from %s): %v", key, v.Get(key), src, err))
			}
		}
	})
	for _, key := range v.AllKeys() {
		if !known[key] {
			errs = append(errs, fmt.Errorf("unknown key %s in config file %s", key, path))
		}
	}
	return s, errors.Join(errs...)
}

func hasEnv(lookupEnv func(string) (string, bool), name string) bool {
	_, ok := lookupEnv(name)
	return ok
}

// setFromFile sets a flag from a YAML value: a list for repeatable flags,
// anything else as its text.
func setFromFile(f *pflag.Flag, val any) error {
	if list, ok := val.([]any); ok {
		sv, ok := f.Value.(pflag.SliceValue)
		if !ok {
			return errors.New("a list is not valid here")
		}
		items := make([]string, len(list))
		for i, item := range list {
			items[i] = fmt.Sprint(item)
		}
		return sv.Replace(items)
	}
	if sv, ok := f.Value.(pflag.SliceValue); ok {
		return sv.Replace([]string{fmt.Sprint(val)})
	}
	return f.Value.Set(fmt.Sprint(val))
}

// configFile returns the config file to read: explicit if given (it must
// exist), else the first of $XDG_CONFIG_HOME/lc/config.yaml (default
// ~/.config) and /etc/lc/config.yaml that exists, else "".
func configFile(explicit string, lookupEnv func(string) (string, bool)) (string, error) {
	if explicit != "" {
		if _, err := os.Stat(explicit); err != nil {
			return "", fmt.Errorf("config file: %w", err)
		}
		return explicit, nil
	}
	var candidates []string
	if dir, ok := lookupEnv("XDG_CONFIG_HOME"); ok && dir != "" {
		candidates = append(candidates, filepath.Join(dir, "lc", "config.yaml"))
	} else if home, ok := lookupEnv("HOME"); ok && home != "" {
		candidates = append(candidates, filepath.Join(home, ".config", "lc", "config.yaml"))
	}
	candidates = append(candidates, "/etc/lc/config.yaml")
	for _, c := range candidates {
		_, err := os.Stat(c)
		if err == nil {
			return c, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("config file: %w", err)
		}
	}
	return "", nil
}
