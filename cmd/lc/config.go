package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
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
	invalid map[string]bool   // flags whose value did not parse: reported once, not validated again
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
// --config value ("" to search the default places); environ lists the
// names of the environment's variables. Every bad value, unknown file key
// and unknown LC_PROCESSOR_ variable is reported at once, naming the key,
// the value and where it came from.
func loadSettings(flags *pflag.FlagSet, explicit string, lookupEnv func(string) (string, bool), environ []string) (settings, error) {
	s := settings{sources: map[string]string{}, invalid: map[string]bool{}}
	v := viper.New()
	path, err := configFile(explicit, lookupEnv)
	if err != nil {
		return s, err
	}
	if path != "" {
		data, err := readSmallFile(path, maxConfigFile)
		if err != nil {
			return s, fmt.Errorf("config file: %w", err)
		}
		v.SetConfigType("yaml")
		if err := v.ReadConfig(bytes.NewReader(data)); err != nil {
			return s, fmt.Errorf("config file %s: %w", path, err)
		}
		s.file = path
	}
	var errs []error
	known, knownEnv := map[string]bool{}, map[string]bool{}
	flags.VisitAll(func(f *pflag.Flag) {
		if f.Name == "config" || f.Name == "help" {
			return
		}
		key := configKey(f.Name)
		known[key] = true
		knownEnv[envName(f.Name)] = true
		switch {
		case f.Changed:
			s.sources[f.Name] = "flag --" + f.Name
		case hasEnv(lookupEnv, envName(f.Name)):
			val, _ := lookupEnv(envName(f.Name))
			src := "environment " + envName(f.Name)
			s.sources[f.Name] = src
			if err := f.Value.Set(val); err != nil {
				s.invalid[f.Name] = true
				errs = append(errs, fmt.Errorf("%s = %q (from %s): %v", key, val, src, err))
			}
		case v.IsSet(key):
			src := "config file " + path
			s.sources[f.Name] = src
			if err := setFromFile(f, v.Get(key)); err != nil {
				s.invalid[f.Name] = true
				errs = append(errs, fmt.Errorf("%s = %s (from %s): %v", key, yamlText(v.Get(key)), src, err))
			}
		}
	})
	for _, key := range v.AllKeys() {
		if key == configSection && v.Get(key) == nil {
			continue // "processor:" with nothing under it
		}
		if !known[key] {
			errs = append(errs, fmt.Errorf("unknown key %s in config file %s", key, path))
		}
	}
	for _, name := range environ {
		if strings.HasPrefix(name, envPrefix) && !knownEnv[name] {
			errs = append(errs, fmt.Errorf("unknown environment variable %s (lc process reads %s* only for its flags)", name, envPrefix))
		}
	}
	return s, errors.Join(errs...)
}

// envPrefix starts the environment variable of every lc process flag.
var envPrefix = envName("")

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
		return sv.Replace([]string{yamlText(val)})
	}
	return f.Value.Set(yamlText(val))
}

// yamlText is a scalar YAML value as it was written, as near as can be:
// a number too large for an integer is read as a float, and is given back
// in full rather than as 1e+20.
func yamlText(val any) string {
	if f, ok := val.(float64); ok {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return fmt.Sprint(val)
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
		switch {
		case err == nil:
			return c, nil
		case errors.Is(err, fs.ErrPermission):
			// A directory on the way is closed to this user (HOME=/root
			// for a service user, say): there is no file it can use.
		case !errors.Is(err, fs.ErrNotExist):
			return "", fmt.Errorf("config file: %w", err)
		}
	}
	return "", nil
}
