package natsbus

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lc-voip/lc/internal/event"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Publisher timing.
const (
	publishTimeout    = 5 * time.Second  // one attempt: publish and wait for the stream's ack
	publishMaxBackoff = 10 * time.Second // the longest wait between attempts
)

// PublisherName is the Publisher's name as a hook: in logs, counters
// and the journal's notes.
const PublisherName = "events-to"

// Publisher publishes events to the stream. It is a script.Hook: put in
// the hook engine's Set, it publishes every event in the engine's order
// (a call's FileClosed events, then its CallCompleted) and its run ends
// only when the stream has acknowledged the event, so the engine's
// journal holds the event until then and replays it after a crash.
//
// Run tries again, with a growing wait, until the stream acknowledges the
// event or its context is done; every message carries the event's ID as
// its Nats-Msg-Id, so that the stream stores an event published again
// (after a lost ack, or a replay) once. A Publisher is safe for
// concurrent use; Run may be called by several goroutines at once.
type Publisher struct {
	cfg Config
	nc  *nats.Conn
	js  jetstream.JetStream
	log *slog.Logger

	streamMu sync.Mutex
	streamOK bool                  // the stream exists
	files    jetstream.ObjectStore // Config.Files once found or made; nil before

	expected   sync.Map // event ID → struct{}: counted in backlog
	backlog    atomic.Int64
	published  atomic.Int64
	duplicates atomic.Int64
	failures   atomic.Int64
	down       atomic.Bool // the last attempt failed
	filesPut   atomic.Int64
	filesGone  atomic.Int64
}

// PublisherStats are a Publisher's figures.
type PublisherStats struct {
	Backlog    int64 // events given to Expect and not yet acknowledged (at the end: not published)
	Published  int64 // events the stream acknowledged
	Duplicates int64 // of which it had already (the same event ID in its duplicate window)
	Failures   int64 // attempts that failed (and were retried)
	FilesPut   int64 // files put into the object store (Config.Files); a file it had already is not counted
	FilesGone  int64 // files of events published without them: not found, or not under Config.Root
}

// NewPublisher returns a Publisher that publishes on nc as cfg says;
// log, nil to discard, receives its warnings. The stream, and the object
// store of cfg.Files, are looked up (and created when missing) at the
// first publish.
func NewPublisher(nc *nats.Conn, cfg Config, log *slog.Logger) (*Publisher, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Files != "" {
		if cfg.Root == "" {
			return nil, errors.New("an object store for files needs the directory they are under")
		}
		root, err := filepath.Abs(cfg.Root)
		if err != nil {
			return nil, fmt.Errorf("output directory %s: %w", cfg.Root, err)
		}
		cfg.Root = root
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Publisher{cfg: cfg.withDefaults(), nc: nc, js: js, log: log.With("component", "nats")}, nil
}

// Name implements script.Hook.
func (p *Publisher) Name() string { return PublisherName }

// Wants implements script.Hook: every event is published.
func (p *Publisher) Wants(event.Type) bool { return true }

// Expect counts ev in the backlog until Run has published it. lc calls it
// for every event it emits; events replayed from the journal are not
// counted.
func (p *Publisher) Expect(ev event.Event) {
	if _, dup := p.expected.LoadOrStore(ev.EventID(), struct{}{}); !dup {
		p.backlog.Add(1)
	}
}

// Run implements script.Hook: it publishes ev and waits for the stream's
// acknowledgement, trying again until it comes or ctx is done. With
// Config.Files, the file a FileClosed event names is put into the object
// store first, as <node>/<path relative to Config.Root>.
func (p *Publisher) Run(ctx context.Context, ev event.Event) error {
	msg := &nats.Msg{Subject: subjectOf(p.cfg.Node, ev), Data: event.AppendJSON(nil, ev), Header: nats.Header{}}
	msg.Header.Set(jetstream.MsgIDHeader, ev.EventID())
	fileDone := p.cfg.Files == ""
	if !fileDone {
		msg.Header.Set(HeaderRoot, p.cfg.Root)
	}
	for attempt := 0; ; attempt++ {
		var err error
		if !fileDone {
			err = p.putFile(ctx, ev)
			fileDone = err == nil
		}
		if err == nil {
			err = p.publish(ctx, msg)
		}
		if err == nil {
			p.forget(ev)
			if p.down.Swap(false) {
				p.log.Info("publishing events again", "stream", p.cfg.Stream)
			}
			return nil
		}
		p.failures.Add(1)
		if !p.down.Swap(true) {
			p.log.Warn("cannot publish events; trying again until the stream takes them", "stream", p.cfg.Stream, "error", err)
		}
		if !sleep(ctx, backoff(attempt, publishMaxBackoff)) {
			return fmt.Errorf("publish to %s: %w (last error: %v)", msg.Subject, context.Cause(ctx), err)
		}
	}
}

// forget takes ev, published, out of the backlog.
func (p *Publisher) forget(ev event.Event) {
	if _, ok := p.expected.LoadAndDelete(ev.EventID()); ok {
		p.backlog.Add(-1)
	}
}

// publish makes one attempt.
func (p *Publisher) publish(ctx context.Context, msg *nats.Msg) error {
	if !p.nc.IsConnected() {
		return fmt.Errorf("not connected to %s", p.cfg.URL)
	}
	ctx, cancel := context.WithTimeout(ctx, publishTimeout)
	defer cancel()
	if err := p.ensureStream(ctx); err != nil {
		return err
	}
	ack, err := p.js.PublishMsg(ctx, msg, jetstream.WithExpectStream(p.cfg.Stream))
	if err != nil {
		p.streamMu.Lock()
		p.streamOK = false // look again: it may have been deleted
		p.streamMu.Unlock()
		return err
	}
	p.published.Add(1)
	if ack.Duplicate {
		p.duplicates.Add(1)
	}
	return nil
}

// putFile puts the file ev names, if it is a FileClosed event, into the
// object store. A file that is gone, or not under Config.Root, is left
// out with a warning: the event is published without it.
func (p *Publisher) putFile(ctx context.Context, ev event.Event) error {
	fc, ok := ev.(event.FileClosed)
	if !ok {
		return nil
	}
	name, ok := objectName(p.cfg.Node, p.cfg.Root, fc.Path)
	if !ok {
		p.filesGone.Add(1)
		p.log.Warn("file not under the output directory: published without it", "file", fc.Path, "root", p.cfg.Root)
		return nil
	}
	if !p.nc.IsConnected() {
		return fmt.Errorf("not connected to %s", p.cfg.URL)
	}
	ctx, cancel := context.WithTimeout(ctx, fileTimeout)
	defer cancel()
	obs, err := p.bucket(ctx)
	if err != nil {
		return err
	}
	put, err := putFile(ctx, obs, name, fc.Path)
	if errors.Is(err, fs.ErrNotExist) {
		p.filesGone.Add(1)
		p.log.Warn("file gone: its event is published without it", "file", fc.Path)
		return nil
	}
	if put {
		p.filesPut.Add(1)
	}
	return err
}

// bucket returns the object store, looking it up (or making it) the
// first time.
func (p *Publisher) bucket(ctx context.Context) (jetstream.ObjectStore, error) {
	p.streamMu.Lock()
	defer p.streamMu.Unlock()
	if p.files != nil {
		return p.files, nil
	}
	obs, err := ensureBucket(ctx, p.js, p.cfg.Files, p.cfg.MaxAge)
	if err != nil {
		return nil, err
	}
	p.files = obs
	return obs, nil
}

func (p *Publisher) ensureStream(ctx context.Context) error {
	p.streamMu.Lock()
	defer p.streamMu.Unlock()
	if p.streamOK {
		return nil
	}
	if _, err := ensureStream(ctx, p.js, p.cfg); err != nil {
		return err
	}
	p.streamOK = true
	return nil
}

// Stats returns the figures so far. Safe from any goroutine.
func (p *Publisher) Stats() PublisherStats {
	return PublisherStats{
		Backlog:    p.backlog.Load(),
		Published:  p.published.Load(),
		Duplicates: p.duplicates.Load(),
		Failures:   p.failures.Load(),
		FilesPut:   p.filesPut.Load(),
		FilesGone:  p.filesGone.Load(),
	}
}
