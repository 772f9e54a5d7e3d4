package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"slices"
	"time"

	"github.com/lc-voip/lc/internal/event"
	"github.com/lc-voip/lc/internal/journal"
	"github.com/lc-voip/lc/internal/live"
	"github.com/lc-voip/lc/internal/processor"
	"github.com/lc-voip/lc/internal/retention"
	"github.com/lc-voip/lc/internal/script"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are lc's Prometheus metrics. Counters and gauges are read at
// scrape time from the processor's published stats and the hook engine's
// counts, so nothing is added to the packet path; the hook duration
// histogram is fed by the engine's Observe callback. Every series a label
// value is known for in advance (each call end state, each file kind,
// each configured hook) is there from the first scrape, at 0.
type metrics struct {
	registry *prometheus.Registry
	hookTime *prometheus.HistogramVec
	build    buildInfo
	sources  metricSources
}

// metricSources are where the scrape-time figures come from. Either may
// be nil until the run starts.
type metricSources struct {
	counters *processor.Counters
	hooks    func() *script.EngineStats
	capture  func() []live.Stats    // nil result when reading files
	journal  func() *journalFigures // nil result without a journal
	// retention is the disk retention's figures; nil result without
	// retention.
	retention func() *retention.Stats
}

// journalFigures are the journal's figures for metrics.
type journalFigures struct {
	stats   journal.Stats
	resumed resumed
}

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		hookTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "lc_hook_duration_seconds",
			Help:    "How long hook runs took, by hook.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10), // 100µs to 26s
		}, []string{"hook"}),
		build: readBuildInfo(),
	}
	// m collects the histogram too, after making a series for every hook.
	m.registry.MustRegister(m, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// observe is the engine's Observe callback.
func (m *metrics) observe(hook string, took time.Duration, _ error) {
	m.hookTime.WithLabelValues(hook).Observe(took.Seconds())
}

// callStates and fileKinds are the label values of lc_calls_total and of
// the metrics by kind of file, exported at 0 until they count something.
var (
	callStates = []event.CallState{event.StateCompleted, event.StateCancelled, event.StateFailed, event.StateTimeout,
		event.StateMaxDuration, event.StateShutdown, event.StateInterrupted}
	fileKinds = []event.FileKind{event.KindSIP, event.KindRTP, event.KindOther}
)

var (
	descBuild     = prometheus.NewDesc("lc_build_info", "Always 1; its labels say which lc this is: module version, VCS revision (-dirty: built from a modified tree) and Go version.", []string{"version", "revision", "goversion"}, nil)
	descPackets   = prometheus.NewDesc("lc_packets_total", "Input packets read.", nil, nil)
	descBytes     = prometheus.NewDesc("lc_bytes_total", "Input bytes read (captured lengths).", nil, nil)
	descLastPkt   = prometheus.NewDesc("lc_last_packet_timestamp_seconds", "Capture time of the last packet processed, as Unix seconds; 0 before the first.", nil, nil)
	descWritten   = prometheus.NewDesc("lc_written_packets_total", "Packet records written, by output kind.", []string{"kind"}, nil)
	descCopies    = prometheus.NewDesc("lc_packet_copies_total", "Packets written to a second file (a TCP segment carrying messages of several calls).", nil, nil)
	descFiltered  = prometheus.NewDesc("lc_filtered_packets_total", "Packets not written because their kind of output is switched off.", nil, nil)
	descFailed    = prometheus.NewDesc("lc_failed_packets_total", "Packets kept out of the files by a write error (disk full, I/O error).", nil, nil)
	descFileErrs  = prometheus.NewDesc("lc_file_errors_total", "Output files cut short by a write error; their events carry it.", nil, nil)
	descNotes     = prometheus.NewDesc("lc_anomalies_total", "Packets noted as unusual (still written to the other files), by reason.", []string{"reason"}, nil)
	descCalls     = prometheus.NewDesc("lc_calls_total", "Calls ended, by end state.", []string{"state"}, nil)
	descOpenCalls = prometheus.NewDesc("lc_open_calls", "Calls open now.", nil, nil)
	descOpenFiles = prometheus.NewDesc("lc_open_files", "Output files open now.", nil, nil)
	descFiles     = prometheus.NewDesc("lc_files_closed_total", "Output files closed, by kind.", []string{"kind"}, nil)
	descHookRuns  = prometheus.NewDesc("lc_hook_runs_total", "Hook runs finished, by hook.", []string{"hook"}, nil)
	descHookFail  = prometheus.NewDesc("lc_hook_failures_total", "Hook runs that failed, timeouts included, by hook.", []string{"hook"}, nil)
	descHookTime  = prometheus.NewDesc("lc_hook_timeouts_total", "Hook runs that ran out of time, by hook.", []string{"hook"}, nil)
	descHookUnrun = prometheus.NewDesc("lc_hook_unrun_total", "Hook runs never started because the shutdown deadline passed.", nil, nil)
	descQueued    = prometheus.NewDesc("lc_hook_queue_events", "Events queued or running in the hook engine.", nil, nil)
	descFull      = prometheus.NewDesc("lc_hook_queue_full_waits_total", "Times an event waited for room in the hook queue: the processing loop reading files, the spool's pump in live capture.", nil, nil)
	descReceived  = prometheus.NewDesc("lc_capture_received_packets_total", "Packets captured on an interface and handed to lc.", []string{"interface"}, nil)
	descKernDrop  = prometheus.NewDesc("lc_capture_kernel_drops_total", "Packets the kernel dropped because lc's capture ring was full.", []string{"interface"}, nil)
	descIfDrop    = prometheus.NewDesc("lc_capture_interface_drops_total", "Packets the interface itself dropped on receive (rx_dropped + rx_missed_errors) since capture began.", []string{"interface"}, nil)
	descSpooled   = prometheus.NewDesc("lc_hook_spool_events", "Events waiting in the hook spool (live capture), in memory or in the journal alone.", nil, nil)
	descOnDisk    = prometheus.NewDesc("lc_hook_spool_disk_events", "Events of the hook spool that only the journal holds.", nil, nil)
	descSpilled   = prometheus.NewDesc("lc_hook_spilled_events_total", "Events left to the journal alone because the hooks fell behind and the spool's memory was full.", nil, nil)
	descLost      = prometheus.NewDesc("lc_hook_spool_lost_events_total", "Events whose hooks will not run: the spool was full without a journal, or the journal could not give one back.", nil, nil)
	descReplayed  = prometheus.NewDesc("lc_hook_replayed_events_total", "Events an earlier run left in the journal with hooks to run, run by this one.", nil, nil)
	descRecCalls  = prometheus.NewDesc("lc_recovered_calls_total", "Calls an earlier run left open when it died, completed as interrupted at start.", nil, nil)
	descRecFiles  = prometheus.NewDesc("lc_recovered_files_total", "Files an earlier run left open when it died, repaired and closed at start.", nil, nil)
	descJrnlOpen  = prometheus.NewDesc("lc_journal_open_items", "Events with hooks to run, and calls and files open, that the journal holds now.", nil, nil)
	descJrnlErrs  = prometheus.NewDesc("lc_journal_write_errors_total", "Journal writes that failed: what they recorded would not survive a crash.", nil, nil)
	descJrnlSync  = prometheus.NewDesc("lc_journal_sync_errors_total", "Journal fdatasyncs that failed.", nil, nil)
	descRetRm     = prometheus.NewDesc("lc_retention_removed_total", "Units disk retention removed, by kind: calls (call directories), other (other pcaps); with --retention-dry-run, the ones it would have removed.", []string{"kind"}, nil)
	descRetRmB    = prometheus.NewDesc("lc_retention_removed_bytes_total", "Bytes of the units disk retention removed (with --retention-dry-run, would have).", nil, nil)
	descRetTrack  = prometheus.NewDesc("lc_retention_tracked_bytes", "Bytes of the units lc is done with (files closed, hooks finished), which disk retention may remove.", nil, nil)
	descRetHeld   = prometheus.NewDesc("lc_retention_held_bytes", "Bytes of the units whose hooks still run: counted towards the size limit, never removed.", nil, nil)
	descRetErrs   = prometheus.NewDesc("lc_retention_errors_total", "Units disk retention could not measure or remove.", nil, nil)
)

// Describe implements prometheus.Collector.
func (m *metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descBuild, descPackets, descBytes, descLastPkt, descWritten, descCopies, descFiltered, descFailed,
		descFileErrs, descNotes, descCalls, descOpenCalls, descOpenFiles, descFiles, descHookRuns, descHookFail, descHookTime, descHookUnrun,
		descQueued, descFull, descReceived, descKernDrop, descIfDrop, descSpooled, descOnDisk, descSpilled, descLost,
		descReplayed, descRecCalls, descRecFiles, descJrnlOpen, descJrnlErrs, descJrnlSync,
		descRetRm, descRetRmB, descRetTrack, descRetHeld, descRetErrs} {
		ch <- d
	}
	m.hookTime.Describe(ch)
}

// Collect implements prometheus.Collector.
func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(descBuild, prometheus.GaugeValue, 1, m.build.version, m.build.revision, m.build.goVersion)
	if m.sources.capture != nil {
		for _, st := range m.sources.capture() {
			constCounter(ch, descReceived, st.Received, st.Interface)
			constCounter(ch, descKernDrop, st.KernelDrops, st.Interface)
			if st.InterfaceDrops >= 0 {
				constCounter(ch, descIfDrop, st.InterfaceDrops, st.Interface)
			}
		}
	}
	if c := m.sources.counters; c != nil {
		collectProcessor(ch, c.Published())
	}
	if m.sources.hooks != nil {
		if h := m.sources.hooks(); h != nil {
			m.collectHooks(ch, h)
		}
	}
	if m.sources.journal != nil {
		if j := m.sources.journal(); j != nil {
			constCounter(ch, descRecCalls, int64(j.resumed.recovered.Calls))
			constCounter(ch, descRecFiles, int64(j.resumed.recovered.Files))
			constGauge(ch, descJrnlOpen, float64(j.stats.Open))
			constCounter(ch, descJrnlErrs, j.stats.WriteErrors)
			constCounter(ch, descJrnlSync, j.stats.SyncErrors)
		}
	}
	if m.sources.retention != nil {
		if r := m.sources.retention(); r != nil {
			collectRetention(ch, r)
		}
	}
	m.hookTime.Collect(ch)
}

// collectRetention sends the disk retention's figures, a removal series
// for every kind of unit.
func collectRetention(ch chan<- prometheus.Metric, r *retention.Stats) {
	for _, kind := range slices.Sorted(maps.Keys(r.Removed)) {
		constCounter(ch, descRetRm, r.Removed[kind], kind)
	}
	constCounter(ch, descRetRmB, r.RemovedBytes)
	constGauge(ch, descRetTrack, float64(r.TrackedBytes))
	constGauge(ch, descRetHeld, float64(r.HeldBytes))
	constCounter(ch, descRetErrs, r.Errors)
}

// collectProcessor sends the processor's figures.
func collectProcessor(ch chan<- prometheus.Metric, st processor.Stats) {
	constCounter(ch, descPackets, st.Packets)
	constCounter(ch, descBytes, st.Bytes)
	last := 0.0
	if !st.LastPacket.IsZero() {
		last = float64(st.LastPacket.UnixNano()) / 1e9
	}
	constGauge(ch, descLastPkt, last)
	for _, k := range labelValues(fileKinds, st.Written) {
		constCounter(ch, descWritten, st.Written[k], string(k))
	}
	constCounter(ch, descCopies, st.Copies)
	constCounter(ch, descFiltered, st.Filtered)
	constCounter(ch, descFailed, st.Failed)
	constCounter(ch, descFileErrs, st.FileErrors)
	for _, r := range slices.Sorted(maps.Keys(st.Notes)) {
		constCounter(ch, descNotes, st.Notes[r], r)
	}
	for _, s := range labelValues(callStates, st.Calls) {
		constCounter(ch, descCalls, st.Calls[s], string(s))
	}
	constGauge(ch, descOpenCalls, float64(st.OpenCalls))
	constGauge(ch, descOpenFiles, float64(st.OpenFiles))
	for _, k := range labelValues(fileKinds, st.FilesClosed) {
		constCounter(ch, descFiles, st.FilesClosed[k], string(k))
	}
}

// collectHooks sends the hook engine's figures, a series of each per
// hook, and makes a duration series for every hook.
func (m *metrics) collectHooks(ch chan<- prometheus.Metric, h *script.EngineStats) {
	for _, name := range slices.Sorted(maps.Keys(h.Hooks)) {
		one := h.Hooks[name]
		constCounter(ch, descHookRuns, one.Runs, name)
		constCounter(ch, descHookFail, one.Failed, name)
		constCounter(ch, descHookTime, one.TimedOut, name)
		m.hookTime.WithLabelValues(name)
	}
	constCounter(ch, descHookUnrun, h.Unrun)
	constGauge(ch, descQueued, float64(h.Pending))
	constCounter(ch, descReplayed, h.Replayed)
	constCounter(ch, descFull, h.FullWaits)
	if sp := h.Spool; sp != nil {
		constGauge(ch, descSpooled, float64(sp.Queued))
		constGauge(ch, descOnDisk, float64(sp.OnDisk))
		constCounter(ch, descSpilled, sp.Spilled)
		constCounter(ch, descLost, sp.Lost)
	}
}

func constCounter(ch chan<- prometheus.Metric, d *prometheus.Desc, v int64, labels ...string) {
	ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
}

func constGauge(ch chan<- prometheus.Metric, d *prometheus.Desc, v float64) {
	ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v)
}

// labelValues returns known and the other keys of counts, sorted: the
// label values to export, those known in advance even at 0.
func labelValues[K ~string](known []K, counts map[K]int64) []K {
	all := slices.Clone(known)
	for k := range counts {
		if !slices.Contains(all, k) {
			all = append(all, k)
		}
	}
	slices.Sort(all)
	return all
}

// serve listens on addr and serves /metrics until the returned stop
// function is called. A bad or busy address is an error at once.
func (m *metrics) serve(addr string, log *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics-addr = %q: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server stopped", "error", err)
		}
	}()
	log.Info("serving metrics", "addr", ln.Addr().String())
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}, nil
}
