package main

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lc-voip/lc/internal/natsbus/natstest"
	"github.com/lc-voip/lc/internal/testpcap"
)

// TestNatsObjectStore: with --nats-object-store, the compressed pcaps of
// lc process reach the worker's --pcap-command byte for byte, under a
// temporary directory that mirrors the output directory and is removed
// once the hooks ran.
func TestNatsObjectStore(t *testing.T) {
	srv := natstest.Start(t)
	const calls = 10
	capture := filepath.Join(t.TempDir(), "calls.pcap")
	testpcap.WriteFile(t, capture, testpcap.Calls(calls, 2, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), 20*time.Millisecond))
	outDir := t.TempDir()
	code, _, stderr := run(t, nil, "process", "-r", capture, "-o", outDir, "--compress", "zstd", "--auto-rotate-pcap=false",
		"--events-to", srv.URL(), "--nats-node", "pbx1", "--nats-object-store", "pcaps")
	if code != exitOK {
		t.Fatalf("exit status %d:\n%s", code, stderr)
	}
	if line := publishedFigures(t, stderr); !strings.Contains(line, "files_put=20 files_missing=0") {
		t.Errorf("%s, want 20 files put", line)
	}

	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	sums, dirs := filepath.Join(t.TempDir(), "sums.txt"), filepath.Join(t.TempDir(), "dirs.txt")
	w := startLCWorker(t, "--nats", srv.URL(), "--nats-object-store", "pcaps",
		"--pcap-command", "sha256sum %pcap% >> "+sums,
		"--voip-command", "ls %dirname% >> "+dirs)
	lines := hookLines(t, sums, 2*calls)
	hookLines(t, dirs, 2*calls) // sip.pcap.zst and rtp.pcap.zst of each call
	if code := w.wait(t); code != exitOK {
		t.Errorf("worker exit status %d:\n%s", code, w.stderr.String())
	}
	if !strings.Contains(w.stderr.String(), "files_fetched=20") {
		t.Errorf("worker did not fetch 20 files:\n%s", w.stderr.String())
	}
	for _, l := range lines {
		sum, path, ok := strings.Cut(l, "  ")
		if !ok || !strings.HasPrefix(path, tmp+"/lc-worker-") || !strings.HasSuffix(path, ".pcap.zst") {
			t.Errorf("hook line %q: want a .pcap.zst file under %s", l, tmp)
			continue
		}
		rel := strings.SplitN(strings.TrimPrefix(path, tmp+"/"), "/", 2)[1]
		data, err := os.ReadFile(filepath.Join(outDir, rel))
		if err != nil {
			t.Error(err)
			continue
		}
		if want := sha256.Sum256(data); hex.EncodeToString(want[:]) != sum {
			t.Errorf("%s: the worker's copy differs from lc's", rel)
		}
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}
