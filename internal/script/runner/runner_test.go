package runner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Short limits for the tests that need a real timeout. testSlack is how
// much longer than its limits a Run may take: the processes these tests
// stop would run for 30 s, so a Run that waited for them is told apart
// from a prompt one however busy the machine is.
const (
	testTimeout   = 200 * time.Millisecond
	testKillGrace = 100 * time.Millisecond
	testSlack     = 10 * time.Second
)

// shArgv is the argv running script with /bin/sh, args as $1, $2, ...
func shArgv(script string, args ...string) []string {
	return append([]string{"/bin/sh", "-c", script, "sh"}, args...)
}

// firstLinePid parses the first line of out as a pid.
func firstLinePid(tb testing.TB, out []byte) int {
	tb.Helper()
	line, _, _ := bytes.Cut(out, []byte("\n"))
	pid, err := strconv.Atoi(strings.TrimSpace(string(line)))
	if err != nil || pid <= 0 {
		tb.Fatalf("no pid on the first line of %q", out)
	}
	return pid
}

// procState returns the state letter of pid from /proc, or 0 if pid does
// not exist.
func procState(pid int) byte {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	_, rest, ok := cutLast(string(stat), ")")
	if !ok || len(rest) < 2 {
		return 0
	}
	return rest[1]
}

// procParent returns the parent pid of pid from /proc, or 0.
func procParent(pid int) int {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	_, rest, ok := cutLast(string(stat), ")")
	if !ok {
		return 0
	}
	f := strings.Fields(rest)
	if len(f) < 2 {
		return 0
	}
	ppid, _ := strconv.Atoi(f[1])
	return ppid
}

func cutLast(s, sep string) (before, after string, found bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

// processGone reports whether pid has ended: it no longer exists, or it
// is a zombie waiting for whoever adopted it.
func processGone(pid int) bool {
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) || procState(pid) == 'Z'
}

// waitGone polls until pid has ended, failing the test after within.
func waitGone(tb testing.TB, pid int, within time.Duration) {
	tb.Helper()
	deadline := time.Now().Add(within)
	for !processGone(pid) {
		if time.Now().After(deadline) {
			tb.Fatalf("process %d still running %s after Run returned", pid, within)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// zombieChildren lists the children of the test process in state Z.
func zombieChildren(tb testing.TB) []int {
	tb.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		tb.Fatal(err)
	}
	var zombies []int
	self := os.Getpid()
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if procParent(pid) == self && procState(pid) == 'Z' {
			zombies = append(zombies, pid)
		}
	}
	return zombies
}

func TestRunnerExit(t *testing.T) {
	tests := []struct {
		name     string
		argv     []string
		code     int
		signal   string
		stdout   string
		stderr   string
		maxDelay time.Duration
	}{
		{name: "exit 0", argv: shArgv("exit 0"), code: 0},
		{name: "exit 3", argv: shArgv("exit 3"), code: 3},
		{name: "path lookup", argv: []string{"true"}, code: 0},
		{name: "signal", argv: shArgv("kill -USR1 $$"), code: -1, signal: "SIGUSR1"},
		{name: "output", argv: shArgv(`printf 'out %s' "$1"; printf 'err %s' "$2" >&2; exit 1`, "a b", "c;d"),
			code: 1, stdout: "out a b", stderr: "err c;d"},
		{name: "stdin is empty", argv: []string{"cat"}, code: 0},
	}
	r := &Runner{Timeout: 5 * time.Second}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := r.Run(t.Context(), tt.argv)
			if res.Err != nil {
				t.Fatalf("Err = %v", res.Err)
			}
			if res.Code != tt.code || res.Signal != tt.signal {
				t.Errorf("Code, Signal = %d, %q; want %d, %q", res.Code, res.Signal, tt.code, tt.signal)
			}
			if string(res.Stdout) != tt.stdout || string(res.Stderr) != tt.stderr {
				t.Errorf("Stdout, Stderr = %q, %q; want %q, %q", res.Stdout, res.Stderr, tt.stdout, tt.stderr)
			}
			if res.TimedOut || res.DryRun || res.StdoutTruncated || res.StderrTruncated {
				t.Errorf("unexpected flags: %+v", res)
			}
			if !slices.Equal(res.Argv, tt.argv) {
				t.Errorf("Argv = %q, want %q", res.Argv, tt.argv)
			}
			if res.StartDelay <= 0 || res.Duration <= 0 {
				t.Errorf("StartDelay, Duration = %s, %s; want both > 0", res.StartDelay, res.Duration)
			}
			if res.Duration > time.Second {
				t.Errorf("Duration = %s; the command returns at once", res.Duration)
			}
		})
	}
}

func TestRunnerStartError(t *testing.T) {
	dir := t.TempDir()
	notExec := filepath.Join(dir, "not-executable")
	if err := os.WriteFile(notExec, []byte("#!/bin/sh\nexit 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	tests := []struct {
		name string
		ctx  context.Context
		argv []string
		is   error // nil: any error
	}{
		{name: "empty argv", ctx: t.Context(), argv: nil},
		{name: "not in PATH", ctx: t.Context(), argv: []string{"lc-no-such-program"}, is: exec.ErrNotFound},
		{name: "no such file", ctx: t.Context(), argv: []string{filepath.Join(dir, "missing")}, is: os.ErrNotExist},
		{name: "not executable", ctx: t.Context(), argv: []string{notExec}, is: os.ErrPermission},
		{name: "context done", ctx: cancelled, argv: []string{"true"}, is: context.Canceled},
	}
	r := &Runner{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := r.Run(tt.ctx, tt.argv)
			if res.Err == nil {
				t.Fatalf("Err = nil; want an error")
			}
			if tt.is != nil && !errors.Is(res.Err, tt.is) {
				t.Errorf("Err = %v; want one wrapping %v", res.Err, tt.is)
			}
			if res.Code != -1 || res.Signal != "" || res.TimedOut {
				t.Errorf("Code, Signal, TimedOut = %d, %q, %v; want -1, \"\", false", res.Code, res.Signal, res.TimedOut)
			}
		})
	}
}

func TestRunnerOutputLimit(t *testing.T) {
	const limit = 1 << 10
	tests := []struct {
		name      string
		size      int // bytes written to stdout and to stderr
		truncated bool
	}{
		{name: "under", size: limit - 1},
		{name: "exact", size: limit},
		{name: "one over", size: limit + 1, truncated: true},
		{name: "1 MiB", size: 1 << 20, truncated: true},
	}
	r := &Runner{OutputLimit: limit, Timeout: 5 * time.Second}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := strconv.Itoa(tt.size)
			res := r.Run(t.Context(), shArgv(`head -c "$1" /dev/zero; head -c "$1" /dev/zero >&2`, n))
			if res.Err != nil || res.Code != 0 || res.TimedOut {
				t.Fatalf("Err, Code, TimedOut = %v, %d, %v", res.Err, res.Code, res.TimedOut)
			}
			want := min(tt.size, limit)
			if len(res.Stdout) != want || len(res.Stderr) != want {
				t.Errorf("kept %d, %d bytes; want %d each", len(res.Stdout), len(res.Stderr), want)
			}
			if res.StdoutTruncated != tt.truncated || res.StderrTruncated != tt.truncated {
				t.Errorf("truncated = %v, %v; want %v", res.StdoutTruncated, res.StderrTruncated, tt.truncated)
			}
		})
	}
}

func TestRunnerTimeout(t *testing.T) {
	tests := []struct {
		name   string
		script string
		signal string
		min    time.Duration // least time Run must take
	}{
		{name: "sleep", script: "sleep 30", signal: "SIGTERM", min: testTimeout},
		{name: "ignores TERM", script: `trap "" TERM; sleep 30`, signal: "SIGKILL", min: testTimeout + testKillGrace},
	}
	r := &Runner{Timeout: testTimeout, KillGrace: testKillGrace}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			res := r.Run(t.Context(), shArgv(tt.script))
			elapsed := time.Since(start)
			if !res.TimedOut || res.Err != nil {
				t.Errorf("TimedOut, Err = %v, %v; want true, nil", res.TimedOut, res.Err)
			}
			if res.Code != -1 || res.Signal != tt.signal {
				t.Errorf("Code, Signal = %d, %q; want -1, %q", res.Code, res.Signal, tt.signal)
			}
			if most := testTimeout + testKillGrace + testSlack; elapsed < tt.min || elapsed > most {
				t.Errorf("Run took %s; want between %s and %s", elapsed, tt.min, most)
			}
		})
	}
}

func TestRunnerTimeoutNoGraceWhenGone(t *testing.T) {
	// The whole group dies on SIGTERM: Run must not sit out KillGrace, even
	// while the orphaned grandchild waits as a zombie for its new parent.
	r := &Runner{Timeout: testTimeout, KillGrace: 30 * time.Second}
	start := time.Now()
	res := r.Run(t.Context(), shArgv(`sleep 30 & echo $!; wait`))
	if elapsed := time.Since(start); elapsed > testTimeout+testSlack {
		t.Errorf("Run took %s; want about Timeout (%s)", elapsed, testTimeout)
	}
	if !res.TimedOut || res.Signal != "SIGTERM" {
		t.Errorf("TimedOut, Signal = %v, %q; want true, SIGTERM", res.TimedOut, res.Signal)
	}
	waitGone(t, firstLinePid(t, res.Stdout), time.Second)
}

func TestRunnerTimeoutKillsGroup(t *testing.T) {
	tests := []struct {
		name   string
		script string
	}{
		{name: "grandchild", script: `sleep 30 & echo $!; wait`},
		{name: "grandchild ignores TERM", script: `trap "" TERM; sleep 30 & echo $!; wait`},
		{name: "grandchild outlives child", script: `(trap "" TERM; sleep 30) & echo $!; sleep 30`},
	}
	r := &Runner{Timeout: testTimeout, KillGrace: testKillGrace}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			res := r.Run(t.Context(), shArgv(tt.script))
			if elapsed := time.Since(start); elapsed > testTimeout+testKillGrace+testSlack {
				t.Errorf("Run took %s", elapsed)
			}
			if !res.TimedOut {
				t.Errorf("TimedOut = false")
			}
			waitGone(t, firstLinePid(t, res.Stdout), time.Second)
		})
	}
}

func TestRunnerContextCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	stop := time.AfterFunc(50*time.Millisecond, cancel)
	t.Cleanup(func() { stop.Stop() })
	r := &Runner{Timeout: 30 * time.Second, KillGrace: testKillGrace}
	start := time.Now()
	res := r.Run(ctx, shArgv(`sleep 30 & echo $!; wait`))
	if elapsed := time.Since(start); elapsed > testKillGrace+testSlack {
		t.Errorf("Run took %s after a cancel at 50ms", elapsed)
	}
	if !res.TimedOut || !errors.Is(res.Err, context.Canceled) {
		t.Errorf("TimedOut, Err = %v, %v; want true, context.Canceled", res.TimedOut, res.Err)
	}
	if res.Signal != "SIGTERM" {
		t.Errorf("Signal = %q, want SIGTERM", res.Signal)
	}
	waitGone(t, firstLinePid(t, res.Stdout), time.Second)
}

func TestRunnerBackgroundHoldsPipes(t *testing.T) {
	r := &Runner{Timeout: time.Minute, KillGrace: testKillGrace}
	start := time.Now()
	res := r.Run(t.Context(), shArgv(`echo $$ >&2; (sleep 30; echo late) & echo early`))
	elapsed := time.Since(start)
	pgid := firstLinePid(t, res.Stderr)
	t.Cleanup(func() { _ = signalGroup(pgid, syscall.SIGKILL) })
	if elapsed > testSlack {
		t.Errorf("Run took %s; want it to end with the shell, not its background child", elapsed)
	}
	if res.TimedOut || res.Err != nil || res.Code != 0 {
		t.Errorf("TimedOut, Err, Code = %v, %v, %d; want false, nil, 0", res.TimedOut, res.Err, res.Code)
	}
	if string(res.Stdout) != "early\n" {
		t.Errorf("Stdout = %q, want %q", res.Stdout, "early\n")
	}
	if !groupAlive(pgid) {
		t.Errorf("the background process was killed")
	}
}

func TestRunnerNoZombies(t *testing.T) {
	quick := &Runner{Timeout: 5 * time.Second}
	slow := &Runner{Timeout: 50 * time.Millisecond, KillGrace: 50 * time.Millisecond}
	runs := []struct {
		r    *Runner
		argv []string
	}{
		{quick, []string{"true"}},
		{quick, shArgv("exit 3")},
		{quick, shArgv("kill -KILL $$")},
		{quick, shArgv("true & true & exit 0")},
		{quick, []string{"lc-no-such-program"}},
		{slow, shArgv("sleep 30")},
		{slow, shArgv(`trap "" TERM; sleep 30 & wait`)},
	}
	for _, run := range runs {
		run.r.Run(t.Context(), run.argv)
	}
	if z := zombieChildren(t); len(z) > 0 {
		t.Errorf("zombie children of the test process: %v", z)
	}
}

func TestRunnerDescriptors(t *testing.T) {
	// Descriptors a careless runner would pass on.
	for range 3 {
		f, err := os.Open(os.DevNull)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pr.Close(); pw.Close() })
	// One as lc may inherit it from its parent: without close-on-exec.
	leaky, err := syscall.Open(os.DevNull, syscall.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(leaky) })

	r := &Runner{Timeout: 5 * time.Second}
	res := r.Run(t.Context(), []string{"ls", "/proc/self/fd"})
	if res.Err != nil || res.Code != 0 {
		t.Fatalf("Err, Code = %v, %d; stderr %q", res.Err, res.Code, res.Stderr)
	}
	var extra []string
	for _, fd := range strings.Fields(string(res.Stdout)) {
		if fd != "0" && fd != "1" && fd != "2" {
			extra = append(extra, fd)
		}
	}
	// ls holds one descriptor of its own: the directory it lists.
	if len(extra) > 1 {
		t.Errorf("child has descriptors %q; want 0, 1, 2 and the listing's own", strings.Fields(string(res.Stdout)))
	}
}

func TestRunnerConcurrent(t *testing.T) {
	r := &Runner{Timeout: 10 * time.Second}
	results := make([]Result, 20)
	var wg sync.WaitGroup
	for i := range results {
		wg.Go(func() { results[i] = r.Run(t.Context(), []string{"true"}) })
	}
	wg.Wait()
	for i, res := range results {
		if res.Err != nil || res.Code != 0 || res.TimedOut {
			t.Errorf("run %d: Err, Code, TimedOut = %v, %d, %v", i, res.Err, res.Code, res.TimedOut)
		}
	}
}

func TestRunnerDryRun(t *testing.T) {
	path := filepath.Join(t.TempDir(), "created")
	argv := []string{"touch", path}
	r := &Runner{DryRun: true}
	res := r.Run(t.Context(), argv)
	if !res.DryRun || res.Code != 0 || res.Err != nil {
		t.Errorf("DryRun, Code, Err = %v, %d, %v; want true, 0, nil", res.DryRun, res.Code, res.Err)
	}
	if !slices.Equal(res.Argv, argv) {
		t.Errorf("Argv = %q, want %q", res.Argv, argv)
	}
	argv[0] = "changed"
	if res.Argv[0] != "touch" {
		t.Errorf("Result.Argv shares the caller's slice")
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("dry run executed the command: stat %s: %v", path, err)
	}
}

func TestRunnerEnvDir(t *testing.T) {
	t.Setenv("LC_RUNNER_TEST", "inherited")
	dir := t.TempDir()
	script := `printf '%s|%s|' "${LC_RUNNER_TEST-unset}" "${OTHER-unset}"; pwd`
	tests := []struct {
		name string
		r    Runner
		want string
	}{
		{name: "nil env inherits", r: Runner{Dir: dir}, want: "inherited|unset|" + dir + "\n"},
		{name: "own env", r: Runner{Env: []string{"OTHER=x"}, Dir: dir}, want: "unset|x|" + dir + "\n"},
		{name: "empty env", r: Runner{Env: []string{}, Dir: dir}, want: "unset|unset|" + dir + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := tt.r.Run(t.Context(), shArgv(script))
			if res.Err != nil || res.Code != 0 {
				t.Fatalf("Err, Code = %v, %d; stderr %q", res.Err, res.Code, res.Stderr)
			}
			if string(res.Stdout) != tt.want {
				t.Errorf("Stdout = %q, want %q", res.Stdout, tt.want)
			}
		})
	}
}

func TestRunnerOwnProcessGroup(t *testing.T) {
	r := &Runner{Timeout: 5 * time.Second}
	res := r.Run(t.Context(), shArgv(`echo $$; ps -o pgid= -p $$`))
	if res.Err != nil || res.Code != 0 {
		t.Fatalf("Err, Code = %v, %d; stderr %q", res.Err, res.Code, res.Stderr)
	}
	f := strings.Fields(string(res.Stdout))
	if len(f) != 2 || f[0] != f[1] {
		t.Errorf("pid and pgid = %q; want equal", f)
	}
	if f[len(f)-1] == strconv.Itoa(syscall.Getpgrp()) {
		t.Errorf("child shares lc's process group")
	}
}

func TestRunnerGroupSignals(t *testing.T) {
	cmd := exec.Command("sleep", "30")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pgid := cmd.Process.Pid
	if !groupAlive(pgid) {
		t.Errorf("groupAlive(%d) = false with sleep running", pgid)
	}
	if err := signalGroup(pgid, syscall.SIGKILL); err != nil {
		t.Errorf("signalGroup(%d, SIGKILL) = %v", pgid, err)
	}
	if err := cmd.Wait(); err == nil {
		t.Errorf("sleep was not killed")
	}
	if groupAlive(pgid) {
		t.Errorf("groupAlive(%d) = true after its only process was reaped", pgid)
	}
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
		if err := signalGroup(pgid, sig); err != nil {
			t.Errorf("signalGroup(%d, %v) on a gone group = %v; want nil", pgid, sig, err)
		}
	}
}

func TestRunnerDefaults(t *testing.T) {
	var r Runner
	if r.timeout() != DefaultTimeout || r.killGrace() != DefaultKillGrace || r.outputLimit() != DefaultOutputLimit {
		t.Errorf("zero Runner: %s, %s, %d; want the defaults", r.timeout(), r.killGrace(), r.outputLimit())
	}
	res := r.Run(t.Context(), []string{"true"})
	if res.Err != nil || res.Code != 0 {
		t.Errorf("zero Runner: Err, Code = %v, %d", res.Err, res.Code)
	}
}

func TestRunnerSignalName(t *testing.T) {
	tests := []struct {
		sig  syscall.Signal
		want string
	}{
		{syscall.SIGTERM, "SIGTERM"},
		{syscall.SIGKILL, "SIGKILL"},
		{syscall.SIGSEGV, "SIGSEGV"},
		{syscall.Signal(60), "signal 60"},
	}
	for _, tt := range tests {
		if got := signalName(tt.sig); got != tt.want {
			t.Errorf("signalName(%d) = %q, want %q", int(tt.sig), got, tt.want)
		}
	}
}

func BenchmarkRunTrue(b *testing.B) {
	r := &Runner{Timeout: 10 * time.Second}
	var delays []time.Duration
	b.ReportAllocs()
	for b.Loop() {
		res := r.Run(b.Context(), []string{"/bin/true"})
		if res.Err != nil || res.Code != 0 {
			b.Fatalf("Err, Code = %v, %d", res.Err, res.Code)
		}
		delays = append(delays, res.StartDelay)
	}
	slices.Sort(delays)
	pick := func(p float64) float64 {
		return float64(delays[int(p*float64(len(delays)-1))]) / float64(time.Microsecond)
	}
	b.ReportMetric(pick(0.50), "p50-start-µs")
	b.ReportMetric(pick(0.99), "p99-start-µs")
}
