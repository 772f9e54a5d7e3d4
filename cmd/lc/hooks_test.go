package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// hookLog runs lc on the sample capture with both command hooks appending
// a line to a log file, and returns the log's lines and the events.
func hookLog(t *testing.T, env map[string]string, extra ...string) (lines []string, events []map[string]any, stderr string) {
	t.Helper()
	dir := t.TempDir()
	log := filepath.Join(dir, "hooks.log")
	eventsPath := filepath.Join(dir, "events.jsonl")
	args := append([]string{"process", "-r", samplePath, "-o", filepath.Join(dir, "out"), "--events", eventsPath,
		"--pcap-command", "echo pcap %callid% %kind% %basename% >> " + log,
		"--voip-command", "echo voip %callid% %state% %status% %caller% >> " + log}, extra...)
	code, _, stderr := runEnv(t, env, nil, args...)
	if code != exitOK {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	if data, err := os.ReadFile(log); err == nil {
		lines = strings.Split(strings.TrimSpace(string(data)), "\n")
	}
	f, err := os.Open(eventsPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e map[string]any
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatal(err)
		}
		events = append(events, e)
	}
	return lines, events, stderr
}

// TestCommandHooksEndToEnd checks one pcap hook per closed file, one voip
// hook per call, and a call's pcap hooks before its voip hook.
func TestCommandHooksEndToEnd(t *testing.T) {
	lines, events, stderr := hookLog(t, nil)
	var files, calls int
	for _, e := range events {
		switch e["event"] {
		case "file_closed":
			files++
		case "call_completed":
			calls++
		}
	}
	var pcapLines, voipLines int
	lastVoip := map[string]int{}
	for i, l := range lines {
		f := strings.Fields(l)
		switch f[0] {
		case "pcap":
			pcapLines++
			if len(f) == 4 { // a call's file: its voip hook must come later
				if _, done := lastVoip[f[1]]; done {
					t.Errorf("pcap hook of %s after its voip hook: %q", f[1], l)
				}
			}
		case "voip":
			voipLines++
			lastVoip[f[1]] = i
		}
	}
	if pcapLines != files || voipLines != calls || calls != 3 {
		t.Fatalf("%d pcap hooks for %d files, %d voip hooks for %d calls:\n%s", pcapLines, files, voipLines, calls, strings.Join(lines, "\n"))
	}
	want := []string{"voip call-1@lc.test completed 200 alice1@a.example", "voip call-2@lc.test failed 486 alice2@a.example",
		"voip call-3@lc.test cancelled 487 alice3@a.example"}
	for _, w := range want {
		if !slices.Contains(lines, w) {
			t.Errorf("no hook line %q in:\n%s", w, strings.Join(lines, "\n"))
		}
	}
	if !strings.Contains(stderr, "hooks: 8 ran, 0 failed") {
		t.Errorf("summary lacks the hook counts:\n%s", stderr)
	}
}

// TestDryRunExecutesNothing runs the same with --dry-run: nothing runs,
// every command is logged.
func TestDryRunExecutesNothing(t *testing.T) {
	lines, _, stderr := hookLog(t, nil, "--dry-run")
	if len(lines) != 0 {
		t.Fatalf("dry run executed hooks:\n%s", strings.Join(lines, "\n"))
	}
	if n := strings.Count(stderr, "dry run: not executed"); n != 8 {
		t.Fatalf("%d dry-run log lines, want 8:\n%s", n, stderr)
	}
}

// TestHooksFromEnvironment checks that a setting from the environment
// reaches the run: dry-run switched on by LC_PROCESSOR_DRY_RUN.
func TestHooksFromEnvironment(t *testing.T) {
	lines, _, _ := hookLog(t, map[string]string{processorSection.envName("dry-run"): "true"})
	if len(lines) != 0 {
		t.Fatalf("LC_PROCESSOR_DRY_RUN=true was ignored:\n%s", strings.Join(lines, "\n"))
	}
}

func TestBadTemplateIsUsageError(t *testing.T) {
	for _, tmpl := range []string{"echo %nosuch%", "echo 'unbalanced", "   ", "%pcap% --x"} {
		code, _, stderr := run(t, nil, "process", "-r", samplePath, "-o", t.TempDir(), "--pcap-command", tmpl)
		if code != exitUsage || !strings.Contains(stderr, "processor.pcap_command") {
			t.Errorf("template %q: exit %d:\n%s", tmpl, code, stderr)
		}
	}
}
