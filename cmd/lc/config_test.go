package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConfigPrecedence checks flag > environment > file > default for every
// kind of value lc process takes.
func TestConfigPrecedence(t *testing.T) {
	kinds := []struct {
		flag                  string
		def, file, env, given string // given is the flag value on the command line
		fileYAML              string // how the file writes it
	}{
		{flag: "output-dir", def: "./lc-out", file: "/from/file", env: "/from/env", given: "/from/flag", fileYAML: "/from/file"},
		{flag: "log-level", def: "info", file: "warn", env: "error", given: "debug", fileYAML: "warn"},
		{flag: "per-call-pcap", def: "true", file: "false", env: "true", given: "false", fileYAML: "false"},
		{flag: "call-grace-period", def: "5s", file: "7s", env: "8s", given: "9s", fileYAML: "7s"},
		{flag: "per-call-max-size", def: "100M", file: "1M", env: "2M", given: "3M", fileYAML: "1M"},
		{flag: "max-open-files", def: "256", file: "100", env: "200", given: "300", fileYAML: "100"},
		{flag: "read-file", def: "[]", file: "[a.pcap,b.pcap]", env: "[e.pcap]", given: "[f.pcap]", fileYAML: "[a.pcap, b.pcap]"},
		{flag: "pcap-command", def: "", file: "gzip %pcap%", env: "xz %pcap%", given: "true", fileYAML: `"gzip %pcap%"`},
		{flag: "command-concurrency", def: "10", file: "3", env: "4", given: "5", fileYAML: "3"},
	}
	for _, k := range kinds {
		yaml := "processor:\n  " + strings.ReplaceAll(k.flag, "-", "_") + ": " + k.fileYAML + "\n"
		path := filepath.Join(t.TempDir(), "config.yaml")
		if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, tt := range []struct {
			name    string
			config  string
			env     bool
			flag    bool
			want    string
			wantSrc string
		}{
			{name: "default", want: k.def, wantSrc: "default"},
			{name: "file", config: path, want: k.file, wantSrc: "config file " + path},
			{name: "env over file", config: path, env: true, want: k.env, wantSrc: "environment " + envName(k.flag)},
			{name: "flag over env", config: path, env: true, flag: true, want: k.given, wantSrc: "flag --" + k.flag},
		} {
			t.Run(k.flag+"/"+tt.name, func(t *testing.T) {
				cmd := newProcessCmd(streams{})
				var args []string
				if tt.flag {
					args = append(args, "--"+k.flag+"="+strings.Trim(k.given, "[]"))
				}
				if err := cmd.ParseFlags(args); err != nil {
					t.Fatal(err)
				}
				env := map[string]string{}
				if tt.env {
					env[envName(k.flag)] = strings.Trim(k.env, "[]")
				}
				set, err := loadSettings(cmd.Flags(), tt.config, func(name string) (string, bool) {
					v, ok := env[name]
					return v, ok
				})
				if err != nil {
					t.Fatal(err)
				}
				if got := cmd.Flags().Lookup(k.flag).Value.String(); got != tt.want {
					t.Errorf("%s = %q, want %q", k.flag, got, tt.want)
				}
				if got := set.source(k.flag); got != tt.wantSrc {
					t.Errorf("source %q, want %q", got, tt.wantSrc)
				}
			})
		}
	}
}

// TestConfigErrors checks that bad values name the key, the value and
// where they came from, all at once, before any packet is read.
func TestConfigErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	yaml := "processor:\n  max_open_files: lots\n  call_idle_timeout: 0s\n  no_such_key: 1\n"
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{envName("auth-wait"): "soon"}
	code, _, stderr := runEnv(t, env, nil, "process", "-r", "x.pcap", "--config", path, "--per-call-max-size", "1K")
	if code != exitUsage {
		t.Fatalf("exit %d, want %d:\n%s", code, exitUsage, stderr)
	}
	for _, want := range []string{
		`processor.max_open_files = lots (from config file ` + path + `)`,
		`unknown key processor.no_such_key in config file ` + path,
		`processor.auth_wait = "soon" (from environment LC_PROCESSOR_AUTH_WAIT)`,
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	// Validation problems of values that parsed come together, after the
	// parse errors are fixed.
	os.WriteFile(path, []byte("processor:\n  call_idle_timeout: 0s\n"), 0o644)
	code, _, stderr = runEnv(t, nil, nil, "process", "-r", "x.pcap", "--config", path, "--per-call-max-size", "1K")
	for _, want := range []string{
		`processor.call_idle_timeout = "0s" (from config file ` + path + `): must be positive`,
		`processor.per_call_max_size = "1024" (from flag --per-call-max-size): must be at least 65536 bytes`,
	} {
		if code != exitUsage || !strings.Contains(stderr, want) {
			t.Errorf("exit %d, stderr lacks %q:\n%s", code, want, stderr)
		}
	}
}

func TestConfigFileSearch(t *testing.T) {
	xdg := t.TempDir()
	if err := os.MkdirAll(filepath.Join(xdg, "lc"), 0o755); err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(xdg, "lc", "config.yaml")
	if err := os.WriteFile(want, []byte("processor:\n  log_level: warn\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := func(k string) (string, bool) {
		if k == "XDG_CONFIG_HOME" {
			return xdg, true
		}
		return "", false
	}
	got, err := configFile("", env)
	if err != nil || got != want {
		t.Fatalf("configFile = %q, %v; want %q", got, err, want)
	}
	if _, err := configFile(filepath.Join(xdg, "missing.yaml"), env); err == nil {
		t.Fatal("a missing --config file is not an error")
	}
}
