package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lc-voip/lc/internal/natsbus"
	"github.com/lc-voip/lc/internal/natsbus/natstest"
	"github.com/lc-voip/lc/internal/testenv"
	"github.com/lc-voip/lc/internal/testpcap"
	"github.com/prometheus/client_golang/prometheus"
)

// bgWorker is lc hooks worker running in the test's process.
type bgWorker struct {
	stop, abort context.CancelFunc
	code        chan int
	stderr      *testenv.Buffer
}

// startLCWorker runs lc hooks worker with args until stopped.
func startLCWorker(tb testing.TB, args ...string) *bgWorker {
	tb.Helper()
	ctx, stop := context.WithCancel(context.Background())
	abortCtx, abort := context.WithCancel(context.Background())
	w := &bgWorker{stop: stop, abort: abort, code: make(chan int, 1), stderr: new(testenv.Buffer)}
	s := streams{in: strings.NewReader(""), out: new(testenv.Buffer), err: w.stderr, lookupEnv: func(string) (string, bool) { return "", false }, abort: abortCtx}
	go func() { w.code <- execute(ctx, append([]string{"hooks", "worker"}, args...), s) }()
	tb.Cleanup(func() { w.wait(tb) })
	return w
}

// wait stops the worker, if running, and returns its exit status.
func (w *bgWorker) wait(tb testing.TB) int {
	tb.Helper()
	w.stop()
	select {
	case c := <-w.code:
		w.code <- c
		return c
	case <-time.After(30 * time.Second):
		tb.Fatalf("worker did not stop; stderr:\n%s", w.stderr.String())
		return -1
	}
}

// hookLines waits until path holds n lines and returns them.
func hookLines(tb testing.TB, path string, n int) []string {
	tb.Helper()
	deadline := time.Now().Add(60 * time.Second)
	settled := false
	for {
		data, _ := os.ReadFile(path)
		lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
		if len(data) == 0 {
			lines = nil
		}
		if len(lines) >= n || time.Now().After(deadline) {
			if len(lines) == n && !settled {
				settled = true // look again: no more may come
				time.Sleep(200 * time.Millisecond)
				continue
			}
			if len(lines) != n {
				tb.Fatalf("%s has %d lines, want %d", path, len(lines), n)
			}
			return lines
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// checkCallOrder checks that every call of calls ran its two pcap hooks
// (SIP, RTP), then its voip hook, once each.
func checkCallOrder(tb testing.TB, lines []string, calls int) {
	tb.Helper()
	seen := map[string][]string{}
	for _, l := range lines {
		what, callID, ok := strings.Cut(l, " ")
		if !ok {
			tb.Fatalf("bad line %q", l)
		}
		seen[callID] = append(seen[callID], what)
	}
	if len(seen) != calls {
		tb.Errorf("%d calls ran hooks, want %d", len(seen), calls)
	}
	for id, got := range seen {
		if g := strings.Join(got, ","); g != "pcap,pcap,call" {
			tb.Errorf("%s: hooks ran as %s, want pcap,pcap,call", id, g)
		}
	}
}

// workerArgs are the flags of a worker that appends a line per hook run
// to out.
func workerArgs(url, out string, extra ...string) []string {
	return append([]string{"--nats", url, "--nats-ack-wait", "5s", "--command-concurrency", "4",
		"--pcap-command", "echo pcap %callid% >> " + out,
		"--voip-command", "echo call %callid% >> " + out}, extra...)
}

// publishedFigures returns the "events published" log line of stderr.
func publishedFigures(tb testing.TB, stderr string) string {
	tb.Helper()
	sc := bufio.NewScanner(strings.NewReader(stderr))
	for sc.Scan() {
		if strings.Contains(sc.Text(), "events published") {
			return sc.Text()
		}
	}
	tb.Fatalf("no events published line in:\n%s", stderr)
	return ""
}

// natsWorkersRun processes a capture of n calls with --events-to, twice
// into the same empty output directory (so the second run publishes the
// same events again), and has three workers run every call's hooks.
func natsWorkersRun(t *testing.T, n int) {
	srv := natstest.Start(t)
	capture := filepath.Join(t.TempDir(), "calls.pcap")
	testpcap.WriteFile(t, capture, testpcap.Calls(n, 2, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), 20*time.Millisecond))
	outDir := t.TempDir()
	events := 3 * n
	for i, dups := range []int{0, events} {
		if err := os.RemoveAll(outDir); err != nil {
			t.Fatal(err)
		}
		code, _, stderr := run(t, nil, "process", "-r", capture, "-o", outDir, "--events-to", srv.URL(), "--nats-node", "pbx1", "--auto-rotate-pcap=false")
		if code != exitOK {
			t.Fatalf("run %d: exit status %d:\n%s", i, code, stderr)
		}
		line := publishedFigures(t, stderr)
		if want := fmt.Sprintf("published=%d duplicates=%d not_published=0", events, dups); !strings.Contains(line, want) {
			t.Errorf("run %d: %s, want %s", i, line, want)
		}
	}
	out := filepath.Join(t.TempDir(), "hooks.txt")
	var workers []*bgWorker
	for range 3 {
		workers = append(workers, startLCWorker(t, workerArgs(srv.URL(), out)...))
	}
	lines := hookLines(t, out, events)
	for _, w := range workers {
		if code := w.wait(t); code != exitOK {
			t.Errorf("worker exit status %d:\n%s", code, w.stderr.String())
		}
	}
	checkCallOrder(t, lines, n)
	for i, w := range workers {
		if !strings.Contains(w.stderr.String(), "worker stopped") || strings.Contains(w.stderr.String(), "received=0 ") {
			t.Errorf("worker %d took no message:\n%s", i, w.stderr.String())
		}
	}
}

// TestNatsWorkersCalls: every call of an lc process run published to
// NATS runs its hooks exactly once, in order, on one of three workers;
// the events published again by a second run are stored once.
func TestNatsWorkersCalls(t *testing.T) { natsWorkersRun(t, 150) }

// TestNatsWorkersThousandCalls is TestNatsWorkersCalls at 1,000 calls.
func TestNatsWorkersThousandCalls(t *testing.T) {
	testenv.Long(t)
	natsWorkersRun(t, 1000)
}

// TestWorkerStopGivesBack: a worker stopped in the middle of a hook gives
// its message back, and another worker runs the call's hooks.
func TestWorkerStopGivesBack(t *testing.T) {
	srv := natstest.Start(t)
	capture := filepath.Join(t.TempDir(), "calls.pcap")
	testpcap.WriteFile(t, capture, testpcap.Calls(1, 2, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), time.Second))
	if code, _, stderr := run(t, nil, "process", "-r", capture, "-o", t.TempDir(), "--events-to", srv.URL(), "--auto-rotate-pcap=false"); code != exitOK {
		t.Fatalf("exit status %d:\n%s", code, stderr)
	}
	started := filepath.Join(t.TempDir(), "started")
	slow := startLCWorker(t, "--nats", srv.URL(), "--voip-command", "touch "+started+"; sleep 30", "--shutdown-timeout", "0s")
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := os.Stat(started); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the hook did not start:\n%s", slow.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	slow.abort() // as a second SIGINT: the hook is killed, its message given back
	if code := slow.wait(t); code != exitOK {
		t.Errorf("slow worker exit status %d:\n%s", code, slow.stderr.String())
	}
	if !strings.Contains(slow.stderr.String(), "retried=1") {
		t.Errorf("the stopped worker did not give its message back:\n%s", slow.stderr.String())
	}
	out := filepath.Join(t.TempDir(), "hooks.txt")
	w := startLCWorker(t, workerArgs(srv.URL(), out, "--metrics-addr", "127.0.0.1:0")...)
	checkCallOrder(t, hookLines(t, out, 3), 1)
	scrape := scrapeWorker(t, w)
	for _, want := range []string{"lc_worker_received_messages_total 1", "lc_worker_acked_messages_total 1", `lc_hook_runs_total{hook="voip-command"} 1`} {
		if !strings.Contains(scrape, want) {
			t.Errorf("metrics lack %q:\n%s", want, scrape)
		}
	}
	w.wait(t)
}

// TestWorkerStatusLine: a worker with --status-interval logs status lines
// with its message figures and its hook runs, and the hook runs since the
// last line.
func TestWorkerStatusLine(t *testing.T) {
	srv := natstest.Start(t)
	capture := filepath.Join(t.TempDir(), "calls.pcap")
	const calls = 3
	testpcap.WriteFile(t, capture, testpcap.Calls(calls, 2, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), 20*time.Millisecond))
	if code, _, stderr := run(t, nil, "process", "-r", capture, "-o", t.TempDir(), "--events-to", srv.URL(), "--auto-rotate-pcap=false"); code != exitOK {
		t.Fatalf("exit status %d:\n%s", code, stderr)
	}
	out := filepath.Join(t.TempDir(), "hooks.txt")
	w := startLCWorker(t, workerArgs(srv.URL(), out, "--status-interval", "100ms")...)
	checkCallOrder(t, hookLines(t, out, 3*calls), calls)
	want := regexp.MustCompile(`msg=status received=3 acked=3 retried=0 dead=0 held=0 files_fetched=0 hook_backlog=0 hook_runs=9 hooks_failed=0\n`)
	deadline := time.Now().Add(10 * time.Second)
	for !want.MatchString(w.stderr.String()) {
		if time.Now().After(deadline) {
			t.Fatalf("no status line matching %s:\n%s", want, w.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if code := w.wait(t); code != exitOK {
		t.Errorf("exit status %d:\n%s", code, w.stderr.String())
	}
	if !strings.Contains(w.stderr.String(), `msg="hook runs since the last status line"`) {
		t.Errorf("no hook runs line:\n%s", w.stderr.String())
	}
}

func TestWorkerStatusIntervalFlag(t *testing.T) {
	code, _, stderr := run(t, nil, "hooks", "worker", "--nats", "nats://127.0.0.1:1", "--voip-command", "true", "--status-interval", "-1s")
	if code != exitUsage || !strings.Contains(stderr, "status_interval") {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
}

// scrapeWorker returns the metrics of w, started with --metrics-addr.
func scrapeWorker(tb testing.TB, w *bgWorker) string {
	tb.Helper()
	addr := regexp.MustCompile(`"serving metrics" addr=(\S+)`).FindStringSubmatch(w.stderr.String())
	if addr == nil {
		tb.Fatalf("no metrics address logged:\n%s", w.stderr.String())
	}
	resp, err := http.Get("http://" + addr[1] + "/metrics")
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return string(body)
}

func TestNatsFlagErrors(t *testing.T) {
	capture := twoCalls(t)
	tests := []struct {
		name    string
		args    []string
		message string
	}{
		{"events-to not nats", []string{"process", "-r", capture, "-o", t.TempDir(), "--events-to", "http://x:80"}, "events-to"},
		{"dotted node", []string{"process", "-r", capture, "-o", t.TempDir(), "--events-to", "nats://127.0.0.1:1", "--nats-node", "a.b"}, "subject token"},
		{"missing creds", []string{"process", "-r", capture, "-o", t.TempDir(), "--events-to", "nats://127.0.0.1:1", "--nats-creds", "/nonexistent.creds"}, "nats-creds"},
		{"object store without events-to", []string{"process", "-r", capture, "-o", t.TempDir(), "--nats-object-store", "pcaps"}, "needs --events-to"},
		{"bad bucket name", []string{"process", "-r", capture, "-o", t.TempDir(), "--events-to", "nats://127.0.0.1:1", "--nats-object-store", "a.b"}, "object store bucket"},
		{"client certificate without key", []string{"process", "-r", capture, "-o", t.TempDir(), "--events-to", "nats://127.0.0.1:1", "--nats-tls-cert", capture}, "needs --nats-tls-key"},
		{"missing client key", []string{"hooks", "worker", "--nats", "nats://127.0.0.1:1", "--voip-command", "true", "--nats-tls-cert", capture, "--nats-tls-key", "/nonexistent.pem"}, "nats-tls-key"},
		{"negative max age", []string{"process", "-r", capture, "-o", t.TempDir(), "--events-to", "nats://127.0.0.1:1", "--nats-max-age", "-1h"}, "--nats-max-age"},
		{"max age within the duplicate window", []string{"hooks", "worker", "--nats", "nats://127.0.0.1:1", "--voip-command", "true", "--nats-max-age", "1m"}, "duplicate window"},
		{"worker without nats", []string{"hooks", "worker", "--voip-command", "true"}, "--nats"},
		{"worker without hooks", []string{"hooks", "worker", "--nats", "nats://127.0.0.1:1"}, "no hooks"},
		{"worker bad template", []string{"hooks", "worker", "--nats", "nats://127.0.0.1:1", "--voip-command", "x %nope%"}, "nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := run(t, nil, tt.args...)
			if code != exitUsage || !strings.Contains(stderr, tt.message) {
				t.Errorf("exit status %d, want %d with %q:\n%s", code, exitUsage, tt.message, stderr)
			}
		})
	}
}

// TestNatsMetricsLint: the publisher's and the worker's metrics pass
// Prometheus' linter.
func TestNatsMetricsLint(t *testing.T) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(natsMetrics{
		publisher: func() natsbus.PublisherStats { return natsbus.PublisherStats{Backlog: 1} },
		worker:    func() natsbus.WorkerStats { return natsbus.WorkerStats{} },
	})
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	if len(mfs) != 12 {
		t.Errorf("%d metric families, want 12", len(mfs))
	}
	lintMetrics(t, mfs)
}

// TestNatsBrokerDownJournal: events lc could not publish because the
// broker was down stay in the journal when lc is stopped, and the next
// lc process on the same output directory publishes them first.
func TestNatsBrokerDownJournal(t *testing.T) {
	srv := natstest.Start(t)
	srv.Shutdown()
	dir := t.TempDir()
	capture, empty := filepath.Join(dir, "calls.pcap"), filepath.Join(dir, "empty.pcap")
	const calls = 20
	testpcap.WriteFile(t, capture, testpcap.Calls(calls, 2, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), 20*time.Millisecond))
	testpcap.WriteFile(t, empty, nil)
	outDir := filepath.Join(dir, "out")

	ctx, stop := context.WithCancel(t.Context())
	stderr := new(testenv.Buffer)
	s := streams{in: strings.NewReader(""), out: new(testenv.Buffer), err: stderr, lookupEnv: func(string) (string, bool) { return "", false }, abort: context.Background()}
	code := make(chan int, 1)
	go func() {
		code <- execute(ctx, []string{"process", "-r", capture, "-o", outDir, "--events-to", srv.URL(), "--auto-rotate-pcap=false", "--shutdown-timeout", "0s"}, s)
	}()
	stderr.WaitFor("cannot publish events")
	stop() // as SIGINT while the broker is down
	if c := <-code; c != exitUnrun {
		t.Fatalf("exit status %d, want %d (hooks left):\n%s", c, exitUnrun, stderr.String())
	}
	if n := len(mustPending(t, outDir)); n != 3*calls {
		t.Errorf("%d events pending in the journal, want %d", n, 3*calls)
	}

	srv.Restart()
	if c, _, errOut := run(t, nil, "process", "-r", empty, "-o", outDir, "--events-to", srv.URL(), "--auto-rotate-pcap=false"); c != exitOK {
		t.Fatalf("second run: exit status %d:\n%s", c, errOut)
	}
	if n := len(mustPending(t, outDir)); n != 0 {
		t.Errorf("%d events still pending", n)
	}
	out := filepath.Join(dir, "hooks.txt")
	w := startLCWorker(t, workerArgs(srv.URL(), out)...)
	checkCallOrder(t, hookLines(t, out, 3*calls), calls)
	w.wait(t)
}

// mustPending returns the events the journal of out holds.
func mustPending(tb testing.TB, out string) []string {
	tb.Helper()
	rec, err := readPending(out)
	if err != nil {
		tb.Fatal(err)
	}
	var ids []string
	for _, it := range rec.Items {
		if strings.HasPrefix(it.ID, "event:") {
			ids = append(ids, it.ID)
		}
	}
	return ids
}
