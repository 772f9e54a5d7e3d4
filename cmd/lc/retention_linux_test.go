package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lc-voip/lc/internal/testenv"
	"github.com/lc-voip/lc/internal/testpcap"
	"golang.org/x/sys/unix"
)

// TestRetentionSmallDisk: lc writes a capture ten times the size of its
// output filesystem, a 4 MiB tmpfs, with a size limit of 1 MiB and a
// hook on every call. It never runs out of space, every call's hook runs
// exactly once, retention removes the calls as their hooks finish, oldest
// first, and the tree stays within the limit, beyond the calls open at
// once and the one whose hooks just finished.
func TestRetentionSmallDisk(t *testing.T) {
	const (
		calls = 600
		rtp   = 150
		limit = 1 << 20
	)
	out, side := t.TempDir(), t.TempDir()
	if err := unix.Mount("tmpfs", out, "tmpfs", 0, "size=4m,mode=0755"); err != nil {
		testenv.MissingPrerequisite(t, "mount a tmpfs on %s (needs root): %v", out, err)
	}
	t.Cleanup(func() { unix.Unmount(out, 0) })
	in := filepath.Join(side, "calls.pcap")
	testpcap.WriteFile(t, in, testpcap.Calls(calls, rtp, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), 500*time.Millisecond))
	fi, err := os.Stat(in)
	if err != nil {
		t.Fatal(err)
	}
	one := callBytes(rtp)
	log := filepath.Join(side, "hook.log")

	// The tree's size, sampled while lc runs.
	var peak atomic.Int64
	stop := make(chan struct{})
	var sampler sync.WaitGroup
	sampler.Go(func() {
		for {
			n := treeBytes(t, filepath.Join(out, "calls")) + treeBytes(t, filepath.Join(out, "other"))
			if n > peak.Load() {
				peak.Store(n)
			}
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	})
	start := time.Now()
	code, _, stderr := run(t, nil, "process", "-r", in, "-o", out, "--journal=false", "--log-format", "json",
		"--retention-max-size", formatSize(limit), "--voip-command", "echo %callid% >> "+log)
	took := time.Since(start)
	close(stop)
	sampler.Wait()

	if code != exitOK || strings.Contains(stderr, "no space left") {
		t.Fatalf("exit %d, want 0 and no write error:\n%s", code, lastLines(stderr, 20))
	}
	var sum struct {
		Calls  map[string]int64 `json:"calls"`
		Failed int64            `json:"failed"`
		Peak   int64            `json:"peak_open_calls"`
		Files  struct {
			WriteErrors int64 `json:"write_errors"`
		} `json:"files"`
		Hooks     *hooksJSON     `json:"hooks"`
		Retention *retentionJSON `json:"retention"`
	}
	for line := range strings.Lines(stderr) {
		if strings.Contains(line, `"msg":"summary"`) {
			if err := json.Unmarshal([]byte(line), &sum); err != nil {
				t.Fatal(err)
			}
		}
	}
	if sum.Hooks == nil || sum.Retention == nil {
		t.Fatalf("no summary with hooks and retention:\n%s", lastLines(stderr, 20))
	}
	if sum.Calls["completed"] != calls || sum.Failed != 0 || sum.Files.WriteErrors != 0 {
		t.Errorf("calls %v, %d packets failed, %d files cut short; want %d completed and no failure", sum.Calls, sum.Failed, sum.Files.WriteErrors, calls)
	}

	ran := map[string]int{}
	for _, id := range strings.Fields(readFile(t, log)) {
		ran[id]++
	}
	lost := 0
	for i := range calls {
		id := fmt.Sprintf("call-%d@lc.test", i)
		if ran[id] != 1 {
			lost++
			if lost <= 5 {
				t.Errorf("the hook of %s ran %d times, want once", id, ran[id])
			}
		}
	}
	if len(ran) != calls || sum.Hooks.Runs != calls || sum.Hooks.Unrun != 0 {
		t.Errorf("hooks ran for %d Call-IDs, %d runs, %d unrun; want %d, %d, 0", len(ran), sum.Hooks.Runs, sum.Hooks.Unrun, calls, calls)
	}

	r := sum.Retention
	removed := r.Removed["calls"] + r.Removed["other"]
	if r.Removed["calls"] < calls*3/4 || r.Errors != 0 {
		t.Errorf("retention removed %v units (%d errors); want most of the %d calls and no error", r.Removed, r.Errors, calls)
	}
	final := treeBytes(t, filepath.Join(out, "calls")) + treeBytes(t, filepath.Join(out, "other"))
	if final > limit || final != r.TrackedBytes {
		t.Errorf("at the end the tree holds %d bytes, retention tracks %d; want them equal and at most %d", final, r.TrackedBytes, limit)
	}
	if bound := limit + (sum.Peak+1)*one; peak.Load() > bound {
		t.Errorf("the tree reached %d bytes; want at most the limit, %d calls open at once and one more: %d", peak.Load(), sum.Peak, bound)
	}
	t.Logf("limit %d bytes on a 4 MiB tmpfs; capture %d bytes (%d calls of %d bytes); written %d bytes; removed %d units (%d bytes); "+
		"tree at most %d bytes while running (%d calls open at once), %d at the end; hooks ran %d, events lost %d; "+
		"reading waited %d times for room; %s",
		limit, fi.Size(), calls, one, r.RemovedBytes+r.TrackedBytes, removed, r.RemovedBytes,
		peak.Load(), sum.Peak, final, sum.Hooks.Runs, lost, r.Waits, took.Round(time.Millisecond))
}

// callBytes is what lc writes for a call of testpcap.Calls with rtp RTP
// packets each way: its packets with their record headers, and the header
// of each of its two files.
func callBytes(rtp int) int64 {
	n := int64(2 * 24)
	for _, p := range testpcap.Calls(1, rtp, time.Unix(0, 0), 0) {
		n += int64(16 + len(p.Data))
	}
	return n
}

// lastLines is the last n lines of s.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
