package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lc-voip/lc/internal/testpcap"
)

// run executes lc in-process, with an empty environment, and returns its
// exit status and output.
func run(tb testing.TB, stdin []byte, args ...string) (code int, stdout, stderr string) {
	tb.Helper()
	return runEnv(tb, nil, stdin, args...)
}

// runEnv is run with the given environment variables.
func runEnv(tb testing.TB, env map[string]string, stdin []byte, args ...string) (code int, stdout, stderr string) {
	tb.Helper()
	var out, errb bytes.Buffer
	lookup := func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}
	var environ []string
	for k, v := range env {
		environ = append(environ, k+"="+v)
	}
	code = execute(tb.Context(), args, streams{in: bytes.NewReader(stdin), out: &out, err: &errb, lookupEnv: lookup, environ: environ, abort: context.Background()})
	return code, out.String(), errb.String()
}

// twoCalls writes a small capture with two calls and returns its path.
func twoCalls(tb testing.TB) string {
	tb.Helper()
	tl := &testpcap.Timeline{Now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	tl.BasicCall(testpcap.NewDialog(1), 5)
	tl.BasicCall(testpcap.NewDialog(2), 5)
	path := filepath.Join(tb.TempDir(), "two.pcap")
	testpcap.WriteFile(tb, path, tl.Pkts)
	return path
}

func TestExitStatus(t *testing.T) {
	capture := twoCalls(t)
	junk := filepath.Join(t.TempDir(), "junk.pcap")
	if err := os.WriteFile(junk, []byte("this is not a capture at all"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		args    []string
		code    int
		message string // in stderr
	}{
		{"no command", nil, exitUsage, "missing command"},
		{"unknown flag", []string{"process", "--no-such-flag"}, exitUsage, "unknown flag: --no-such-flag"},
		{"no input", []string{"process", "-o", t.TempDir()}, exitUsage, "no input"},
		{"bad size", []string{"process", "-r", capture, "--per-call-max-size", "12Q"}, exitUsage, `invalid size "12Q"`},
		{"bad duration", []string{"process", "-r", capture, "--call-grace-period", "soon"}, exitUsage, "call-grace-period"},
		{"missing file", []string{"process", "-r", "/nonexistent.pcap", "-o", t.TempDir()}, exitError, "/nonexistent.pcap"},
		{"not a capture", []string{"process", "-r", junk, "-o", t.TempDir()}, exitError, junk},
		{"ok", []string{"process", "-r", capture, "-o", t.TempDir()}, exitOK, "calls: 2 (completed 2)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := run(t, nil, tt.args...)
			if code != tt.code {
				t.Errorf("exit status %d, want %d; stderr:\n%s", code, tt.code, stderr)
			}
			if !strings.Contains(stderr, tt.message) {
				t.Errorf("stderr does not mention %q:\n%s", tt.message, stderr)
			}
		})
	}
}

func TestSeveralProblemsReportedTogether(t *testing.T) {
	_, _, stderr := run(t, nil, "process", "-r", "x.pcap", "--max-open-files", "0", "--auth-wait", "0s", "--log-format", "xml")
	for _, want := range []string{"max-open-files", "auth-wait", "log-format"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr does not name %s:\n%s", want, stderr)
		}
	}
}

func TestEventsToStdoutFromStdin(t *testing.T) {
	data, err := os.ReadFile(twoCalls(t))
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	code, stdout, stderr := run(t, data, "process", "-r", "-", "-o", out, "--events", "-")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var kinds []string
	sc := bufio.NewScanner(strings.NewReader(stdout))
	for sc.Scan() {
		var e struct {
			Event string `json:"event"`
			Kind  string `json:"kind"`
			Path  string `json:"path"`
		}
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("bad event line %q: %v", sc.Text(), err)
		}
		kinds = append(kinds, e.Event+":"+e.Kind)
		if e.Path != "" && !strings.HasPrefix(e.Path, out) {
			t.Errorf("event path %q is not under %q", e.Path, out)
		}
	}
	want := "file_closed:sip file_closed:rtp call_completed: file_closed:sip file_closed:rtp call_completed:"
	if got := strings.Join(kinds, " "); got != want {
		t.Fatalf("events:\n got %s\nwant %s", got, want)
	}
	if !strings.Contains(stderr, "written: ") {
		t.Errorf("no summary on stderr:\n%s", stderr)
	}
}

// TestDeterministic runs the same input twice and compares trees and events.
func TestDeterministic(t *testing.T) {
	in := twoCalls(t)
	var trees [2]string
	for i := range trees {
		out := t.TempDir()
		events := filepath.Join(t.TempDir(), "events.jsonl")
		if code, _, stderr := run(t, nil, "process", "-r", in, "-o", out, "--events", events); code != exitOK {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		ev, err := os.ReadFile(events)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		b.WriteString(sameOut(string(ev), out))
		walkOutput(out, func(path string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				data, _ := os.ReadFile(path)
				rel, _ := filepath.Rel(out, path)
				b.WriteString(rel + "\n" + string(data))
			}
			return err
		})
		trees[i] = b.String()
	}
	if trees[0] != trees[1] {
		t.Fatal("two runs over the same input differ")
	}
}

// TestDamagedCaptures checks that what was read before the damage is
// written and reported, with a warning for a cut-off last record and an
// error for a corrupt one.
func TestDamagedCaptures(t *testing.T) {
	whole, err := os.ReadFile(twoCalls(t))
	if err != nil {
		t.Fatal(err)
	}
	corrupt := bytes.Clone(whole)
	// The 3rd record's length fields, after the 24-byte file header and two
	// records whose lengths are read from the file itself.
	off := 24
	for range 2 {
		off += 16 + int(uint32(corrupt[off+8])|uint32(corrupt[off+9])<<8|uint32(corrupt[off+10])<<16)
	}
	copy(corrupt[off+8:], []byte{0xff, 0xff, 0xff, 0x7f})
	tests := []struct {
		name    string
		data    []byte
		code    int
		message string
		packets string
	}{
		{"cut off", whole[:len(whole)-10], exitOK, "warning: ", "lc: 33 packets"},
		{"corrupt", corrupt, exitError, "frame 3 at offset", "lc: 2 packets"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "damaged.pcap")
			if err := os.WriteFile(path, tt.data, 0o644); err != nil {
				t.Fatal(err)
			}
			code, _, stderr := run(t, nil, "process", "-r", path, "-o", t.TempDir())
			if code != tt.code || !strings.Contains(stderr, tt.message) || !strings.Contains(stderr, tt.packets) {
				t.Fatalf("exit %d, want %d with %q and %q in:\n%s", code, tt.code, tt.message, tt.packets, stderr)
			}
			if n := strings.Count(stderr, "frame 3 at offset"); tt.code == exitError && n != 1 {
				t.Errorf("the error is reported %d times, want once:\n%s", n, stderr)
			}
		})
	}
}

// TestCPUProfile: --cpu-profile writes a profile (gzip-compressed
// protobuf, as go tool pprof reads it); a path that cannot be created is
// an error naming the flag.
func TestCPUProfile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cpu.pprof")
	if code, _, stderr := run(t, nil, "process", "-r", twoCalls(t), "-o", t.TempDir(), "--cpu-profile", path); code != exitOK {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	b, err := os.ReadFile(path)
	if err != nil || len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		t.Fatalf("profile %q: %d bytes, %v; want a gzip stream", path, len(b), err)
	}
	code, _, stderr := run(t, nil, "process", "-r", twoCalls(t), "-o", t.TempDir(), "--cpu-profile", filepath.Join(t.TempDir(), "no", "such", "dir"))
	if code == exitOK || !strings.Contains(stderr, "cpu-profile") {
		t.Errorf("unwritable profile: exit %d:\n%s", code, stderr)
	}
}
