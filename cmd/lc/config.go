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

// configSection is the part of the config file and of the environment
// that one command reads: its top-level key in the file, which after LC_
// also starts its environment variables. The zero value is lc process's.
type configSection int

const (
	processorSection configSection = iota // lc process: processor:, LC_PROCESSOR_*
	workerSection                         // lc hooks worker: worker:, LC_WORKER_*
)

// configSections are the top-level key and the command of every section.
var configSections = [...]struct{ name, command string }{
	processorSection: {"processor", "lc process"},
	workerSection:    {"worker", "lc hooks worker"},
}

// name is the section's top-level key in the config file.
func (sec configSection) name() string { return configSections[sec].name }

// sectionNamed returns the section whose top-level key is name.
func sectionNamed(name string) (configSection, bool) {
	for i, s := range configSections {
		if s.name == name {
			return configSection(i), true
		}
	}
	return 0, false
}

// settings records where each flag's value came from, for error messages.
type settings struct {
	section configSection     // the command's section, naming its keys
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
// --call-grace-period of lc process.
func (sec configSection) configKey(flag string) string {
	return sec.name() + "." + strings.ReplaceAll(flag, "-", "_")
}

// envName is the environment variable of a flag:
// LC_PROCESSOR_CALL_GRACE_PERIOD for --call-grace-period of lc process,
// LC_WORKER_VOIP_COMMAND for --voip-command of lc hooks worker.
func (sec configSection) envName(flag string) string {
	return "LC_" + strings.ToUpper(strings.ReplaceAll(sec.configKey(flag), ".", "_"))
}

// envPrefix starts the environment variable of every flag of the
// section's command: LC_PROCESSOR_ for lc process.
func (sec configSection) envPrefix() string { return sec.envName("") }

// loadSettings gives every flag of flags that was not set on the command
// line its value from the environment, else from sec's section of the
// config file, else leaves its default: flag > environment > file >
// default. explicit is the --config value ("" to search the default
// places); environ lists the names of the environment's variables. Every
// bad value, unknown key and unknown variable under sec's prefix is
// reported at once, naming the key, the value and where it came from.
func loadSettings(flags *pflag.FlagSet, sec configSection, explicit string, lookupEnv func(string) (string, bool), environ []string) (settings, error) {
	s := settings{section: sec, sources: map[string]string{}, invalid: map[string]bool{}}
	path, err := configFile(explicit, lookupEnv)
	if err != nil {
		return s, err
	}
	v, err := readConfig(path)
	if err != nil {
		return s, err
	}
	s.file = path
	var errs []error
	known, knownEnv := map[string]bool{}, map[string]bool{}
	flags.VisitAll(func(f *pflag.Flag) {
		if f.Name == "config" || f.Name == "help" {
			return
		}
		known[sec.configKey(f.Name)] = true
		knownEnv[sec.envName(f.Name)] = true
		if err := s.apply(f, v, lookupEnv); err != nil {
			errs = append(errs, err)
		}
	})
	errs = append(errs, sec.unknownKeys(v, known, path)...)
	errs = append(errs, sec.unknownEnv(environ, knownEnv)...)
	return s, errors.Join(errs...)
}

// readConfig reads the YAML config file at path; with no path, it is
// empty.
func readConfig(path string) (*viper.Viper, error) {
	v := viper.New()
	if path == "" {
		return v, nil
	}
	data, err := readSmallFile(path, maxConfigFile)
	if err != nil {
		return nil, fmt.Errorf("config file: %w", err)
	}
	v.SetConfigType("yaml")
	if err := v.ReadConfig(bytes.NewReader(data)); err != nil {
		return nil, fmt.Errorf("config file %s: %w", path, err)
	}
	return v, nil
}

// apply gives flag f, unless the command line set it, its value from the
// environment, else from the config file v, and records where the value
// came from. A value that does not parse is an error naming the key, the
// value and its source, and the flag is not validated again.
func (s settings) apply(f *pflag.Flag, v *viper.Viper, lookupEnv func(string) (string, bool)) error {
	key, env := s.section.configKey(f.Name), s.section.envName(f.Name)
	val, inEnv := lookupEnv(env)
	var err error
	switch {
	case f.Changed:
		s.sources[f.Name] = "flag --" + f.Name
	case inEnv:
		s.sources[f.Name] = "environment " + env
		if err = f.Value.Set(val); err != nil {
			err = fmt.Errorf("%s = %q (from %s): %v", key, val, s.sources[f.Name], err)
		}
	case v.IsSet(key):
		s.sources[f.Name] = "config file " + s.file
		if err = setFromFile(f, v.Get(key)); err != nil {
			err = fmt.Errorf("%s = %s (from %s): %v", key, yamlText(v.Get(key)), s.sources[f.Name], err)
		}
	}
	if err != nil {
		s.invalid[f.Name] = true
	}
	return err
}

// unknownKeys reports the keys of the config file at path (read into v)
// that sec's command does not read: a key of its own section that is not
// in known, and a top-level key that is no command's section. The other
// commands' sections are theirs to check.
func (sec configSection) unknownKeys(v *viper.Viper, known map[string]bool, path string) []error {
	var errs []error
	reported := map[string]bool{}
	for _, key := range v.AllKeys() {
		top, _, _ := strings.Cut(key, ".")
		owner, isSection := sectionNamed(top)
		switch {
		case isSection && owner != sec:
			// Another command's settings.
		case isSection:
			if !known[key] && (key != top || v.Get(key) != nil) { // "processor:" may have nothing under it
				errs = append(errs, fmt.Errorf("unknown key %s in config file %s", key, path))
			}
		case !reported[top]:
			reported[top] = true
			errs = append(errs, fmt.Errorf("unknown section %s in config file %s (lc reads %s: and %s:)",
				top, path, processorSection.name(), workerSection.name()))
		}
	}
	return errs
}

// unknownEnv reports the variables of environ under sec's prefix that
// are not in knownEnv; other commands' variables are theirs to check.
func (sec configSection) unknownEnv(environ []string, knownEnv map[string]bool) []error {
	var errs []error
	for _, name := range environ {
		if strings.HasPrefix(name, sec.envPrefix()) && !knownEnv[name] {
			errs = append(errs, fmt.Errorf("unknown environment variable %s (%s reads %s* only for its flags)",
				name, configSections[sec].command, sec.envPrefix()))
		}
	}
	return errs
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
