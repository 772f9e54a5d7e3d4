package natsbus

import (
	"context"
	"encoding/json"
	"strconv"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Headers of a dead letter.
const (
	HeaderSubject    = "Lc-Subject"    // the subject the message was published to
	HeaderDeliveries = "Lc-Deliveries" // how often it was delivered
	HeaderReason     = "Lc-Reason"     // why it failed the last time
)

// bury puts t's message on the dead-letter subject at once.
func (w *Worker) bury(t *ticket, reason string) {
	if !w.release(t) {
		return
	}
	n := uint64(1)
	if md, err := t.msg.Metadata(); err == nil {
		n = md.NumDelivered
	}
	w.putDead(t, n, reason)
}

// putDead publishes t's message to lc.<node>.dead and terminates its
// delivery.
func (w *Worker) putDead(t *ticket, deliveries uint64, reason string) {
	m := deadLetter(t.msg.Subject(), t.msg.Data(), t.msg.Headers().Get(jetstream.MsgIDHeader), deliveries, reason)
	if _, err := w.publishDead(m); err != nil {
		w.log.Error("dead letter not published; the message is given back", "subject", t.msg.Subject(), "error", err)
		t.msg.NakWithDelay(w.cfg.RetryDelay)
		return
	}
	w.log.Error("message failed on every delivery: put on the dead-letter subject", "subject", t.msg.Subject(), "dead_subject", m.Subject, "deliveries", deliveries, "reason", reason)
	t.msg.Term()
}

// deadLetter is the dead letter of the message published to subject
// with data and the message ID id ("" none).
func deadLetter(subject string, data []byte, id string, deliveries uint64, reason string) *nats.Msg {
	m := &nats.Msg{Subject: DeadSubject(nodeOf(subject)), Data: data, Header: nats.Header{}}
	m.Header.Set(HeaderSubject, subject)
	m.Header.Set(HeaderDeliveries, strconv.FormatUint(deliveries, 10))
	m.Header.Set(HeaderReason, reason)
	if id != "" {
		m.Header.Set(jetstream.MsgIDHeader, "dead:"+id)
	}
	return m
}

// publishDead publishes the dead letter m and counts it, unless the
// stream had it already (another worker published it): then it reports
// true.
func (w *Worker) publishDead(m *nats.Msg) (bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), publishTimeout)
	defer cancel()
	ack, err := w.js.PublishMsg(ctx, m)
	if err != nil {
		return false, err
	}
	if !ack.Duplicate {
		w.dead.Add(1)
	}
	return ack.Duplicate, nil
}

// maxDeliveriesAdvisory is the subject of the advisory the server
// publishes when a message of the consumer has been delivered
// MaxDeliver times and will not be again.
func maxDeliveriesAdvisory(stream, consumer string) string {
	return "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES." + stream + "." + consumer
}

// advisory is the part of the max-deliveries advisory a Worker reads.
type advisory struct {
	StreamSeq  uint64 `json:"stream_seq"`
	Deliveries uint64 `json:"deliveries"`
}

// watchMaxDeliveries puts on the dead-letter subject the messages that
// ran out of deliveries without a worker putting them there: their last
// delivery was never acknowledged (its worker died, or was cut off) or
// was given back (its worker stopped). Every worker gets the advisory;
// the dead letter's message ID makes the stream keep one. It returns the
// function that stops watching.
func (w *Worker) watchMaxDeliveries() (stop func(), err error) {
	sub, err := w.nc.Subscribe(maxDeliveriesAdvisory(w.cfg.Bus.Stream, w.cfg.Consumer), func(msg *nats.Msg) {
		var a advisory
		if err := json.Unmarshal(msg.Data, &a); err != nil || a.StreamSeq == 0 {
			w.log.Warn("unreadable max-deliveries advisory", "data", string(msg.Data))
			return
		}
		w.buryUnacked(a)
	})
	if err != nil {
		return nil, err
	}
	return func() { sub.Unsubscribe() }, nil
}

// buryUnacked publishes the dead letter of the message the advisory a
// names.
func (w *Worker) buryUnacked(a advisory) {
	ctx, cancel := context.WithTimeout(context.Background(), publishTimeout)
	defer cancel()
	raw, err := w.stream.GetMsg(ctx, a.StreamSeq)
	if err != nil {
		w.log.Error("a message ran out of deliveries and cannot be read to put it on the dead-letter subject", "stream_seq", a.StreamSeq, "error", err)
		return
	}
	reason := "its last delivery was not acknowledged: the worker that held it died, lost the server, or stopped"
	m := deadLetter(raw.Subject, raw.Data, raw.Header.Get(jetstream.MsgIDHeader), a.Deliveries, reason)
	dup, err := w.publishDead(m)
	if err != nil {
		w.log.Error("dead letter not published", "subject", raw.Subject, "stream_seq", a.StreamSeq, "error", err)
		return
	}
	if dup {
		return // another worker put it there
	}
	w.log.Error("message ran out of deliveries: put on the dead-letter subject", "subject", raw.Subject, "dead_subject", m.Subject, "deliveries", a.Deliveries, "reason", reason)
}
