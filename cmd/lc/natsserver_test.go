package main

import (
	"bytes"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lc-voip/lc/internal/testenv"
	"github.com/lc-voip/lc/internal/testpcap"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// startNatsServer runs the nats-server program with JetStream on a free
// port of 127.0.0.1 and a store in a temporary directory, until the test
// ends, and returns its URL.
func startNatsServer(t *testing.T) string {
	t.Helper()
	bin := testenv.Command(t, "nats-server")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	_, port, _ := net.SplitHostPort(addr)
	var out bytes.Buffer
	cmd := exec.Command(bin, "-js", "-a", "127.0.0.1", "-p", port, "-sd", t.TempDir())
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return "nats://" + addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("nats-server does not listen on %s: %v\n%s", addr, err, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestNatsServerBinary: lc process and lc hooks worker, as programs of
// their own, with the nats-server program between them (Debian's is 2.9,
// whose consumers take one filter subject): every call runs its voip hook
// once, its files travel in an object store, the one call whose hook
// fails on each of its two deliveries ends on lc.pbx1.dead (and the
// worker skips it there), and the worker ends on SIGTERM with exit status
// 0.
func TestNatsServerBinary(t *testing.T) {
	url := startNatsServer(t)
	lc := buildLC(t)
	dir := t.TempDir()
	const calls, failing = 50, "call-7@lc.test"
	log := filepath.Join(dir, "hooks.txt")
	publishCalls(t, lc, url, calls, "--nats-object-store", "pcaps")

	var stderr bytes.Buffer
	worker := exec.Command(lc, "hooks", "worker", "--nats", url, "--nats-object-store", "pcaps", "--nats-max-deliver", "2",
		"--pcap-command", "test -s %pcap%", // fails, and runs the call again, when the file did not come
		"--voip-command", "test %callid% != "+failing+" && echo %callid% >> "+log)
	worker.Stderr = &stderr
	worker.Env = append(worker.Environ(), "TMPDIR="+t.TempDir())
	if err := worker.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			worker.Process.Kill()
			worker.Wait()
		}
	})
	lines := hookLines(t, log, calls-1)
	dead := deadLetter(t, url, "lc.pbx1.dead")
	worker.Process.Signal(syscall.SIGTERM)
	err := worker.Wait()
	stopped = true
	if err != nil {
		t.Errorf("lc hooks worker after SIGTERM: %v\n%s", err, stderr.String())
	}
	figures := fmt.Sprintf("received=%d acked=%d retried=1 dead=1 files_fetched=%d", calls+1, calls-1, 2*(calls+1))
	if !strings.Contains(stderr.String(), figures) {
		t.Errorf("worker figures, want %s:\n%s", figures, stderr.String())
	}
	if got := dead.Header.Get("Lc-Deliveries"); got != "2" || dead.Header.Get("Lc-Subject") != "lc.pbx1.call" || !strings.Contains(string(dead.Data), failing) {
		t.Errorf("dead letter: deliveries %q, subject %q, data %s", got, dead.Header.Get("Lc-Subject"), dead.Data)
	}
	seen := map[string]bool{}
	for _, l := range lines {
		if seen[l] || l == failing {
			t.Errorf("call %s ran twice, or despite its failing hook", l)
		}
		seen[l] = true
	}
}

// deadLetter waits until the stream LC has a message on subject, and
// returns it.
func deadLetter(t *testing.T, url, subject string) *jetstream.RawStreamMsg {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		s, err := js.Stream(t.Context(), "LC")
		if err == nil {
			msg, err := s.GetLastMsgForSubject(t.Context(), subject)
			if err == nil {
				return msg
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no message on %s after 60s: %v", subject, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// publishCalls has the lc program at lc process a capture of n calls and
// publish their events to the server at url as the node pbx1; extra are
// more flags of lc process.
func publishCalls(t *testing.T, lc, url string, n int, extra ...string) {
	t.Helper()
	dir := t.TempDir()
	capture := filepath.Join(dir, "calls.pcap")
	testpcap.WriteFile(t, capture, testpcap.Calls(n, 2, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), 20*time.Millisecond))
	args := append([]string{"process", "-r", capture, "-o", filepath.Join(dir, "out"), "--auto-rotate-pcap=false",
		"--events-to", url, "--nats-node", "pbx1"}, extra...)
	if out, err := exec.Command(lc, args...).CombinedOutput(); err != nil {
		t.Fatalf("lc process: %v\n%s", err, out)
	}
}
