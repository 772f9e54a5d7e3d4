package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestNatsWorkerKilled: lc hooks worker, killed with SIGKILL while a
// hook of one call runs, takes that hook with it (no process is left
// behind), and a second worker runs the call, whose message comes back
// after --nats-ack-wait. Every call's hook completes; the killed hook's
// call completes once.
func TestNatsWorkerKilled(t *testing.T) {
	url := startNatsServer(t)
	lc := buildLC(t)
	dir := t.TempDir()
	const calls, slow = 10, "call-3@lc.test"
	log, started := filepath.Join(dir, "hooks.txt"), filepath.Join(dir, "started")
	publishCalls(t, lc, url, calls)

	first := start(t, exec.Command(lc, "hooks", "worker", "--nats", url, "--nats-ack-wait", "2s",
		"--voip-command", "if [ %callid% = "+slow+" ]; then echo $$ > "+started+"; exec sleep 60; fi; echo %callid% >> "+log), "taking events")
	var hookPID int
	deadline := time.Now().Add(30 * time.Second)
	for {
		data, _ := os.ReadFile(started)
		if _, err := fmt.Sscan(string(data), &hookPID); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the slow hook did not start:\n%s", first.output())
		}
		time.Sleep(20 * time.Millisecond)
	}
	first.cmd.Process.Kill()
	<-first.done
	for alive(hookPID) {
		if time.Now().After(deadline) {
			t.Fatalf("the hook (pid %d) outlived its worker", hookPID)
		}
		time.Sleep(20 * time.Millisecond)
	}

	second := start(t, exec.Command(lc, "hooks", "worker", "--nats", url, "--nats-ack-wait", "2s", "--voip-command", "echo %callid% >> "+log), "taking events")
	var lines []string
	for seen := map[string]int{}; len(seen) < calls; {
		if time.Now().After(deadline) {
			t.Fatalf("hooks ran for %d of %d calls: %v\n%s", len(seen), calls, lines, second.output())
		}
		time.Sleep(20 * time.Millisecond)
		data, _ := os.ReadFile(log)
		lines = strings.Fields(string(data))
		clear(seen)
		for _, l := range lines {
			seen[l]++
		}
		if seen[slow] > 1 {
			t.Errorf("%s ran %d times", slow, seen[slow])
		}
	}
	second.stop(t)
	// The first worker's acks of the calls it finished just before it
	// was killed may not have left it: those calls run again.
	t.Logf("%d hook runs for %d calls", len(lines), calls)
}

// alive reports whether process pid runs: it exists and is not a zombie
// (whose parent died and which nothing reaped yet).
func alive(pid int) bool {
	f, err := procStat(pid)
	return err == nil && f[0] != "Z"
}
