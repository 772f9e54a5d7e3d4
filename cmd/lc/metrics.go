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
	"github.com/lc-voip/lc/internal/script"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are lc's Prometheus metrics. Counters and gauges are read at
// scrape time from the processor's published stats and the hook engine's
// counts, so nothing is added to the packet path; the hook duration
// histogram is fed by the engine's Observe callback.
type metrics struct {
	registry *prometheus.Registry
	hookTime *prometheus.HistogramVec
	sources  metricSources
}

// metricSources are where the scrape-time figures come from. Either may
// be nil until the run starts.
type metricSources struct {
	counters *processor.Counters
	hooks    func() *script.EngineStats
	capture  func() []live.Stats    // nil result when reading files
	journal  func() *journalFigures // nil result without a journal
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
	}
	m.registry.MustRegister(m.hookTime, m, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// observe is the engine's Observe callback.
func (m *metrics) observe(hook string, took time.Duration, _ error) {
	m.hookTime.WithLabelValues(hook).Observe(took.Seconds())
}

var (
	descPackets   = prometheus.NewDesc("lc_packets_total", "Input packets read.", nil, nil)
	descBytes     = prometheus.NewDesc("lc_bytes_total", "Input bytes read (captured lengths).", nil, nil)
	descWritten   = prometheus.NewDesc("lc_written_packets_total", "Packet records written, by output kind.", []string{"kind"}, nil)
	descCopies    = prometheus.NewDesc("lc_packet_copies_total", "Packets written to a second file (a TCP segment carrying messages of several calls).", nil, nil)
	descFiltered  = prometheus.NewDesc("lc_filtered_packets_total", "Packets not written because their kind of output is switched off.", nil, nil)
	descFailed    = prometheus.NewDesc("lc_failed_packets_total", "Packets kept out of the files by a write error (disk full, I/O error).", nil, nil)
	descFileErrs  = prometheus.NewDesc("lc_file_errors_total", "Output files cut short by a write error; their events carry it.", nil, nil)
	descNotes     = prometheus.NewDesc("lc_anomalies_total", "Packets noted as unusual (still written to the other files), by reason.", []string{"reason"}, nil)
	descCalls     = prometheus.NewDesc("lc_calls_total", "Calls ended, by end state.", []string{"state"}, nil)
	descOpenCalls = prometheus.NewDesc("lc_open_calls", "Calls open now.", nil, nil)
	descOpenFiles = prometheus.NewDesc("lc_open_files", "Output files open now.", nil, nil)
	descFiles     = prometheus.NewDesc("lc_files_closed_total", "Output files closed.", nil, nil)
	descHookRuns  = prometheus.NewDesc("lc_hook_runs_total", "Hook runs finished.", nil, nil)
	descHookFail  = prometheus.NewDesc("lc_hook_failures_total", "Hook runs that failed, timeouts included.", nil, nil)
	descHookTime  = prometheus.NewDesc("lc_hook_timeouts_total", "Hook runs that ran out of time.", nil, nil)
	descHookUnrun = prometheus.NewDesc("lc_hooks_unrun_total", "Hook runs never started because the shutdown deadline passed.", nil, nil)
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
)

// Describe implements prometheus.Collector.
func (m *metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descPackets, descBytes, descWritten, descCopies, descFiltered, descFailed, descFileErrs, descNotes,
		descCalls, descOpenCalls, descOpenFiles, descFiles, descHookRuns, descHookFail, descHookTime, descHookUnrun, descQueued, descFull,
		descReceived, descKernDrop, descIfDrop, descSpooled, descOnDisk, descSpilled, descLost,
		descReplayed, descRecCalls, descRecFiles, descJrnlOpen, descJrnlErrs, descJrnlSync} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	counter := func(d *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v int64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v))
	}
	if m.sources.capture != nil {
		for _, st := range m.sources.capture() {
			counter(descReceived, st.Received, st.Interface)
			counter(descKernDrop, st.KernelDrops, st.Interface)
			if st.InterfaceDrops >= 0 {
				counter(descIfDrop, st.InterfaceDrops, st.Interface)
			}
		}
	}
	if c := m.sources.counters; c != nil {
		st := c.Published()
		counter(descPackets, st.Packets)
		counter(descBytes, st.Bytes)
		for _, k := range []event.FileKind{event.KindSIP, event.KindRTP, event.KindOther} {
			counter(descWritten, st.Written[k], string(k))
		}
		counter(descCopies, st.Copies)
		counter(descFiltered, st.Filtered)
		counter(descFailed, st.Failed)
		counter(descFileErrs, st.FileErrors)
		for _, r := range slices.Sorted(maps.Keys(st.Notes)) {
			counter(descNotes, st.Notes[r], r)
		}
		for _, s := range slices.Sorted(maps.Keys(st.Calls)) {
			counter(descCalls, st.Calls[s], string(s))
		}
		gauge(descOpenCalls, st.OpenCalls)
		gauge(descOpenFiles, st.OpenFiles)
		counter(descFiles, st.Files)
	}
	if m.sources.hooks != nil {
		if h := m.sources.hooks(); h != nil {
			counter(descHookRuns, h.Runs)
			counter(descHookFail, h.Failed)
			counter(descHookTime, h.TimedOut)
			counter(descHookUnrun, h.Unrun)
			gauge(descQueued, h.Pending)
			counter(descReplayed, h.Replayed)
			counter(descFull, h.FullWaits)
			if sp := h.Spool; sp != nil {
				gauge(descSpooled, sp.Queued)
				gauge(descOnDisk, sp.OnDisk)
				counter(descSpilled, sp.Spilled)
				counter(descLost, sp.Lost)
			}
		}
	}
	if m.sources.journal != nil {
		if j := m.sources.journal(); j != nil {
			counter(descRecCalls, int64(j.resumed.recovered.Calls))
			counter(descRecFiles, int64(j.resumed.recovered.Files))
			gauge(descJrnlOpen, int64(j.stats.Open))
			counter(descJrnlErrs, j.stats.WriteErrors)
			counter(descJrnlSync, j.stats.SyncErrors)
		}
	}
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
