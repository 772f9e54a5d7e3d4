package main

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lc-voip/lc/internal/processor"
	"github.com/lc-voip/lc/internal/testpcap"
	"github.com/spf13/pflag"
)

// layoutCapture writes a capture of an OPTIONS and a call, both starting
// at 2026-01-02 22:59:58 UTC (04:29:58 the next day in India), and
// returns its path.
func layoutCapture(tb testing.TB) string {
	tb.Helper()
	tl := &testpcap.Timeline{Now: time.Date(2026, 1, 2, 22, 59, 58, 0, time.UTC)}
	o := testpcap.NewDialog(6)
	tl.Add(testpcap.UDP(o.Caller, o.Callee, o.Request("OPTIONS", 1, "", "")), 0)
	tl.BasicCall(testpcap.NewDialog(1), 5)
	path := filepath.Join(tb.TempDir(), "layout.pcap")
	testpcap.WriteFile(tb, path, tl.Pkts)
	return path
}

// outputFiles lists the files beneath out, lc's journal left out, as
// slash-separated paths relative to out, sorted.
func outputFiles(tb testing.TB, out string) []string {
	tb.Helper()
	var files []string
	err := walkOutput(out, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(out, path)
		files = append(files, filepath.ToSlash(rel))
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	slices.Sort(files)
	return files
}

// TestDefaultCallTree: by default a call's directory is in a directory
// per day and hour of its first packet, in UTC.
func TestDefaultCallTree(t *testing.T) {
	out := t.TempDir()
	if code, _, stderr := run(t, nil, "process", "-r", layoutCapture(t), "-o", out); code != exitOK {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	want := []string{
		"calls/2026-01-02/22/225958_call-1@lc.test/call-1@lc.test_rtp.pcap",
		"calls/2026-01-02/22/225958_call-1@lc.test/call-1@lc.test_sip.pcap",
		"other/2026-01-02/20260102_225958.pcap",
	}
	if got := outputFiles(t, out); !slices.Equal(got, want) {
		t.Errorf("output tree:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestCallsLayoutRefused: a bad layout is one configuration error that
// names the key, the value and where it came from, before any packet is
// read.
func TestCallsLayoutRefused(t *testing.T) {
	config := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(config, []byte("processor:\n  calls_layout: \"2006/../etc\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"escape", nil, []string{"--calls-layout", "../2006"},
			`processor.calls_layout = "../2006" (from flag --calls-layout): must not contain ".."`},
		{"absolute", nil, []string{"--calls-layout=/etc/2006"},
			`processor.calls_layout = "/etc/2006" (from flag --calls-layout): level 1 "": is empty`},
		{"empty", nil, []string{"--calls-layout="},
			`processor.calls_layout = "" (from flag --calls-layout): must not be empty`},
		{"not a layout", nil, []string{"--calls-layout", "%Y/%m/%d"},
			`processor.calls_layout = "%Y/%m/%d" (from flag --calls-layout): level 1 "%Y": "%Y" is not a date or time element`},
		{"spaces", nil, []string{"--calls-layout", "2006_1_2"},
			`(from flag --calls-layout): level 1 "2006_1_2": "_2" and "__2" pad with spaces`},
		{"environment", map[string]string{processorSection.envName("calls-layout"): "2006/01/02/15h"}, nil,
			`processor.calls_layout = "2006/01/02/15h" (from environment LC_PROCESSOR_CALLS_LAYOUT): level 4 "15h": "h" is not`},
		{"config file", nil, []string{"--config", config},
			`processor.calls_layout = "2006/../etc" (from config file ` + config + `): must not contain ".."`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := t.TempDir()
			args := append([]string{"process", "-r", "/nonexistent.pcap", "-o", out}, tt.args...)
			code, _, stderr := runEnv(t, tt.env, nil, args...)
			if code != exitUsage {
				t.Fatalf("exit %d, want %d:\n%s", code, exitUsage, stderr)
			}
			if !strings.Contains(stderr, tt.want) {
				t.Errorf("stderr lacks %q:\n%s", tt.want, stderr)
			}
			if n := strings.Count(stderr, "calls_layout"); n != 1 {
				t.Errorf("the layout is named %d times:\n%s", n, stderr)
			}
			if files := outputFiles(t, out); len(files) != 0 {
				t.Errorf("files written: %q", files)
			}
		})
	}
}

// TestLocalTimeSettings: --local-time is a boolean flag, environment
// variable and file key that sets the time zone to the local one.
func TestLocalTimeSettings(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		env   map[string]string
		yaml  string
		local bool
	}{
		{name: "default"},
		{name: "flag", args: []string{"--local-time"}, local: true},
		{name: "flag false", args: []string{"--local-time=false"}, env: map[string]string{processorSection.envName("local-time"): "true"}},
		{name: "environment", env: map[string]string{processorSection.envName("local-time"): "1"}, local: true},
		{name: "file", yaml: "processor:\n  local_time: true\n", local: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := pflag.NewFlagSet("process", pflag.ContinueOnError)
			cfg := processor.DefaultConfig()
			var opt processOptions
			addProcessFlags(f, &cfg, &opt)
			if err := f.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			config := ""
			if tt.yaml != "" {
				config = filepath.Join(t.TempDir(), "config.yaml")
				if err := os.WriteFile(config, []byte(tt.yaml), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			_, err := loadSettings(f, processorSection, config, func(name string) (string, bool) {
				v, ok := tt.env[name]
				return v, ok
			}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if want := map[bool]*time.Location{true: time.Local}[tt.local]; cfg.Location != want {
				t.Errorf("Location = %v, want %v", cfg.Location, want)
			}
		})
	}
}

// TestCallsLayoutLocalTime runs lc as a process of its own in India's time
// zone (TZ): with --calls-layout and --local-time the calls and the
// "other" files are filed by the local time; without --local-time, by UTC
// whatever TZ says.
func TestCallsLayoutLocalTime(t *testing.T) {
	const zone = "Asia/Kolkata" // +05:30, no daylight saving time
	if !slices.ContainsFunc([]string{"/usr/share/zoneinfo", "/usr/share/lib/zoneinfo", "/etc/zoneinfo"}, func(dir string) bool {
		_, err := os.Stat(filepath.Join(dir, zone))
		return err == nil
	}) {
		t.Skipf("no %s in the system's time zone database", zone)
	}
	env := []string{"TZ=" + zone}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, processorSection.envPrefix()) && !strings.HasPrefix(kv, "TZ=") && !strings.HasPrefix(kv, "ZONEINFO=") {
			env = append(env, kv)
		}
	}
	bin := buildLC(t)
	capture := layoutCapture(t)
	config := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(config, []byte("# no settings: the flags say everything\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"local time", []string{"--calls-layout", "2006/01/02/15/04", "--local-time"}, []string{
			"calls/2026/01/03/04/29/042958_call-1@lc.test/call-1@lc.test_rtp.pcap",
			"calls/2026/01/03/04/29/042958_call-1@lc.test/call-1@lc.test_sip.pcap",
			"other/2026-01-03/20260103_042958.pcap",
		}},
		{"UTC", []string{"--calls-layout", "2006/01/02/15/04"}, []string{
			"calls/2026/01/02/22/59/225958_call-1@lc.test/call-1@lc.test_rtp.pcap",
			"calls/2026/01/02/22/59/225958_call-1@lc.test/call-1@lc.test_sip.pcap",
			"other/2026-01-02/20260102_225958.pcap",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := t.TempDir()
			cmd := exec.Command(bin, append([]string{"process", "--config", config, "-r", capture, "-o", out, "--events", "-"}, tt.args...)...)
			cmd.Env = env
			stdout, err := cmd.Output()
			if err != nil {
				t.Fatalf("%v: %s", err, stderrOf(err))
			}
			if got := outputFiles(t, out); !slices.Equal(got, tt.want) {
				t.Errorf("output tree:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			dirname := `"dirname":"` + filepath.Join(out, filepath.Dir(tt.want[0])) + `"`
			for _, want := range []string{dirname, `"calldate":"2026-01-02T22:59:58Z"`} {
				if !strings.Contains(string(stdout), want) {
					t.Errorf("events lack %s:\n%s", want, stdout)
				}
			}
		})
	}
}

// stderrOf is the standard error of a failed exec.Cmd.Output.
func stderrOf(err error) []byte {
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.Stderr
	}
	return nil
}
