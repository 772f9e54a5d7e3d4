package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lc-voip/lc/internal/natsbus/natstest"
	"github.com/lc-voip/lc/internal/testpcap"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// writeConfig writes yaml to a config file in a directory of its own and
// returns its path.
func writeConfig(tb testing.TB, yaml string) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

// prepareWorker sets up the options of lc hooks worker from args, the
// environment env and the config file, as the command does, and validates
// them; it connects to no server. It returns the options and the usage
// error, if any.
func prepareWorker(tb testing.TB, env map[string]string, args ...string) (workerOptions, error) {
	tb.Helper()
	var opt workerOptions
	f := pflag.NewFlagSet("worker", pflag.ContinueOnError)
	addWorkerFlags(f, &opt)
	if err := f.Parse(args); err != nil {
		tb.Fatal(err)
	}
	var names []string
	for name := range env {
		names = append(names, name)
	}
	set, err := loadSettings(f, workerSection, opt.config, func(name string) (string, bool) {
		v, ok := env[name]
		return v, ok
	}, names)
	_, _, err = opt.prepare(streams{err: io.Discard}, set, err)
	return opt, err
}

// TestWorkerConfigPrecedence checks flag > environment > file > default
// for lc hooks worker, whose file keys are under worker: and whose
// variables are LC_WORKER_*.
func TestWorkerConfigPrecedence(t *testing.T) {
	checkPrecedence(t, workerSection, func() *cobra.Command { return newHooksWorkerCmd(streams{}) }, []precedenceCase{
		{flag: "nats", def: "", file: "nats://file:4222", env: "nats://env:4222", given: "nats://flag:4222", fileYAML: "nats://file:4222"},
		{flag: "nats-max-deliver", def: "5", file: "7", env: "8", given: "9", fileYAML: "7"},
		{flag: "nats-ack-wait", def: "0s", file: "7s", env: "8s", given: "9s", fileYAML: "7s"},
		{flag: "voip-command", def: "", file: "archive %callid%", env: "echo %callid%", given: "true", fileYAML: `"archive %callid%"`},
		{flag: "dry-run", def: "false", file: "true", env: "false", given: "true", fileYAML: "true"},
	})
	if got := workerSection.envName("voip-command"); got != "LC_WORKER_VOIP_COMMAND" {
		t.Errorf("envName = %q, want LC_WORKER_VOIP_COMMAND", got)
	}
}

// TestWorkerConfigValues: the worker validates the values it takes from
// the file and the environment, and a value from the environment
// replaces the file's before it is checked.
func TestWorkerConfigValues(t *testing.T) {
	path := writeConfig(t, "worker:\n  nats: nats://127.0.0.1:1\n  voip_command: archive %callid%\n  nats_max_deliver: 0\n")
	_, err := prepareWorker(t, nil, "--config", path)
	want := `worker.nats_max_deliver = "0" (from config file ` + path + `): must be at least 1`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %v, want %q", err, want)
	}
	opt, err := prepareWorker(t, map[string]string{"LC_WORKER_NATS_MAX_DELIVER": "3"}, "--config", path)
	if err != nil {
		t.Fatal(err)
	}
	if opt.maxDeliver != 3 || opt.nats.url != "nats://127.0.0.1:1" || opt.hooks.voipCommand != "archive %callid%" {
		t.Errorf("max deliver %d, nats %q, voip command %q", opt.maxDeliver, opt.nats.url, opt.hooks.voipCommand)
	}
}

// TestWorkerConfigErrors: every bad value of lc hooks worker, from the
// command line, the environment or its section of the file, and every
// unknown key or LC_WORKER_ variable, is reported at once as a usage
// error naming the worker's key, the value and where it came from,
// before any connection; LC_PROCESSOR_ variables are not the worker's.
func TestWorkerConfigErrors(t *testing.T) {
	path := writeConfig(t, "worker:\n  nats_max_deliver: 0\n  command_timeout: soon\n  voip_command: x %nope%\n  no_such_key: 1\n")
	env := map[string]string{
		"LC_WORKER_NATS":          "nats://127.0.0.1:1",
		"LC_WORKER_NATS_ACK_WAIT": "-1s",
		"LC_WORKER_BOGUS":         "1",
		"LC_PROCESSOR_BOGUS":      "1",
	}
	code, _, stderr := runEnv(t, env, nil, "hooks", "worker", "--config", path, "--status-interval", "-1s")
	for _, want := range []string{
		`worker.nats_max_deliver = "0" (from config file ` + path + `): must be at least 1`,
		`worker.command_timeout = soon (from config file ` + path + `)`,
		`worker.voip_command = "x %nope%" (from config file ` + path + `)`,
		`unknown key worker.no_such_key in config file ` + path,
		`worker.nats_ack_wait = "-1s" (from environment LC_WORKER_NATS_ACK_WAIT): must not be negative`,
		`unknown environment variable LC_WORKER_BOGUS (lc hooks worker reads LC_WORKER_* only for its flags)`,
		`worker.status_interval = "-1s" (from flag --status-interval): must not be negative`,
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q", want)
		}
	}
	if code != exitUsage || strings.Contains(stderr, "LC_PROCESSOR_BOGUS") || strings.Contains(stderr, "processor.") || t.Failed() {
		t.Errorf("exit %d:\n%s", code, stderr)
	}
	code, _, stderr = run(t, nil, "hooks", "worker", "--voip-command", "true")
	if want := "--nats nats://HOST:PORT (or worker.nats in the config file, or LC_WORKER_NATS)"; code != exitUsage || !strings.Contains(stderr, want) {
		t.Errorf("without a server: exit %d, want %q:\n%s", code, want, stderr)
	}
}

// TestConfigBothSections: one file holds the settings of lc process and
// of the worker; each command reads its own section and its own
// variables, and leaves the other's alone.
func TestConfigBothSections(t *testing.T) {
	out := t.TempDir()
	path := writeConfig(t, "processor:\n  read_file: ["+twoCalls(t)+"]\n  output_dir: "+out+"\n"+
		"worker:\n  nats: nats://127.0.0.1:1\n  nats_consumer: archivers\n  voip_command: archive %callid%\n")
	env := map[string]string{"LC_WORKER_NATS_MAX_DELIVER": "3", "LC_PROCESSOR_LOG_LEVEL": "warn"}
	if code, _, stderr := runEnv(t, env, nil, "process", "--config", path); code != exitOK {
		t.Fatalf("lc process: exit %d:\n%s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(out, "calls")); err != nil {
		t.Errorf("lc process did not take output_dir from the file: %v", err)
	}
	opt, err := prepareWorker(t, env, "--config", path)
	if err != nil {
		t.Fatalf("lc hooks worker: %v", err)
	}
	if opt.consumer != "archivers" || opt.maxDeliver != 3 || opt.logLevel != "info" {
		t.Errorf("consumer %q, max deliver %d, log level %q", opt.consumer, opt.maxDeliver, opt.logLevel)
	}
}

// TestConfigUnknownSection: a top-level key that is no command's section
// is an error for lc process and for the worker alike.
func TestConfigUnknownSection(t *testing.T) {
	path := writeConfig(t, "processor:\nworker:\n  nats: nats://127.0.0.1:1\n  voip_command: archive %callid%\nworkers:\n  nats_consumer: x\nlog_level: debug\n")
	for _, args := range [][]string{
		{"process", "-r", twoCalls(t), "-o", t.TempDir(), "--config", path},
		{"hooks", "worker", "--config", path},
	} {
		code, _, stderr := run(t, nil, args...)
		for _, want := range []string{
			"unknown section workers in config file " + path + " (lc reads processor: and worker:)",
			"unknown section log_level in config file " + path,
		} {
			if !strings.Contains(stderr, want) {
				t.Errorf("%s: stderr lacks %q", args[0], want)
			}
		}
		if code != exitUsage || strings.Count(stderr, "workers") != 1 || t.Failed() {
			t.Errorf("%s: exit %d:\n%s", args[0], code, stderr)
		}
	}
}

// TestWorkerConfigRuns: lc process publishes and lc hooks worker runs
// the hooks with every setting from one file's two sections.
func TestWorkerConfigRuns(t *testing.T) {
	srv := natstest.Start(t)
	capture := filepath.Join(t.TempDir(), "calls.pcap")
	testpcap.WriteFile(t, capture, testpcap.Calls(2, 2, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), 20*time.Millisecond))
	hooks := filepath.Join(t.TempDir(), "hooks.txt")
	path := writeConfig(t, "processor:\n  events_to: "+srv.URL()+"\n  auto_rotate_pcap: false\n"+
		"worker:\n  nats: "+srv.URL()+"\n  nats_ack_wait: 5s\n"+
		"  pcap_command: echo pcap %callid% >> "+hooks+"\n  voip_command: echo call %callid% >> "+hooks+"\n")
	if code, _, stderr := run(t, nil, "process", "-r", capture, "-o", t.TempDir(), "--config", path); code != exitOK {
		t.Fatalf("lc process: exit %d:\n%s", code, stderr)
	}
	w := startLCWorker(t, "--config", path)
	checkCallOrder(t, hookLines(t, hooks, 6), 2)
	if code := w.wait(t); code != exitOK {
		t.Errorf("worker exit status %d:\n%s", code, w.stderr.String())
	}
}
