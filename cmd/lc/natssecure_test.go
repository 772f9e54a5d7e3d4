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
	tlsSrv, files := natstest.StartTLS(t)
	credsSrv, creds := natstest.StartCreds(t)
	tests := []struct {
		name string
		url  string
		args []string
	}{
		{"client certificate", tlsSrv.URL(), []string{"--nats-tls-ca", files.CA, "--nats-tls-cert", files.Cert, "--nats-tls-key", files.Key}},
		{"credentials", credsSrv.URL(), []string{"--nats-creds", creds}},
	}
	const calls = 5
	capture := filepath.Join(t.TempDir(), "calls.pcap")
	testpcap.WriteFile(t, capture, testpcap.Calls(calls, 2, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), 20*time.Millisecond))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"process", "-r", capture, "-o", t.TempDir(), "--auto-rotate-pcap=false", "--events-to", tt.url}, tt.args...)
			code, _, stderr := run(t, nil, args...)
			if code != exitOK || !strings.Contains(stderr, "connected to NATS") {
				t.Fatalf("lc process: exit status %d:\n%s", code, stderr)
			}
			if line := publishedFigures(t, stderr); !strings.Contains(line, "published=15 ") {
				t.Errorf("%s, want 15 events published", line)
			}
			out := filepath.Join(t.TempDir(), "hooks.txt")
			w := startLCWorker(t, workerArgs(tt.url, out, tt.args...)...)
			checkCallOrder(t, hookLines(t, out, 3*calls), calls)
			if code := w.wait(t); code != exitOK || !strings.Contains(w.stderr.String(), "connected to NATS") {
				t.Errorf("worker exit status %d:\n%s", code, w.stderr.String())
			}
		})
	}
}
