package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/spf13/cobra"
)

// precedenceCase is a flag, its default and the values the config file,
// the environment and the command line give it.
type precedenceCase struct {
	flag                  string
	def, file, env, given string // given is the flag value on the command line
	fileYAML              string // how the file writes it
}

// TestConfigPrecedence checks flag > environment > file > default for every
// kind of value lc process takes.
func TestConfigPrecedence(t *testing.T) {
	checkPrecedence(t, processorSection, func() *cobra.Command { return newProcessCmd(streams{}) }, []precedenceCase{
		{flag: "output-dir", def: "./lc-out", file: "/from/file", env: "/from/env", given: "/from/flag", fileYAML: "/from/file"},
		{flag: "log-level", def: "info", file: "warn", env: "error", given: "debug", fileYAML: "warn"},
		{flag: "per-call-pcap", def: "true", file: "false", env: "true", given: "false", fileYAML: "false"},
		{flag: "call-grace-period", def: "5s", file: "7s", env: "8s", given: "9s", fileYAML: "7s"},
		{flag: "per-call-max-size", def: "100M", file: "1M", env: "2M", given: "3M", fileYAML: "1M"},
		{flag: "max-open-files", def: "0", file: "100", env: "200", given: "300", fileYAML: "100"},
		{flag: "read-file", def: "[]", file: "[a.pcap,b.pcap]", env: "[e.pcap]", given: "[f.pcap]", fileYAML: "[a.pcap, b.pcap]"},
		{flag: "pcap-command", def: "", file: "gzip %pcap%", env: "xz %pcap%", given: "true", fileYAML: `"gzip %pcap%"`},
		{flag: "command-concurrency", def: "10", file: "3", env: "4", given: "5", fileYAML: "3"},
	})
}

// checkPrecedence checks, for each case, that a flag of the command that
// newCmd makes takes its default, the value of sec's section of the file,
// the environment's over the file's and the command line's over both,
// and that each is said to come from where it did.
func checkPrecedence(t *testing.T, sec configSection, newCmd func() *cobra.Command, cases []precedenceCase) {
	for _, k := range cases {
		yaml := sec.name() + ":\n  " + strings.ReplaceAll(k.flag, "-", "_") + ": " + k.fileYAML + "\n"
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
			{name: "env over file", config: path, env: true, want: k.env, wantSrc: "environment " + sec.envName(k.flag)},
			{name: "flag over env", config: path, env: true, flag: true, want: k.given, wantSrc: "flag --" + k.flag},
		} {
			t.Run(k.flag+"/"+tt.name, func(t *testing.T) {
				cmd := newCmd()
				var args []string
				if tt.flag {
					args = append(args, "--"+k.flag+"="+strings.Trim(k.given, "[]"))
				}
				if err := cmd.ParseFlags(args); err != nil {
					t.Fatal(err)
				}
				env := map[string]string{}
				if tt.env {
					env[sec.envName(k.flag)] = strings.Trim(k.env, "[]")
				}
				set, err := loadSettings(cmd.Flags(), sec, tt.config, func(name string) (string, bool) {
					v, ok := env[name]
					return v, ok
				}, nil)
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
	env := map[string]string{processorSection.envName("auth-wait"): "soon"}
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

// TestConfigInputsBounded: what --config and --hook-script name is read
// only when it is a regular file of sane size; a device, a FIFO or a huge
// file is refused at once, before anything is read from it.
func TestConfigInputsBounded(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	huge := filepath.Join(dir, "huge.yaml")
	if err := os.WriteFile(huge, make([]byte, maxConfigFile+1), 0o600); err != nil {
		t.Fatal(err)
	}
	pcap := twoCalls(t)
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"config device", []string{"--config", "/dev/zero"}, "config file: /dev/zero: not a regular file (a device)"},
		{"config FIFO", []string{"--config", fifo}, "not a regular file (a FIFO)"},
		{"config directory", []string{"--config", dir}, "not a regular file (a directory)"},
		{"config too large", []string{"--config", huge}, "larger than the 1 MiB lc reads"},
		{"script device", []string{"--hook-script", "/dev/zero"}, "/dev/zero: not a regular file (a device)"},
		{"script FIFO", []string{"--hook-script", fifo}, "not a regular file (a FIFO)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"process", "-r", pcap, "-o", t.TempDir()}, tt.args...)
			code, _, stderr := run(t, nil, args...)
			if code != exitUsage || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, want %d with %q:\n%s", code, exitUsage, tt.want, stderr)
			}
		})
	}
	for _, path := range []string{"/dev/zero", fifo} {
		code, _, stderr := run(t, nil, "hooks", "check", path)
		if code != exitUsage || !strings.Contains(stderr, "not a regular file") {
			t.Errorf("hooks check %s: exit %d:\n%s", path, code, stderr)
		}
	}
}

// TestConfigProblemsAtOnce: values that do not parse, values out of
// range, unknown LC_PROCESSOR_ variables and unknown keys are reported in
// one run, each with where it came from; an empty processor section and
// a huge number are read as written.
func TestConfigProblemsAtOnce(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "lc.yaml")
	if err := os.WriteFile(file, []byte("processor:\n  snaplen: 99999999999999999999\n  bogus_key: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"LC_PROCESSOR_CALL_GRACE_PERIOD": "soon", "LC_PROCESSOR_BOGUS": "1", "LC_ALL": "C"}
	code, _, stderr := runEnv(t, env, nil, "process", "-r", twoCalls(t), "-o", t.TempDir(), "--config", file, "--max-open-files", "0")
	for _, want := range []string{
		`processor.call_grace_period = "soon" (from environment LC_PROCESSOR_CALL_GRACE_PERIOD)`,
		"unknown environment variable LC_PROCESSOR_BOGUS",
		"processor.snaplen = 100000000000000000000 (from config file " + file + ")", // YAML reads it as a float
		"unknown key processor.bogus_key",
		`processor.max_open_files = "0" (from flag --max-open-files)`,
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("missing %q:", want)
		}
	}
	if strings.Count(stderr, "snaplen") != 1 || strings.Count(stderr, "call_grace_period") != 1 {
		t.Errorf("a value that does not parse is reported more than once")
	}
	if code != exitUsage || strings.Contains(stderr, "LC_ALL") || t.Failed() {
		t.Errorf("exit %d:\n%s", code, stderr)
	}

	if err := os.WriteFile(file, []byte("processor:\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := run(t, nil, "process", "-r", twoCalls(t), "-o", t.TempDir(), "--config", file); code != exitOK {
		t.Errorf("an empty processor section: exit %d:\n%s", code, stderr)
	}
}

// TestFileLimitChecked: a --max-open-files that the descriptor limit
// cannot hold is a configuration error before any packet is read, not a
// failure in the middle of the run.
func TestFileLimitChecked(t *testing.T) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Skip(err)
	}
	low := lim
	low.Cur = 200
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &low); err != nil {
		t.Skip(err)
	}
	defer syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	out := t.TempDir()
	code, _, stderr := run(t, nil, "process", "-r", twoCalls(t), "-o", out, "--max-open-files", "256")
	if code != exitUsage || !strings.Contains(stderr, "but may open 200 (ulimit -n)") {
		t.Errorf("--max-open-files 256 under ulimit -n 200: exit %d:\n%s", code, stderr)
	}
	if entries, _ := os.ReadDir(out); len(entries) != 0 {
		t.Errorf("files written before the error: %v", entries)
	}
	for _, args := range [][]string{{"--max-open-files", "100"}, nil} {
		if code, _, stderr := run(t, nil, append([]string{"process", "-r", twoCalls(t), "-o", t.TempDir()}, args...)...); code != exitOK {
			t.Errorf("%q under ulimit -n 200: exit %d:\n%s", args, code, stderr)
		}
	}
}

// TestOpenFileBudget: without --max-open-files, the budget is what the
// descriptor limit leaves room for, up to a cap.
func TestOpenFileBudget(t *testing.T) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Skip(err)
	}
	defer syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	for _, tt := range []struct {
		limit         uint64
		inputs, hooks int
		want          int
	}{
		{limit: 200, inputs: 1, hooks: 10, want: 200 - 1 - fdReserve - 10*fdsPerHook},
		{limit: 1 << 20, inputs: 1, hooks: 10, want: maxAutoOpenFiles},
		{limit: 40, inputs: 1, hooks: 10, want: 2},
	} {
		low := lim
		low.Cur = min(tt.limit, lim.Max)
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &low); err != nil {
			t.Skip(err)
		}
		if low.Cur != tt.limit {
			continue // the hard limit is lower
		}
		if got := autoOpenFiles(tt.inputs, tt.hooks); got != tt.want {
			t.Errorf("ulimit -n %d, %d inputs, %d hooks: budget %d, want %d", tt.limit, tt.inputs, tt.hooks, got, tt.want)
		}
	}
}
