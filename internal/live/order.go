package live

import (
	"time"

	"github.com/lc-voip/lc/internal/capture"
)

// order hands out the packets of several interfaces in timestamp order.
//
// Each interface's packets arrive in blocks, in their own order, but the
// kernel hands a block over only when it is full or after a timeout, and
// each interface has a reader of its own that the scheduler may hold back
// for any time, so one interface's packets can reach order long after
// another's: on a network tap with one interface per direction, an INVITE
// could otherwise reach the processor after its 100 Trying.
//
// So each interface also has a watermark, raised by its reader (mark): the
// time up to which the interface is known complete, every packet older
// than it already handed to order. The oldest queued packet is safe to hand
// out once no other interface can still deliver an older one: when every
// other interface has a packet queued (which is no older) or a watermark
// at or past the packet's time. Whether that takes a millisecond or a
// second does not matter to the result; only watermarks and queued packets
// decide it.
//
// A reader that stops publishing (held back for seconds) would stall the
// others for good; so as a last resort a packet also goes out once
// fallback has passed since its time by the wall clock (next reports when:
// due) and the caller has taken everything the readers sent, trusting
// that every interface has delivered what is that old. The fallback is far
// longer than a block can wait in the kernel, so it acts only when a
// reader is stuck, and then at worst a packet comes out of order (the
// processor counts it) instead of capture stopping. Queued packets are
// held in memory meanwhile: at most fallback's worth of traffic.
type order struct {
	queues   [][][]capture.Packet // per interface: batches, oldest first
	marks    []time.Time          // per interface: known complete before this time
	fallback time.Duration
}

// newOrder returns an order for that many interfaces, none of them known
// complete yet, with the given wall-clock fallback.
func newOrder(interfaces int, fallback time.Duration) *order {
	return &order{
		queues:   make([][][]capture.Packet, interfaces),
		marks:    make([]time.Time, interfaces),
		fallback: fallback,
	}
}

// add queues a batch of interface i's packets.
func (o *order) add(i int, b []capture.Packet) {
	if len(b) > 0 {
		o.queues[i] = append(o.queues[i], b)
	}
}

// mark records that interface i has delivered every packet older than t.
// A watermark never goes back: an older one is ignored.
func (o *order) mark(i int, t time.Time) {
	o.marks[i] = maxTime(o.marks[i], t)
}

// empty reports whether no packet is queued.
func (o *order) empty() bool {
	for _, q := range o.queues {
		if len(q) > 0 {
			return false
		}
	}
	return true
}

// next returns the oldest queued packet if no other interface can still
// deliver an older one, or at once when final (no interface will deliver
// more, or the fallback has passed). Otherwise ok is false and due is the
// wall time at which the fallback lets the packet out; due is zero when
// nothing is queued. next does not read the clock: the caller compares
// due with it, only when a packet waits, so a single interface costs no
// clock reading per packet.
func (o *order) next(final bool) (p capture.Packet, ok bool, due time.Time) {
	oldest := -1
	for i, q := range o.queues {
		if len(q) > 0 && (oldest < 0 || q[0][0].Info.Timestamp.Before(o.queues[oldest][0][0].Info.Timestamp)) {
			oldest = i
		}
	}
	if oldest < 0 {
		return capture.Packet{}, false, time.Time{}
	}
	q := o.queues[oldest]
	if t := q[0][0].Info.Timestamp; !final && o.held(oldest, t) {
		return capture.Packet{}, false, t.Add(o.fallback)
	}
	p = q[0][0]
	q[0][0] = capture.Packet{} // drop the reference
	if q[0] = q[0][1:]; len(q[0]) == 0 {
		q[0] = nil
		o.queues[oldest] = q[1:]
	}
	return p, true, time.Time{}
}

// held reports whether an interface other than k could still deliver a
// packet older than t: one with neither a packet queued nor a watermark at
// or past t.
func (o *order) held(k int, t time.Time) bool {
	for j, q := range o.queues {
		if j != k && len(q) == 0 && o.marks[j].Before(t) {
			return true
		}
	}
	return false
}

// complete returns the time before which every interface is known to have
// delivered all its packets at wall time now: the lowest watermark, but no
// lower than fallback before now. A clock tick at that time runs ahead of
// no packet still to come.
func (o *order) complete(now time.Time) time.Time {
	t := now
	for _, m := range o.marks {
		t = minTime(t, m)
	}
	return maxTime(t, now.Add(-o.fallback))
}

// minTime returns the earlier of a and b.
func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// maxTime returns the later of a and b.
func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
