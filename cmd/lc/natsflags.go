package main

import (
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/lc-voip/lc/internal/natsbus"
	"github.com/lc-voip/lc/internal/script"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/pflag"
)

// natsOptions are the flags that say which NATS server and stream to use:
// --events-to of lc process, --nats of lc hooks worker, and the --nats-*
// flags both have.
type natsOptions struct {
	urlFlag string // the name of the URL's flag
	url     string // "" is off (lc process)
	creds   string
	tlsCA   string
	tlsCert string
	tlsKey  string
	stream  string
	node    string
	files   string // --nats-object-store: the bucket of the pcap files; "" is none
	maxAge  time.Duration
}

// addFlags defines the flags on f, the URL's under the name urlFlag; the
// node's (whose name goes in the subjects lc publishes to) only when
// publishing.
func (o *natsOptions) addFlags(f *pflag.FlagSet, urlFlag, urlUsage string, publishing bool) {
	o.urlFlag = urlFlag
	f.StringVar(&o.url, urlFlag, "", urlUsage)
	f.StringVar(&o.creds, "nats-creds", "", "NATS credentials file (.creds: JWT and NKey seed)")
	f.StringVar(&o.tlsCA, "nats-tls-ca", "", "PEM file of the CAs that sign the NATS server's certificate")
	f.StringVar(&o.tlsCert, "nats-tls-cert", "", "PEM file of the client certificate, for a NATS server that verifies its clients (with --nats-tls-key)")
	f.StringVar(&o.tlsKey, "nats-tls-key", "", "PEM file of the client certificate's private key")
	f.StringVar(&o.stream, "nats-stream", natsbus.DefaultStream, "JetStream stream of lc's events (subjects lc.>), created when missing")
	f.DurationVar(&o.maxAge, "nats-max-age", natsbus.DefaultMaxAge, "how long the stream keeps events, and the object store files, when lc creates them (0: for ever)")
	if publishing {
		f.StringVar(&o.files, "nats-object-store", "", "put every closed pcap into this JetStream object store bucket (created when missing) before publishing its event")
	} else {
		f.StringVar(&o.files, "nats-object-store", "", "fetch the pcaps of each call or file from this JetStream object store bucket into a temporary directory for its hooks")
	}
	if publishing {
		f.StringVar(&o.node, "nats-node", defaultNode(), "this lc's name in the subjects it publishes to: lc.NODE.call, lc.NODE.pcap")
	}
}

// defaultNode is the host's name up to its first dot, which a subject
// token cannot hold.
func defaultNode() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		return "lc"
	}
	host, _, _ = strings.Cut(host, ".")
	return host
}

// enabled reports whether a server is given.
func (o *natsOptions) enabled() bool { return o.url != "" }

// config is the natsbus configuration of the flags.
func (o *natsOptions) config() natsbus.Config {
	return natsbus.Config{URL: o.url, Creds: o.creds, TLSCA: o.tlsCA, TLSCert: o.tlsCert, TLSKey: o.tlsKey, Stream: o.stream, Node: o.node, Files: o.files, MaxAge: o.maxAge}
}

// validate reports bad values, as flagErrors; nothing when off.
func (o *natsOptions) validate(publishing bool) []error {
	if !o.enabled() {
		if o.files != "" {
			return []error{&flagError{Flag: "nats-object-store", Value: o.files, Reason: "needs --" + o.urlFlag}}
		}
		return nil
	}
	var errs []error
	for _, u := range strings.Split(o.url, ",") {
		p, err := url.Parse(strings.TrimSpace(u))
		if err != nil || p.Host == "" || (p.Scheme != "nats" && p.Scheme != "tls") {
			errs = append(errs, &flagError{Flag: o.urlFlag, Value: o.url, Reason: "must be nats://HOST:PORT or tls://HOST:PORT (several separated by commas)"})
			break
		}
	}
	for _, f := range []struct{ flag, path string }{{"nats-creds", o.creds}, {"nats-tls-ca", o.tlsCA}, {"nats-tls-cert", o.tlsCert}, {"nats-tls-key", o.tlsKey}} {
		if f.path == "" {
			continue
		}
		if _, err := os.Stat(f.path); err != nil {
			errs = append(errs, &flagError{Flag: f.flag, Value: f.path, Reason: err.Error()})
		}
	}
	if err := natsbus.CheckMaxAge(o.maxAge, natsbus.DefaultDuplicates); err != nil {
		errs = append(errs, &flagError{Flag: "nats-max-age", Value: o.maxAge.String(), Reason: err.Error()})
	}
	if o.tlsCert != "" && o.tlsKey == "" {
		errs = append(errs, &flagError{Flag: "nats-tls-cert", Value: o.tlsCert, Reason: "needs --nats-tls-key"})
	}
	if o.tlsKey != "" && o.tlsCert == "" {
		errs = append(errs, &flagError{Flag: "nats-tls-key", Value: o.tlsKey, Reason: "needs --nats-tls-cert"})
	}
	cfg := o.config()
	cfg.MaxAge, cfg.TLSCert, cfg.TLSKey = 0, "", "" // checked above, each under its flag
	if !publishing {
		cfg.Node = "worker" // not used
	}
	if err := cfg.Validate(); err != nil {
		errs = append(errs, &flagError{Flag: o.urlFlag, Value: o.url, Reason: err.Error()})
	}
	return errs
}

// publisher is lc process's connection to the stream, when --events-to
// is given.
type publisher struct {
	*natsbus.Publisher
	close func()
}

// openPublisher connects to the server of opt (without waiting for it)
// and returns the publisher, which hooks must include; nil when off.
// outDir is the output directory, the root of the files' object names.
func openPublisher(opt natsOptions, outDir string, log *slog.Logger) (*publisher, error) {
	if !opt.enabled() {
		return nil, nil
	}
	cfg := opt.config()
	cfg.Root = outDir
	nc, err := natsbus.Connect(cfg, "lc process", log)
	if err != nil {
		return nil, err
	}
	p, err := natsbus.NewPublisher(nc, cfg, log)
	if err != nil {
		nc.Close()
		return nil, err
	}
	log.Info("publishing events", "nats", opt.url, "stream", opt.stream, "node", opt.node, "object_store", opt.files)
	return &publisher{Publisher: p, close: func() {
		st := p.Stats()
		log.Info("events published", "published", st.Published, "duplicates", st.Duplicates, "not_published", st.Backlog, "failed_attempts", st.Failures,
			"files_put", st.FilesPut, "files_missing", st.FilesGone)
		nc.Close()
	}}, nil
}

// hooks returns the publisher as the one hook of a list, or none.
func (p *publisher) hooks() []script.Hook {
	if p == nil {
		return nil
	}
	return []script.Hook{p.Publisher}
}

// natsMetrics exports the publisher's or a worker's figures, read at
// scrape time.
type natsMetrics struct {
	publisher func() natsbus.PublisherStats // nil in a worker
	worker    func() natsbus.WorkerStats    // nil in lc process
}

var (
	descPubBacklog = prometheus.NewDesc("lc_nats_publish_backlog_events", "Events waiting to be published to NATS JetStream: emitted and not yet acknowledged by the stream.", nil, nil)
	descPublished  = prometheus.NewDesc("lc_nats_published_events_total", "Events the stream acknowledged, duplicates included.", nil, nil)
	descPubDups    = prometheus.NewDesc("lc_nats_publish_duplicates_total", "Events the stream already had (the same event ID within its duplicate window).", nil, nil)
	descPubFails   = prometheus.NewDesc("lc_nats_publish_failures_total", "Publish attempts that failed and were retried.", nil, nil)
	descPubFiles   = prometheus.NewDesc("lc_nats_files_put_total", "Files put into the object store (--nats-object-store); a file it had already is not counted.", nil, nil)
	descPubGone    = prometheus.NewDesc("lc_nats_files_missing_total", "Files of events published without them: gone, or not under the output directory.", nil, nil)
	descWrkRecv    = prometheus.NewDesc("lc_worker_received_messages_total", "Messages delivered to this worker.", nil, nil)
	descWrkAcked   = prometheus.NewDesc("lc_worker_acked_messages_total", "Messages done: their hooks ran and none failed.", nil, nil)
	descWrkRetry   = prometheus.NewDesc("lc_worker_retried_messages_total", "Messages given back to be delivered again: a hook failed, or the worker stopped.", nil, nil)
	descWrkDead    = prometheus.NewDesc("lc_worker_dead_letters_total", "Messages put on the dead-letter subject after their last delivery.", nil, nil)
	descWrkHeld    = prometheus.NewDesc("lc_worker_held_messages", "Messages this worker holds now, queued or running.", nil, nil)
	descWrkFetched = prometheus.NewDesc("lc_worker_fetched_files_total", "Files fetched from the object store (--nats-object-store).", nil, nil)
)

// Describe implements prometheus.Collector.
func (m natsMetrics) Describe(ch chan<- *prometheus.Desc) {
	if m.publisher != nil {
		for _, d := range []*prometheus.Desc{descPubBacklog, descPublished, descPubDups, descPubFails, descPubFiles, descPubGone} {
			ch <- d
		}
	}
	if m.worker != nil {
		for _, d := range []*prometheus.Desc{descWrkRecv, descWrkAcked, descWrkRetry, descWrkDead, descWrkHeld, descWrkFetched} {
			ch <- d
		}
	}
}

// Collect implements prometheus.Collector.
func (m natsMetrics) Collect(ch chan<- prometheus.Metric) {
	if m.publisher != nil {
		st := m.publisher()
		constGauge(ch, descPubBacklog, float64(st.Backlog))
		constCounter(ch, descPublished, st.Published)
		constCounter(ch, descPubDups, st.Duplicates)
		constCounter(ch, descPubFails, st.Failures)
		constCounter(ch, descPubFiles, st.FilesPut)
		constCounter(ch, descPubGone, st.FilesGone)
	}
	if m.worker != nil {
		st := m.worker()
		constCounter(ch, descWrkRecv, st.Received)
		constCounter(ch, descWrkAcked, st.Acked)
		constCounter(ch, descWrkRetry, st.Retried)
		constCounter(ch, descWrkDead, st.Dead)
		constGauge(ch, descWrkHeld, float64(st.Held))
		constCounter(ch, descWrkFetched, st.Fetched)
	}
}

// errNoNATS is the reason of a missing --nats.
var errNoNATS = fmt.Errorf("lc hooks worker needs --nats nats://HOST:PORT")
