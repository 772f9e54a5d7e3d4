package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lc-voip/lc/internal/natsbus/natstest"
	"github.com/lc-voip/lc/internal/testpcap"
)

// TestNatsFlagsSecure: lc process and lc hooks worker reach a server
// that wants a client certificate with --nats-tls-ca, --nats-tls-cert
// and --nats-tls-key, and one in operator mode with --nats-creds; each
// call's hooks run once, and each side logs that it connected.
func TestNatsFlagsSecure(t *testing.T) {
	const calls = 5
	capture := filepath.Join(t.TempDir(), "calls.pcap")
	testpcap.WriteFile(t, capture, testpcap.Calls(calls, 2, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), 20*time.Millisecond))
	for _, srv := range natstest.StartSecured(t) {
		t.Run(srv.Name, func(t *testing.T) {
			var secure []string
			if srv.Creds != "" {
				secure = []string{"--nats-creds", srv.Creds}
			} else {
				secure = []string{"--nats-tls-ca", srv.TLS.CA, "--nats-tls-cert", srv.TLS.Cert, "--nats-tls-key", srv.TLS.Key}
			}
			args := append([]string{"process", "-r", capture, "-o", t.TempDir(), "--auto-rotate-pcap=false", "--events-to", srv.URL}, secure...)
			code, _, stderr := run(t, nil, args...)
			if code != exitOK || !strings.Contains(stderr, "connected to NATS") {
				t.Fatalf("lc process: exit status %d:\n%s", code, stderr)
			}
			if line := publishedFigures(t, stderr); !strings.Contains(line, "published=15 ") {
				t.Errorf("%s, want 15 events published", line)
			}
			out := filepath.Join(t.TempDir(), "hooks.txt")
			w := startLCWorker(t, workerArgs(srv.URL, out, secure...)...)
			checkCallOrder(t, hookLines(t, out, 3*calls), calls)
			if code := w.wait(t); code != exitOK || !strings.Contains(w.stderr.String(), "connected to NATS") {
				t.Errorf("worker exit status %d:\n%s", code, w.stderr.String())
			}
		})
	}
}
