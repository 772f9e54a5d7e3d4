package natsbus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// subscribe makes the stream and the consumer, waiting for the broker
// until ctx is done.
func (w *Worker) subscribe(ctx context.Context) (jetstream.Consumer, error) {
	for attempt := 0; ; attempt++ {
		cons, err := w.trySubscribe(ctx)
		if err == nil {
			return cons, nil
		}
		if attempt == 0 {
			w.log.Warn("cannot reach the stream; trying again", "stream", w.cfg.Bus.Stream, "error", err)
		}
		if !sleep(ctx, backoff(attempt, 10*time.Second)) {
			return nil, err
		}
	}
}

func (w *Worker) trySubscribe(ctx context.Context) (jetstream.Consumer, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	s, err := ensureStream(ctx, w.js, w.cfg.Bus)
	if err != nil {
		return nil, err
	}
	w.stream = s
	if w.cfg.Bus.Files != "" {
		if w.files, err = ensureBucket(ctx, w.js, w.cfg.Bus.Files, w.cfg.Bus.MaxAge); err != nil {
			return nil, err
		}
	}
	cc := jetstream.ConsumerConfig{
		Durable:     w.cfg.Consumer,
		Description: "lc hooks worker",
		AckPolicy:   jetstream.AckExplicitPolicy,
		AckWait:     w.cfg.AckWait,
		MaxDeliver:  w.cfg.MaxDeliver,
	}
	if multipleFilters(w.nc.ConnectedServerVersion()) {
		cc.FilterSubjects = []string{subjectRoot + ".*." + callToken, subjectRoot + ".*." + pcapToken}
	} else {
		// Before 2.10 a consumer has one filter: lc.*.* takes the dead
		// letters too, which take skips.
		cc.FilterSubject = subjectRoot + ".*.*"
	}
	cons, err := s.CreateOrUpdateConsumer(ctx, cc)
	if err != nil {
		return nil, fmt.Errorf("consumer %s: %w", w.cfg.Consumer, err)
	}
	return cons, nil
}

// fetchWait is how long one pull request waits for messages. A Worker
// told to stop ends its last pull within it, and gives back what that
// pull brings.
const fetchWait = 500 * time.Millisecond

// fetch asks for as many messages as there is room for, and takes them,
// until ctx is done; it returns an error when the consumer is gone. A
// pull request lost with the connection ends on the client's side after
// fetchWait and a second, so a restarted server costs no more than that.
func (w *Worker) fetch(ctx context.Context, cons jetstream.Consumer) error {
	failures := 0 // in a row
	for {
		room := w.room(ctx)
		if room == 0 {
			return nil
		}
		batch, err := cons.Fetch(room, jetstream.FetchMaxWait(fetchWait))
		if err == nil {
			for msg := range batch.Messages() {
				room--
				w.take(ctx, msg)
			}
			err = batch.Error()
		}
		w.free(room)
		if err == nil || ctx.Err() != nil || w.nc.IsClosed() {
			failures = 0
			continue
		}
		if w.gone(ctx, cons, err) {
			return fmt.Errorf("consumer %s of stream %s was deleted; the worker stops rather than make it again, which would deliver every message the stream holds again", w.cfg.Consumer, w.cfg.Bus.Stream)
		}
		failures++
		level := slog.LevelDebug
		if failures == 1 {
			level = slog.LevelWarn
		}
		w.log.Log(ctx, level, "cannot take messages; trying again", "error", err, "failures_in_a_row", failures)
		sleep(ctx, 100*time.Millisecond)
	}
}

// gone reports whether the pull that failed with err failed because the
// consumer, or its stream, no longer exists.
func (w *Worker) gone(ctx context.Context, cons jetstream.Consumer, err error) bool {
	if errors.Is(err, jetstream.ErrConsumerDeleted) {
		return true
	}
	if !errors.Is(err, nats.ErrNoResponders) {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, getTimeout)
	defer cancel()
	_, err = cons.Info(ctx)
	return errors.Is(err, jetstream.ErrConsumerNotFound) || errors.Is(err, jetstream.ErrStreamNotFound)
}

// room waits until the Worker may hold one more message, and returns how
// many more it may hold, their slots taken; 0 when ctx is done first.
func (w *Worker) room(ctx context.Context) int {
	select {
	case w.slots <- struct{}{}:
	case <-ctx.Done():
		return 0
	}
	if ctx.Err() != nil {
		w.free(1)
		return 0
	}
	n := 1
	for n < cap(w.slots) {
		select {
		case w.slots <- struct{}{}:
			n++
		default:
			return n
		}
	}
	return n
}

// free gives back n slots.
func (w *Worker) free(n int) {
	for range n {
		<-w.slots
	}
}

// multipleFilters reports whether a server of version v takes a consumer
// with several filter subjects: 2.10 and later.
func multipleFilters(v string) bool {
	var major, minor int
	if _, err := fmt.Sscanf(v, "%d.%d", &major, &minor); err != nil {
		return true // not a version we know: assume a new server
	}
	return major > 2 || major == 2 && minor >= 10
}

// isWork reports whether subject is one a worker runs the hooks of:
// lc.<node>.call or lc.<node>.pcap.
func isWork(subject string) bool {
	parts := strings.Split(subject, ".")
	return len(parts) == 3 && parts[0] == subjectRoot && (parts[2] == callToken || parts[2] == pcapToken)
}

// take holds msg, in its slot, and has it prepared; a message that is
// not work (a dead letter, through the one filter of an old server) is
// acknowledged and its slot freed.
func (w *Worker) take(ctx context.Context, msg jetstream.Msg) {
	if !isWork(msg.Subject()) {
		msg.Ack()
		w.free(1)
		return
	}
	w.received.Add(1)
	t := &ticket{msg: msg, stop: w.ping(msg)}
	w.mu.Lock()
	w.held[t] = struct{}{}
	w.mu.Unlock()
	w.prepares.Add(1)
	go func() {
		defer w.prepares.Done()
		if w.prepare(ctx, t) {
			w.ready <- t // never waits: ready has room for every message held
		}
	}()
}
