package processor

import (
	"context"
	"errors"
	"io"
	"sync"

	"github.com/lc-voip/lc/internal/capture"
)

// Source is where packets come from: a capture.Merger over files, or a
// live interface. Next returns io.EOF when there is no more input.
//
// A Packet with nil Data is a clock tick, not a packet: a live source
// returns one now and then so that time moves on when no traffic arrives.
// Run hands it to Tick.
type Source interface {
	Next() (capture.Packet, error)
}

// Reading runs ahead of processing by at most readAhead packets.
const readAhead = 1024

// Run feeds every packet of src to p until src is exhausted, ctx is done
// (returning ctx's error) or writing fails. It does not Close p.
//
// Reading is a stage of its own: a goroutine calls src.Next, which parses
// the capture and copies each packet out of it, while this one decodes and
// writes the packets read before (see handoff). Packets keep their order,
// so the output is the same as reading and processing them in turn; src
// must allow Next to be called from another goroutine than Run's.
func (p *Processor) Run(ctx context.Context, src Source) error {
	h := newHandoff()
	go h.read(src)
	defer h.close()
	for {
		pkts, err := h.take(p.idle)
		for _, pkt := range pkts {
			if pkt.Data == nil {
				p.Tick(pkt.Info.Timestamp)
				continue
			}
			if err := p.Packet(pkt); err != nil {
				return err
			}
		}
		switch {
		case err == errStopped:
			return context.Cause(ctx)
		case errors.Is(err, io.EOF):
			return nil
		case err != nil:
			return err
		case ctx.Err() != nil:
			h.stop() // and process what was read
		}
	}
}

// idle finishes what waits for the writer, the events of the files and
// calls closed last among it, before Run waits for input: they do not
// wait for the next packet.
func (p *Processor) idle() {
	p.files.drain()
	p.fail(p.files.takeErr())
}

// errStopped ends reading when the processor stopped it.
var errStopped = errors.New("reading stopped")

// handoff passes packets from the reading goroutine to the processing
// one. The reader adds each packet as soon as it has it, never holding
// one back while it waits for the next: a capture read from a quiet pipe
// is processed as it comes. The processor takes all there are at once.
// The reader waits while readAhead packets wait.
//
// Each packet is a heap object of its own, made by the reader: the
// processor keeps some (a TCP segment waiting for the rest of its message,
// the last packet of each file) for as long as it needs, and a packet
// kept must not keep others alive with it, as packets sharing an array
// would.
type handoff struct {
	mu       sync.Mutex
	ready    sync.Cond // packets, or the end, for the processor
	room     sync.Cond // room, or the stop, for the reader
	pkts     []*capture.Packet
	err      error // what ended reading: io.EOF, the source's error, errStopped
	ended    bool  // the reader returned
	stopping bool  // the reader is to stop after the packet it is reading
}

func newHandoff() *handoff {
	h := &handoff{}
	h.ready.L, h.room.L = &h.mu, &h.mu
	return h
}

// read adds src's packets until src ends or fails, or stop is called.
func (h *handoff) read(src Source) {
	for {
		pkt, err := src.Next()
		var kept *capture.Packet
		if err == nil {
			kept = new(capture.Packet)
			*kept = pkt
		}
		h.mu.Lock()
		if err == nil {
			h.pkts = append(h.pkts, kept)
		}
		for err == nil && len(h.pkts) >= readAhead && !h.stopping {
			h.room.Wait()
		}
		if err == nil && h.stopping {
			err = errStopped
		}
		if err != nil {
			h.err, h.ended = err, true
		}
		if len(h.pkts) == 1 || h.ended {
			h.ready.Signal()
		}
		h.mu.Unlock()
		if err != nil {
			return
		}
	}
}

// take returns all the packets there are, calling idle first when there
// are none to wait for them; once reading ended and every packet was
// taken, it returns what ended it.
func (h *handoff) take(idle func()) ([]*capture.Packet, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.pkts) == 0 && !h.ended {
		h.mu.Unlock()
		idle()
		h.mu.Lock()
	}
	for len(h.pkts) == 0 && !h.ended {
		h.ready.Wait()
	}
	if len(h.pkts) == 0 {
		return nil, h.err
	}
	pkts := h.pkts
	h.pkts = make([]*capture.Packet, 0, min(2*len(pkts)+16, readAhead))
	h.room.Signal()
	return pkts, nil
}

// stop tells the reader to end once it has added the packet it is
// reading.
func (h *handoff) stop() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.stopping = true
	h.room.Signal()
}

// close stops the reader and waits until it returned, so that nothing
// reads src once Run has returned.
func (h *handoff) close() {
	h.stop()
	h.mu.Lock()
	defer h.mu.Unlock()
	for !h.ended {
		h.ready.Wait()
	}
}
