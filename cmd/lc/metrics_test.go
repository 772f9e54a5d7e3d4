package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"regexp"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/lc-voip/lc/internal/capture"
	"github.com/lc-voip/lc/internal/event"
	"github.com/lc-voip/lc/internal/journal"
	"github.com/lc-voip/lc/internal/live"
	"github.com/lc-voip/lc/internal/processor"
	"github.com/lc-voip/lc/internal/retention"
	"github.com/lc-voip/lc/internal/script"
	"github.com/lc-voip/lc/internal/script/runner"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
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
		`lc_calls_total{state="timeout"} 0`,
		`lc_files_closed_total{kind="sip"} 3`,
		`lc_files_closed_total{kind="rtp"} 1`,
		`lc_files_closed_total{kind="other"} 1`,
		`lc_hook_runs_total{hook="pcap-command"} 5`,
		`lc_hook_failures_total{hook="pcap-command"} 0`,
		`lc_hook_timeouts_total{hook="pcap-command"} 0`,
		"lc_hook_unrun_total 0",
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
	for _, want := range []string{"msg=status", "calls_open=0", "packets=119", "packets_per_s=11", "hook_backlog=0", "hook_runs=", "hooks_failed=0",
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

// gathered returns every series the registry gives, by name and labels
// as Prometheus writes them: name{a="x",b="y"}; a histogram by its count
// (name_count{...}).
func gathered(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string]float64)
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			name := mf.GetName()
			var v float64
			switch {
			case m.GetCounter() != nil:
				v = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				v = m.GetGauge().GetValue()
			case m.GetHistogram() != nil:
				name, v = name+"_count", float64(m.GetHistogram().GetSampleCount())
			default:
				continue
			}
			if len(labels) > 0 {
				name += "{" + strings.Join(labels, ",") + "}"
			}
			out[name] = v
		}
	}
	return out
}

// idleRun is a processor and a hook engine that have not seen a packet
// yet, as at the start of a run, with a pcap and a voip command.
func idleRun(t *testing.T) metricSources {
	t.Helper()
	hooks, errs := commandTemplates{pcap: "true %pcap%", voip: "true %callid%"}.hooks(&runner.Runner{}, nil)
	if errs != nil {
		t.Fatal(errs)
	}
	engine := script.NewEngine(script.EngineConfig{}, script.Set{Hooks: hooks})
	t.Cleanup(func() { engine.Close(context.Background()) })
	cfg := processor.DefaultConfig()
	cfg.OutputDir = t.TempDir()
	p, err := processor.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return metricSources{counters: p.Counters(), hooks: func() *script.EngineStats { st := engine.Stats(); return &st }}
}

// TestMetricsAtZero: before the first packet, every call state, every
// kind of file and every hook has its series, at 0, so that alerts and
// rates have a start.
func TestMetricsAtZero(t *testing.T) {
	m := newMetrics()
	m.sources = idleRun(t)
	got := gathered(t, m.registry)
	var want []string
	for _, s := range callStates {
		want = append(want, fmt.Sprintf("lc_calls_total{state=%q}", s))
	}
	for _, k := range fileKinds {
		want = append(want, fmt.Sprintf("lc_files_closed_total{kind=%q}", k), fmt.Sprintf("lc_written_packets_total{kind=%q}", k))
	}
	for _, h := range []string{"pcap-command", "voip-command"} {
		for _, name := range []string{"lc_hook_runs_total", "lc_hook_failures_total", "lc_hook_timeouts_total", "lc_hook_duration_seconds_count"} {
			want = append(want, fmt.Sprintf("%s{hook=%q}", name, h))
		}
	}
	want = append(want, "lc_hook_unrun_total", "lc_packets_total", "lc_last_packet_timestamp_seconds", "lc_open_calls")
	for _, name := range want {
		v, ok := got[name]
		switch {
		case !ok:
			t.Errorf("no series %s", name)
		case v != 0:
			t.Errorf("%s = %v at the start", name, v)
		}
	}
	// The states and kinds the event fields document are the ones
	// exported from the start.
	documented := func(typ event.Type, field string) []string {
		for _, f := range event.Fields(typ) {
			if f.Name == field {
				var vals []string
				for _, m := range regexp.MustCompile("`([a-z-]+)`").FindAllStringSubmatch(f.Doc, -1) {
					vals = append(vals, m[1])
				}
				return vals
			}
		}
		t.Fatalf("no field %s", field)
		return nil
	}
	if got, want := fmt.Sprint(callStates), fmt.Sprint(documented(event.TypeCallCompleted, "state")); got != want {
		t.Errorf("callStates %s, the state field documents %s", got, want)
	}
	if got, want := fmt.Sprint(fileKinds), fmt.Sprint(documented(event.TypeFileClosed, "kind")); got != want {
		t.Errorf("fileKinds %s, the kind field documents %s", got, want)
	}
	if t.Failed() {
		t.Logf("gathered: %v", got)
	}
}

// TestMetricsLabels: the label names of every lc metric.
func TestMetricsLabels(t *testing.T) {
	mfs := gatherSample(t)
	want := map[string]string{
		"lc_build_info":                     "version,revision,goversion",
		"lc_calls_total":                    "state",
		"lc_files_closed_total":             "kind",
		"lc_written_packets_total":          "kind",
		"lc_hook_runs_total":                "hook",
		"lc_hook_failures_total":            "hook",
		"lc_hook_timeouts_total":            "hook",
		"lc_hook_duration_seconds":          "hook",
		"lc_hook_unrun_total":               "",
		"lc_last_packet_timestamp_seconds":  "",
		"lc_capture_kernel_drops_total":     "interface",
		"lc_capture_received_packets_total": "interface",
		"lc_retention_removed_total":        "kind",
		"lc_retention_tracked_bytes":        "",
	}
	seen := map[string]bool{}
	for _, mf := range mfs {
		if !strings.HasPrefix(mf.GetName(), "lc_") {
			continue
		}
		seen[mf.GetName()] = true
		for _, metric := range mf.GetMetric() {
			var names []string
			for _, l := range metric.GetLabel() {
				names = append(names, l.GetName())
			}
			slices.Sort(names)
			if w, ok := want[mf.GetName()]; ok {
				ws := strings.Split(w, ",")
				if w == "" {
					ws = nil
				}
				slices.Sort(ws)
				if !slices.Equal(names, ws) {
					t.Errorf("%s has labels %v, want %v", mf.GetName(), names, ws)
				}
			}
		}
	}
	for name := range want {
		if !seen[name] {
			t.Errorf("no %s", name)
		}
	}
	if seen["lc_hooks_unrun_total"] {
		t.Error("lc_hooks_unrun_total is still exported")
	}
}

// TestMetricsLint runs Prometheus' linter over everything lc exports.
func TestMetricsLint(t *testing.T) {
	lintMetrics(t, gatherSample(t))
}

// lintMetrics reports every problem Prometheus' linter finds in mfs.
func lintMetrics(t *testing.T, mfs []*dto.MetricFamily) {
	t.Helper()
	problems, err := promlint.NewWithMetricFamilies(mfs).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("%s: %s", p.Metric, p.Text)
	}
}

// TestMetricsLastPacket: the capture time of the last packet, as Unix
// seconds.
func TestMetricsLastPacket(t *testing.T) {
	m := newMetrics()
	counters, _ := processSample(t, nil)
	m.sources = metricSources{counters: counters}
	last := counters.Published().LastPacket
	if last.IsZero() {
		t.Fatal("no last packet time published")
	}
	got := gathered(t, m.registry)["lc_last_packet_timestamp_seconds"]
	if want := float64(last.UnixNano()) / 1e9; got != want {
		t.Errorf("lc_last_packet_timestamp_seconds = %v, want %v (%s)", got, want, last)
	}
}

// TestBuildInfo: version, revision and Go version from the build
// information, in lc version and in lc_build_info.
func TestBuildInfo(t *testing.T) {
	tests := []struct {
		name string
		bi   *debug.BuildInfo
		want string
	}{
		{name: "none", want: "lc (devel) (revision unknown, unknown)"},
		{name: "not stamped", bi: &debug.BuildInfo{GoVersion: "go1.26.1", Main: debug.Module{Version: "(devel)"}},
			want: "lc (devel) (revision unknown, go1.26.1)"},
		{name: "release", bi: &debug.BuildInfo{GoVersion: "go1.26.1", Main: debug.Module{Version: "v1.4.0"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123abcd"}, {Key: "vcs.modified", Value: "false"}}},
			want: "lc v1.4.0 (revision 0123abcd, go1.26.1)"},
		{name: "modified tree", bi: &debug.BuildInfo{GoVersion: "go1.26.1", Main: debug.Module{Version: "v1.4.1-0.20260102030405-0123abcd+dirty"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123abcd"}, {Key: "vcs.modified", Value: "true"}}},
			want: "lc v1.4.1-0.20260102030405-0123abcd+dirty (revision 0123abcd-dirty, go1.26.1)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := buildInfoOf(tt.bi).String(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}

	m := newMetrics()
	m.build = buildInfoOf(tests[3].bi)
	series := `lc_build_info{goversion="go1.26.1",revision="0123abcd-dirty",version="v1.4.1-0.20260102030405-0123abcd+dirty"}`
	if v, ok := gathered(t, m.registry)[series]; !ok || v != 1 {
		t.Errorf("%s = %v (present: %v)", series, v, ok)
	}

	code, stdout, _ := run(t, nil, "version")
	if want := readBuildInfo().String() + "\n"; code != exitOK || stdout != want || !strings.Contains(stdout, runtime.Version()) {
		t.Errorf("lc version: exit %d, %q; want %q", code, stdout, want)
	}
}

// TestStatusHookRuns: the status tick logs the hook runs since the last
// one, by hook, and nothing when no hook ran.
func TestStatusHookRuns(t *testing.T) {
	var buf bytes.Buffer
	st := &script.EngineStats{Hooks: map[string]script.HookStats{"pcap-command": {Runs: 5, Failed: 1}, "voip-command": {}}}
	s := &statusLine{log: slog.New(slog.NewTextHandler(&buf, nil)), counters: &processor.Counters{},
		hooks: func() *script.EngineStats { return st }, capture: func() []live.Stats { return nil }}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s.line(t0)
	want := `level=INFO msg="hook runs since the last status line" runs=5 failed=1 timed_out=0 by_hook.pcap-command.runs=5 by_hook.pcap-command.failed=1 by_hook.pcap-command.timed_out=0` + "\n"
	if !strings.HasSuffix(buf.String(), want) {
		t.Errorf("got:\n%swant a last line ending in:\n%s", buf.String(), want)
	}
	buf.Reset()
	s.line(t0.Add(time.Minute))
	if strings.Contains(buf.String(), "hook runs") {
		t.Errorf("hook runs logged when none ran:\n%s", buf.String())
	}
	st = &script.EngineStats{Hooks: map[string]script.HookStats{"pcap-command": {Runs: 7, Failed: 1}, "voip-command": {Runs: 1}}}
	s.line(t0.Add(2 * time.Minute))
	if want := "runs=3 failed=0 timed_out=0 by_hook.pcap-command.runs=2"; !strings.Contains(buf.String(), want) {
		t.Errorf("no %q in:\n%s", want, buf.String())
	}
}

// gatherSample gathers every metric after a sample run.
func gatherSample(t *testing.T) []*dto.MetricFamily {
	t.Helper()
	m := newMetrics()
	counters, hooks := processSample(t, m.observe)
	m.sources = metricSources{counters: counters, hooks: hooks, capture: fakeCapture, journal: func() *journalFigures { return &journalFigures{} },
		retention: func() *retention.Stats { return &retention.Stats{Removed: map[string]int64{"calls": 0, "other": 0}} }}
	mfs, err := m.registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	return mfs
}
