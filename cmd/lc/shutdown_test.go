package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"regexp"
	"testing"
	"time"
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
			stop, stopNow := context.WithCancel(t.Context())
			abort, abortNow := context.WithCancel(t.Context())
			defer abortNow()
			signal := func() {
				stopNow()
				if tt.second {
					abortNow()
				}
			}
			var out, errb bytes.Buffer
			start := time.Now()
			code := execute(stop,
				[]string{"process", "-r", "-", "-o", t.TempDir(), "--voip-command", "sleep 60",
					"--command-concurrency", "1", "--shutdown-timeout", tt.shutdownTimeout},
				streams{in: cancelAtEOF{bytes.NewReader(data), signal}, out: &out, err: &errb, lookupEnv: noEnv, abort: abort})
			took := time.Since(start)
			stderr := errb.String()
			if code != exitOK {
				t.Fatalf("exit %d:\n%s", code, stderr)
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
		})
	}
}
