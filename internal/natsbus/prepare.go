package natsbus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/lc-voip/lc/internal/event"
	"github.com/lc-voip/lc/internal/script"
	"github.com/nats-io/nats.go/jetstream"
)

// prepare decodes t's message, reads the file events of a call, and
// fetches the files of the events the hooks want. It sets t.evs and
// reports true, or settles t when there is nothing to run or it cannot be
// prepared.
func (w *Worker) prepare(ctx context.Context, t *ticket) bool {
	if ctx.Err() != nil {
		w.settle(t, giveBack, "the worker stopped")
		return false
	}
	msg := t.msg
	ev, err := event.Decode(msg.Data())
	if err != nil {
		w.bury(t, fmt.Sprintf("not an lc event: %v", err))
		return false
	}
	evs := []event.Event{ev}
	if call, ok := ev.(event.CallCompleted); ok {
		files, err := w.callFiles(ctx, msg, call)
		if err != nil {
			w.settle(t, giveBack, fmt.Sprintf("read the call's files: %v", err))
			return false
		}
		evs = append(files, ev)
	}
	var wanted []event.Event
	for _, e := range evs {
		if wants(w.set.Hooks, e.Type()) {
			wanted = append(wanted, e)
		}
	}
	if len(wanted) == 0 {
		w.settle(t, done, "")
		return false
	}
	if root := msg.Headers().Get(HeaderRoot); w.files != nil && root != "" {
		local, cleanup, err := w.fetchFiles(ctx, w.files, nodeOf(msg.Subject()), root, wanted)
		if err != nil {
			result := failed // a file that cannot be fetched ends as a dead letter
			if ctx.Err() != nil {
				result = giveBack
			}
			w.settle(t, result, err.Error())
			return false
		}
		wanted, t.cleanup = local, cleanup
	}
	t.evs = wanted
	return true
}

// submit submits the events of each prepared message to the engine,
// until Run closes w.ready.
func (w *Worker) submit() {
	for t := range w.ready {
		last := t.evs[len(t.evs)-1].EventID()
		w.mu.Lock()
		w.tickets[last] = append(w.tickets[last], t)
		w.mu.Unlock()
		for _, e := range t.evs {
			w.engine.Submit(e)
		}
	}
}

func wants(hooks []script.Hook, t event.Type) bool {
	for _, h := range hooks {
		if h.Wants(t) {
			return true
		}
	}
	return false
}

// callFiles reads the FileClosed events of call's files, stored before
// msg on the call's files subject, in the order they were published; an
// event stored twice (published again beyond the duplicate window) is
// taken once.
func (w *Worker) callFiles(ctx context.Context, msg jetstream.Msg, call event.CallCompleted) ([]event.Event, error) {
	paths := call.Files()
	if len(paths) == 0 {
		return nil, nil
	}
	md, err := msg.Metadata()
	if err != nil {
		return nil, err
	}
	want := make(map[string]bool, len(paths))
	for _, p := range paths {
		want[p] = true
	}
	subject := CallFilesSubject(nodeOf(msg.Subject()), call.CallID)
	seen := make(map[string]bool)
	var files []event.Event
	for seq := uint64(1); seq < md.Sequence.Stream; {
		raw, err := w.getMsg(ctx, seq, subject)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			break
		}
		if err != nil {
			return nil, err
		}
		if raw.Sequence >= md.Sequence.Stream {
			break
		}
		seq = raw.Sequence + 1
		ev, err := event.Decode(raw.Data)
		f, ok := ev.(event.FileClosed)
		if err != nil || !ok || f.CallID != call.CallID || !want[f.Path] || seen[f.ID] {
			continue // another call of the same Call-ID, or a duplicate
		}
		seen[f.ID] = true
		files = append(files, f)
	}
	if len(files) < len(paths) {
		w.log.Warn("the stream no longer has every file event of the call; running the hooks of those it has",
			"callid", call.CallID, "files", len(paths), "found", len(files))
	}
	return files, nil
}

// getMsg tries up to three times, each within getTimeout, to read the
// first message on subject from seq on: a request lost with the
// connection is not waited for longer than that.
func (w *Worker) getMsg(ctx context.Context, seq uint64, subject string) (*jetstream.RawStreamMsg, error) {
	var err error
	for attempt := range 3 {
		if attempt > 0 && !sleep(ctx, backoff(attempt, time.Second)) {
			break
		}
		actx, cancel := context.WithTimeout(ctx, getTimeout)
		var raw *jetstream.RawStreamMsg
		raw, err = w.stream.GetMsg(actx, seq, jetstream.WithGetMsgSubject(subject))
		cancel()
		if err == nil || errors.Is(err, jetstream.ErrMsgNotFound) || ctx.Err() != nil {
			return raw, err
		}
	}
	return nil, err
}

// getTimeout bounds one attempt of getMsg.
const getTimeout = 2 * time.Second
