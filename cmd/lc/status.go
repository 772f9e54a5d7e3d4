package main

import (
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/lc-voip/lc/internal/live"
	"github.com/lc-voip/lc/internal/natsbus"
	"github.com/lc-voip/lc/internal/processor"
	"github.com/lc-voip/lc/internal/script"
)

// defaultStatusInterval is how often a status line is logged.
const defaultStatusInterval = 60 * time.Second

// statusLine logs, on every tick, the calls open, the packet rate since
// the last line, the anomalies so far, capture drops and the hook backlog;
// a warning when the capture dropped packets since the last tick; and,
// when hooks ran since the last tick, how many ran and failed, by hook
// (a successful hook run itself is logged at Debug only). Each source
// may be nil, and leaves its part out: lc process has no worker, lc hooks
// worker has neither counters nor capture.
type statusLine struct {
	log      *slog.Logger
	counters *processor.Counters
	hooks    func() *script.EngineStats // nil result without hooks
	capture  func() []live.Stats        // nil result when reading files
	worker   func() natsbus.WorkerStats

	lastPackets int64
	lastAt      time.Time
	lastDrops   [2]int64 // kernel and interface drops at the last line
	lastHooks   map[string]script.HookStats
}

// line logs one status line at now.
func (s *statusLine) line(now time.Time) {
	var attrs []any
	if s.counters != nil {
		attrs = s.packets(now)
	}
	if s.worker != nil {
		w := s.worker()
		attrs = append(attrs, "received", w.Received, "acked", w.Acked, "retried", w.Retried, "dead", w.Dead,
			"held", w.Held, "files_fetched", w.Fetched)
	}
	if s.capture != nil {
		if st := s.capture(); st != nil {
			attrs = append(attrs, s.drops(st)...)
		}
	}
	var h *script.EngineStats
	if s.hooks != nil {
		h = s.hooks()
	}
	if h != nil {
		attrs = append(attrs, "hook_backlog", h.Pending, "hook_runs", h.Runs, "hooks_failed", h.Failed)
		if sp := h.Spool; sp != nil {
			attrs = append(attrs, "hook_spool", sp.Queued, "hook_spool_on_disk", sp.OnDisk)
		}
	}
	s.log.Info("status", attrs...)
	if h != nil {
		s.hookRuns(h.Hooks)
	}
}

// packets returns the processor's part of the line: calls open, packets,
// the packet rate since the last line and the anomalies.
func (s *statusLine) packets(now time.Time) []any {
	st := s.counters.Published()
	packets := s.counters.Packets.Load()
	rate := 0.0
	if !s.lastAt.IsZero() {
		rate = float64(packets-s.lastPackets) / now.Sub(s.lastAt).Seconds()
	}
	s.lastPackets, s.lastAt = packets, now
	var anomalies int64
	for _, n := range st.Notes {
		anomalies += n
	}
	return []any{"calls_open", s.counters.OpenCalls.Load(), "packets", packets,
		"packets_per_s", int64(rate), "anomalies", anomalies}
}

// drops returns the capture's part of the line, and warns when it
// dropped packets since the last line.
func (s *statusLine) drops(st []live.Stats) []any {
	_, kernel, iface := totalDrops(st)
	if kernel > s.lastDrops[0] || iface > s.lastDrops[1] {
		s.log.Warn("capture dropped packets since the last status line",
			"kernel_drops", kernel-s.lastDrops[0], "interface_drops", iface-s.lastDrops[1])
	}
	s.lastDrops = [2]int64{kernel, iface}
	return []any{"kernel_drops", kernel, "interface_drops", iface}
}

// hookRuns logs the hook runs since the last line, in all and by hook,
// when there were any.
func (s *statusLine) hookRuns(now map[string]script.HookStats) {
	var (
		total  script.HookStats
		byHook []any
	)
	for _, name := range slices.Sorted(maps.Keys(now)) {
		cur, last := now[name], s.lastHooks[name]
		runs, failed, timedOut := cur.Runs-last.Runs, cur.Failed-last.Failed, cur.TimedOut-last.TimedOut
		if runs == 0 {
			continue
		}
		total.Runs += runs
		total.Failed += failed
		total.TimedOut += timedOut
		byHook = append(byHook, slog.Group(name, "runs", runs, "failed", failed, "timed_out", timedOut))
	}
	s.lastHooks = now
	if total.Runs == 0 {
		return
	}
	s.log.Info("hook runs since the last status line", "runs", total.Runs, "failed", total.Failed, "timed_out", total.TimedOut,
		slog.Group("by_hook", byHook...))
}

// start logs a status line every interval until the returned function is
// called; interval 0 disables it.
func (s *statusLine) start(interval time.Duration) func() {
	if interval <= 0 {
		return func() {}
	}
	s.lastAt = time.Now()
	t := time.NewTicker(interval)
	stop := each(t.C, s.line)
	return func() {
		t.Stop()
		stop()
	}
}
