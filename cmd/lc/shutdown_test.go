package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lc-voip/lc/internal/script"
	"github.com/lc-voip/lc/internal/testpcap"
)

// cancelAtEOF reads r and cancels stop when it is exhausted: the input
// ends with a stop signal.
type cancelAtEOF struct {
	r    io.Reader
	stop context.CancelFunc
}

func (c cancelAtEOF) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if err == io.EOF {
		c.stop()
	}
	return n, err
}

// runStopped runs lc process on the capture data from standard input
// with args, stopping it as a signal would when the input ends (a second
// signal with it when second), and returns the exit status, the standard
// error and how long the run took.
func runStopped(t *testing.T, data []byte, second bool, args ...string) (int, string, time.Duration) {
	t.Helper()
	stop, stopNow := context.WithCancel(t.Context())
	abort, abortNow := context.WithCancel(t.Context())
	defer abortNow()
	signal := func() {
		stopNow()
		if second {
			abortNow()
		}
	}
	var out, errb bytes.Buffer
	start := time.Now()
	code := execute(stop, append([]string{"process", "-r", "-", "-o", t.TempDir()}, args...),
		streams{in: cancelAtEOF{bytes.NewReader(data), signal}, out: &out, err: &errb, lookupEnv: noEnv, abort: abort})
	return code, errb.String(), time.Since(start)
}

// TestShutdownDeadline stops lc while slow hooks are queued: after one
// signal the hooks get --shutdown-timeout, after a second none; then the
// running hook is killed and the rest are reported as not run.
func TestShutdownDeadline(t *testing.T) {
	data, err := os.ReadFile(samplePath)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name            string
		shutdownTimeout string
		second          bool // a second signal arrives with the first
	}{
		{"one signal", "300ms", false},
		{"two signals", "1m", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, stderr, took := runStopped(t, data, tt.second, "--voip-command", "sleep 60",
				"--command-concurrency", "1", "--shutdown-timeout", tt.shutdownTimeout)
			if code != exitUnrun {
				t.Fatalf("exit %d, want %d (hooks not run):\n%s", code, exitUnrun, stderr)
			}
			// Three calls, one worker, each hook sleeping 60 s: a hook that
			// started is killed (a failure), the others never start. After
			// one signal the first has 300 ms to run; after two, none.
			m := regexp.MustCompile(`hooks: (\d) ran, (\d) failed \(\d timed out\), (\d) not run`).FindStringSubmatch(stderr)
			if m == nil || m[1] != m[2] || m[1]+m[3] != "12" && m[1]+m[3] != "03" || !tt.second && m[1] != "1" {
				t.Errorf("summary does not report the stopped hooks:\n%s", stderr)
			}
			if took > 30*time.Second { // waiting for a hook would take a minute
				t.Errorf("shutdown took %s", took)
			}
			// Stopped while running, or before it could start: either way
			// the error says why.
			if m != nil && m[1] != "0" && !regexp.MustCompile(`msg="hook failed".*error="[^"]*the shutdown deadline passed"`).MatchString(stderr) {
				t.Errorf("the stopped hook's error does not say why:\n%s", stderr)
			}
		})
	}
}

// TestShutdownBacklog stops lc while ending more open calls than the hook
// queue holds, with a hook that never finishes in time: ending the calls
// must not wait for room in the queue past the shutdown deadline (after
// one signal) or at all (after two). Every call is still ended and
// reported, every hook run is counted as run or not run, and the exit
// status says hooks were left unrun.
func TestShutdownBacklog(t *testing.T) {
	const calls = script.DefaultQueueSize + 2000
	tl := &testpcap.Timeline{Now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	for i := range calls {
		d := testpcap.NewDialog(i)
		tl.Add(testpcap.UDP(d.Caller, d.Callee, d.Request("INVITE", 1, "", "")), time.Millisecond)
	}
	data := testpcap.Bytes(tl.Pkts)
	for _, tt := range []struct {
		name   string
		second bool
	}{
		{"one signal", false},
		{"two signals", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, stderr, took := runStopped(t, data, tt.second, "--per-call-pcap=false", "--voip-command", "sleep 60",
				"--command-concurrency", "1", "--shutdown-timeout", "200ms", "--progress", "never")
			if code != exitUnrun {
				t.Fatalf("exit %d, want %d:\n%s", code, exitUnrun, stderr)
			}
			m := regexp.MustCompile(`hooks: (\d+) ran, (\d+) failed \(\d+ timed out\), (\d+) not run`).FindStringSubmatch(stderr)
			if m == nil {
				t.Fatalf("no hook line in the summary:\n%s", stderr)
			}
			ran, _ := strconv.Atoi(m[1])
			unrun, _ := strconv.Atoi(m[3])
			if ran > 1 || ran+unrun != calls || !strings.Contains(stderr, fmt.Sprintf("shutdown %d", calls)) {
				t.Errorf("%d calls: %d hooks ran and %d not run:\n%s", calls, ran, unrun, stderr)
			}
			if took > 30*time.Second { // waiting for the hooks would take hours
				t.Errorf("shutdown took %s", took)
			}
		})
	}
}
