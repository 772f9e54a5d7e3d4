package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lc-voip/lc/internal/testenv"
	"github.com/lc-voip/lc/internal/testpcap"
	"golang.org/x/sys/unix"
)

// TestDiskFullJournal: with the output directory on a small tmpfs, lc
// stops with one clear error (exit 1) when the disk is full, the journal
// stays readable, and a restart with room on the same output directory
// leaves no event without its hook run and nothing pending.
func TestDiskFullJournal(t *testing.T) {
	out, side := t.TempDir(), t.TempDir()
	if err := unix.Mount("tmpfs", out, "tmpfs", 0, "size=256k,mode=0755"); err != nil {
		testenv.MissingPrerequisite(t, "mount a tmpfs on %s (needs root): %v", out, err)
	}
	t.Cleanup(func() { unix.Unmount(out, 0) })
	in := filepath.Join(side, "calls.pcap")
	testpcap.WriteFile(t, in, testpcap.Calls(40, 50, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), 200*time.Millisecond))
	rec := filepath.Join(side, "rec")
	hook := "sh -c 'echo %event_id% >> " + rec + "'"
	events := filepath.Join(side, "events.jsonl")

	code, _, stderr := run(t, nil, "process", "-r", in, "-o", out, "--events", events, "--voip-command", hook, "--progress", "never")
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	last := lines[len(lines)-1]
	if code != exitError || !strings.HasPrefix(last, "lc: ") || !strings.Contains(last, "no space left on device") {
		t.Fatalf("exit %d, last line %q; want 1 and one error naming the full disk:\n%s", code, last, stderr)
	}
	if code, stdout, stderr := run(t, nil, "hooks", "pending", out); code != exitOK {
		t.Fatalf("hooks pending on the full disk: exit %d\n%s%s", code, stdout, stderr)
	}

	if err := unix.Mount("tmpfs", out, "tmpfs", unix.MS_REMOUNT, "size=64m,mode=0755"); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(side, "empty.pcap")
	testpcap.WriteFile(t, empty, nil)
	if code, _, stderr := run(t, nil, "process", "-r", empty, "-o", out, "--voip-command", hook, "--progress", "never"); code != exitOK {
		t.Fatalf("restart with room: exit %d\n%s", code, stderr)
	}
	ran := map[string]int{}
	data, _ := os.ReadFile(rec)
	for _, id := range strings.Fields(string(data)) {
		ran[id]++
	}
	calls, dups := 0, 0
	for _, line := range strings.Split(strings.TrimSpace(readFile(t, events)), "\n") {
		var ev struct {
			Event string `json:"event"`
			ID    string `json:"event_id"`
		}
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("events line %q: %v", line, err)
		}
		if ev.Event != "call_completed" {
			continue
		}
		calls++
		switch ran[ev.ID] {
		case 0:
			t.Errorf("call event %s: its hook never ran", ev.ID)
		case 1:
		default:
			dups++
		}
	}
	_, stdout, _ := run(t, nil, "hooks", "pending", out)
	if !strings.HasPrefix(stdout, "0 events wait") || !strings.Contains(stdout, "\n0 calls and files were open") {
		t.Errorf("after the restart, pending:\n%s", stdout)
	}
	t.Logf("%d calls before the disk filled; %d hooks ran twice (their journal end was not written)", calls, dups)
}
