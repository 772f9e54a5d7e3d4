package main

import (
	"bytes"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/lc-voip/lc/internal/capture"
	"github.com/lc-voip/lc/internal/journal"
	"github.com/lc-voip/lc/internal/live"
	"github.com/lc-voip/lc/internal/processor"
	"github.com/lc-voip/lc/internal/script"
	"github.com/lc-voip/lc/internal/script/runner"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// processSample runs the processor over the sample capture with a
// /bin/true pcap hook, and returns its counters and the engine's counts.
func processSample(t *testing.T, observe func(string, time.Duration, error)) (*processor.Counters, func() *script.EngineStats) {
	t.Helper()
	hooks, errs := commandTemplates{pcap: "true %pcap%"}.hooks(&runner.Runner{}, nil)
	if errs != nil {
		t.Fatal(errs)
	}
	engine := script.NewEngine(script.EngineConfig{Observe: observe}, script.Set{Hooks: hooks})
	cfg := processor.DefaultConfig()
	cfg.OutputDir = t.TempDir()
	cfg.Emit = engine.Submit
	p, err := processor.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f, err := capture.OpenFile(samplePath, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := p.Run(t.Context(), capture.NewMerger([]*capture.File{f})); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	final := engine.Close(t.Context())
	final.Spool = &script.SpoolStats{Queued: 30, OnDisk: 20, Spilled: 50, Lost: 1} // as live capture's would be
	return p.Counters(), func() *script.EngineStats { return &final }
}

func TestMetricsScrape(t *testing.T) {
	m := newMetrics()
	counters, hooks := processSample(t, m.observe)
	m.sources = metricSources{counters: counters, hooks: hooks, capture: fakeCapture, journal: func() *journalFigures {
		return &journalFigures{stats: journal.Stats{Open: 3, WriteErrors: 2, SyncErrors: 1},
			resumed: resumed{replayed: 4, recovered: processor.Recovered{Calls: 5, Files: 6}}}
	}}
	srv := httptest.NewServer(promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{}))
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, want := range []string{
		"lc_packets_total 119",
		`lc_written_packets_total{kind="rtp"} 100`,
		`lc_written_packets_total{kind="sip"} 16`,
		`lc_calls_total{state="completed"} 1`,
		`lc_calls_total{state="failed"} 1`,
		"lc_open_calls 0",
		"lc_files_closed_total 5",
		"lc_hook_runs_total 5",
		"lc_hook_failures_total 0",
		"lc_hook_queue_events 0",
		`lc_hook_duration_seconds_count{hook="pcap-command"} 5`,
		"process_resident_memory_bytes",
		`lc_capture_received_packets_total{interface="eth1"} 1000`,
		`lc_capture_kernel_drops_total{interface="eth1"} 7`,
		`lc_capture_interface_drops_total{interface="eth1"} 2`,
		`lc_capture_kernel_drops_total{interface="eth2"} 0`,
		"lc_hook_spool_events 30",
		"lc_hook_spool_disk_events 20",
		"lc_hook_spilled_events_total 50",
		"lc_hook_spool_lost_events_total 1",
		"lc_recovered_calls_total 5",
		"lc_recovered_files_total 6",
		"lc_journal_open_items 3",
		"lc_journal_write_errors_total 2",
		"lc_journal_sync_errors_total 1",
		"lc_hook_replayed_events_total 0",
	} {
		if !strings.Contains(string(body), want+"\n") && !strings.Contains(string(body), want+" ") {
			t.Errorf("scrape lacks %q", want)
		}
	}
	if strings.Contains(string(body), `lc_capture_interface_drops_total{interface="eth2"}`) {
		t.Error("unknown interface drops were exported")
	}
	if t.Failed() {
		t.Logf("scrape:\n%s", body)
	}
}

func TestMetricsAddressError(t *testing.T) {
	code, _, stderr := run(t, nil, "process", "-r", samplePath, "-o", t.TempDir(), "--metrics-addr", "256.0.0.1:http-nope")
	if code != exitUsage || !strings.Contains(stderr, "metrics-addr") || !strings.Contains(stderr, "from flag --metrics-addr") {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	code, _, stderr = run(t, nil, "process", "-r", samplePath, "-o", t.TempDir(), "--metrics-addr", "127.0.0.1:0")
	if code != exitOK || !strings.Contains(stderr, "serving metrics") {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
}

func TestStatusLine(t *testing.T) {
	counters, hooks := processSample(t, nil)
	var buf bytes.Buffer
	s := &statusLine{log: slog.New(slog.NewTextHandler(&buf, nil)), counters: counters, hooks: hooks, capture: fakeCapture}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s.lastAt = t0
	s.line(t0.Add(10 * time.Second))
	line := buf.String()
	for _, want := range []string{"msg=status", "calls_open=0", "packets=119", "packets_per_s=11", "hook_backlog=0", "hooks_failed=0",
		"kernel_drops=7", "interface_drops=2", "hook_spool=30", "hook_spool_on_disk=20"} {
		if !strings.Contains(line, want) {
			t.Errorf("status line lacks %s: %s", want, line)
		}
	}
	if !strings.Contains(line, "level=WARN msg=\"capture dropped packets since the last status line\" kernel_drops=7 interface_drops=2") {
		t.Errorf("no warning about the drops: %s", line)
	}
	buf.Reset()
	s.line(t0.Add(20 * time.Second))
	if strings.Contains(buf.String(), "WARN") {
		t.Errorf("warned again without new drops: %s", buf.String())
	}
	if stop := s.start(0); stop == nil {
		t.Fatal("start(0) returned nil")
	}
}

func TestStatusIntervalFlag(t *testing.T) {
	code, _, stderr := run(t, nil, "process", "-r", samplePath, "-o", t.TempDir(), "--status-interval", "-1s")
	if code != exitUsage || !strings.Contains(stderr, "processor.status_interval") {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
}

// fakeCapture and fakeSpool stand for a live capture's figures.
func fakeCapture() []live.Stats {
	return []live.Stats{
		{Interface: "eth1", Received: 1000, KernelDrops: 7, InterfaceDrops: 2},
		{Interface: "eth2", Received: 5, InterfaceDrops: -1},
	}
}
