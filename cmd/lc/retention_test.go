package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lc-voip/lc/internal/event"
	"github.com/lc-voip/lc/internal/processor"
	"github.com/lc-voip/lc/internal/retention"
	"github.com/lc-voip/lc/internal/testpcap"
)

// TestRetentionFlags: each bad value is one error naming the flag, from
// the command line, the environment and the config file alike.
func TestRetentionFlags(t *testing.T) {
	capture := twoCalls(t)
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string // in stderr
	}{
		{"bad size", nil, []string{"--retention-max-size", "12Q"}, `invalid argument "12Q" for "--retention-max-size" flag`},
		{"zero percent", nil, []string{"--retention-max-size", "0%"}, `invalid percentage "0%"`},
		{"full percent", nil, []string{"--retention-max-size", "100%"}, "less than 100%"},
		{"bad age", nil, []string{"--retention-max-age", "soon"}, `"--retention-max-age" flag`},
		{"negative age", nil, []string{"--retention-max-age", "-1h"}, `processor.retention_max_age = "-1h0m0s" (from flag --retention-max-age): must not be negative`},
		{"dry run of nothing", nil, []string{"--retention-dry-run"}, "processor.retention_dry_run = \"true\" (from flag --retention-dry-run): needs --retention-max-size or --retention-max-age"},
		{"environment", map[string]string{"LC_PROCESSOR_RETENTION_MAX_SIZE": "80 percent"}, nil, `processor.retention_max_size = "80 percent" (from environment LC_PROCESSOR_RETENTION_MAX_SIZE): invalid size`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"process", "-r", capture, "-o", t.TempDir()}, tt.args...)
			code, _, stderr := runEnv(t, tt.env, nil, args...)
			if code != exitUsage || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, want %d; stderr does not say %q:\n%s", code, exitUsage, tt.want, stderr)
			}
		})
	}

	cfgFile := filepath.Join(t.TempDir(), "lc.yaml")
	if err := os.WriteFile(cfgFile, []byte("processor:\n  retention_max_size: 2T\n  retention_max_age: 720h\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	code, _, stderr := run(t, nil, "process", "-r", capture, "-o", out, "--config", cfgFile, "--retention-dry-run")
	if code != exitOK || !strings.Contains(stderr, "retention: would have removed (dry run) 0 calls + 0 other (0 B); 2 kept") {
		t.Errorf("config file limits: exit %d\n%s", code, stderr)
	}
}

func TestRetentionSizeValue(t *testing.T) {
	for in, want := range map[string]retentionSize{
		"80%":     {percent: 80},
		" 92.5 %": {percent: 92.5},
		"10G":     {bytes: 10 << 30},
		"2T":      {bytes: 2 << 40},
		"4096":    {bytes: 4096},
		"0":       {},
	} {
		var v retentionSize
		if err := v.Set(in); err != nil || v != want {
			t.Errorf("Set(%q) = %+v, %v; want %+v", in, v, err, want)
		}
	}
	for _, bad := range []string{"", "-5%", "100%", "NaN%", "1.5G", "80%%", "x"} {
		var v retentionSize
		if err := v.Set(bad); err == nil {
			t.Errorf("Set(%q) = %+v, want an error", bad, v)
		}
	}
}

// TestRetentionRemovesOldCalls: calls of an earlier run are removed at
// the start of the next, oldest first, down to the limit; with the age
// limit, by packet time; the newest stay.
func TestRetentionRemovesOldCalls(t *testing.T) {
	out := t.TempDir()
	capture := filepath.Join(t.TempDir(), "calls.pcap")
	testpcap.WriteFile(t, capture, testpcap.Calls(10, 20, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), 10*time.Second))
	if code, _, stderr := run(t, nil, "process", "-r", capture, "-o", out); code != exitOK {
		t.Fatalf("first run: exit %d\n%s", code, stderr)
	}
	dirs := callDirs(t, out)
	if len(dirs) != 10 {
		t.Fatalf("%d call directories, want 10", len(dirs))
	}
	one := treeBytes(t, filepath.Join(out, "calls", dirs[0]))
	empty := filepath.Join(t.TempDir(), "empty.pcap")
	testpcap.WriteFile(t, empty, nil)
	code, _, stderr := run(t, nil, "process", "-r", empty, "-o", out, "--retention-max-size", formatSize(4*one+one/2),
		"--log-format", "json")
	if code != exitOK {
		t.Fatalf("second run: exit %d\n%s", code, stderr)
	}
	if got := callDirs(t, out); strings.Join(got, " ") != strings.Join(dirs[6:], " ") {
		t.Errorf("left %q, want the 4 newest %q", got, dirs[6:])
	}
	var sum struct {
		Retention *retentionJSON `json:"retention"`
	}
	for line := range strings.Lines(stderr) {
		if strings.Contains(line, `"msg":"summary"`) {
			if err := json.Unmarshal([]byte(line), &sum); err != nil {
				t.Fatal(err)
			}
		}
	}
	if r := sum.Retention; r == nil || r.Removed["calls"] != 6 || r.Tracked != 4 || r.RemovedBytes != 6*one {
		t.Errorf("JSON summary retention %+v, want 6 calls (%d bytes) removed, 4 tracked\n%s", r, 6*one, stderr)
	}
}

// callDirs lists the call directories under out, oldest first, relative
// to out/calls.
func callDirs(tb testing.TB, out string) []string {
	tb.Helper()
	dirs, err := filepath.Glob(filepath.Join(out, "calls", "*", "*", "*"))
	if err != nil {
		tb.Fatal(err)
	}
	for i, d := range dirs {
		dirs[i], _ = filepath.Rel(filepath.Join(out, "calls"), d)
	}
	return dirs
}

// treeBytes sums the sizes of the regular files under dir; files that
// vanish while it looks are left out. It looks at the newest first (the
// names of days, hours and units sort by time), so that while lc writes
// new units and removes the oldest it never counts both a unit removed
// during the walk and one written after it: every unit it counts existed
// when it began.
func treeBytes(tb testing.TB, dir string) int64 {
	tb.Helper()
	entries, _ := os.ReadDir(dir) // sorted by name; a directory gone is empty
	var n int64
	for _, e := range slices.Backward(entries) {
		switch {
		case e.IsDir():
			n += treeBytes(tb, filepath.Join(dir, e.Name()))
		case e.Type().IsRegular():
			if fi, err := e.Info(); err == nil {
				n += fi.Size()
			}
		}
	}
	return n
}

// TestRetentionMetricsAtZero: with retention on, its series are there
// from the first scrape, at 0, every kind of unit included.
func TestRetentionMetricsAtZero(t *testing.T) {
	m := newMetrics()
	m.sources = idleRun(t)
	cfg := processor.DefaultConfig()
	cfg.OutputDir = t.TempDir()
	k, err := newKeeper(retentionOptions{maxAge: time.Hour}, cfg, nil, true, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { k.close() })
	m.sources.retention = k.stats
	got := gathered(t, m.registry)
	for _, name := range []string{`lc_retention_removed_total{kind="calls"}`, `lc_retention_removed_total{kind="other"}`,
		"lc_retention_removed_bytes_total", "lc_retention_tracked_bytes", "lc_retention_held_bytes", "lc_retention_errors_total"} {
		if v, ok := got[name]; !ok || v != 0 {
			t.Errorf("%s = %v (there: %v), want 0", name, v, ok)
		}
	}
}

// TestRetentionSummary: the summary line.
func TestRetentionSummary(t *testing.T) {
	var buf bytes.Buffer
	printRetention(&buf, &retention.Stats{Removed: map[string]int64{"calls": 812, "other": 3}, RemovedBytes: 20 << 20,
		Tracked: 40, TrackedBytes: 1 << 20, Held: 2, Waits: 5, Errors: 1})
	want := "  retention: removed 812 calls + 3 other (20 MiB); 40 kept (1 MiB), 2 whose hooks did not finish; " +
		"reading waited 5 times for room; 1 could not be removed (logged)\n"
	if buf.String() != want {
		t.Errorf("got  %q\nwant %q", buf.String(), want)
	}
}

// TestKeeperWaitsForHooks: a unit goes only once every event of it is
// done: a call of an earlier run whose event the journal replays, when
// the replay is done (and not before, though the scan finds it); a call
// of this run, when its CallCompleted and each of its FileClosed are.
// Everything else the scan finds is done.
func TestKeeperWaitsForHooks(t *testing.T) {
	out := t.TempDir()
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	dir := func(id string) string { return processor.CallDir(out, id, at) }
	write := func(id string) {
		t.Helper()
		if err := os.MkdirAll(dir(id), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir(id), id+"_sip.pcap"), make([]byte, 100), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("replayed")
	write("old")
	cfg := processor.DefaultConfig()
	cfg.OutputDir = out
	k, err := newKeeper(retentionOptions{maxSize: retentionSize{bytes: 1}}, cfg, nil, true, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer k.close()
	replayed := event.Identified(event.CallCompleted{CallID: "replayed", Dirname: dir("replayed")})
	k.replaying(replayed)
	k.start()
	k.c.Sweep()
	there := func(id string, want bool) {
		t.Helper()
		if _, err := os.Stat(dir(id)); (err == nil) != want {
			t.Errorf("%s: there %v, want %v", id, err == nil, want)
		}
	}
	there("old", false)
	there("replayed", true)

	// A call of this run, written after the scan.
	write("new")
	file := event.Identified(event.FileClosed{CallID: "new", Path: filepath.Join(dir("new"), "new_sip.pcap"), Bytes: 100})
	call := event.Identified(event.CallCompleted{CallID: "new", Dirname: dir("new")})
	k.emitted(file)
	k.emitted(call)
	k.emitted(replayed) // the journal holds it: left to the replay, which calls done once
	k.done(call)
	k.c.Sweep()
	there("new", true) // its FileClosed's hooks still run
	if st := k.c.Stats(); st.Held != 2 || st.HeldBytes != 100 {
		t.Errorf("held %d units, %d bytes; want 2 (new, replayed), 100", st.Held, st.HeldBytes)
	}
	k.done(file)
	k.done(replayed)
	k.c.Sweep()
	there("new", false)
	there("replayed", false)
}
