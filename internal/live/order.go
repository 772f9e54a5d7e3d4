package live

import (
	"time"

	"github.com/lc-voip/lc/internal/capture"
)

// order hands out the packets of several interfaces in timestamp order.
//
// Each interface's packets arrive in blocks, in their own order, but the
// kernel hands a block over only when it is full or retireTimeout after
// its first packet, so one interface's blocks can lag another's: on a
// network tap with one interface per direction, an INVITE could otherwise
// reach the processor after its 100 Trying. The oldest queued packet is
// safe to hand out once no other interface can still deliver an older
// one: when every other interface has a packet queued (which is no
// older), or when lag has passed since the packet's time, by which the
// kernel has handed over every block that could hold an older packet.
type order struct {
	queues [][][]capture.Packet // per interface: batches, oldest first
	lag    time.Duration
}

func newOrder(interfaces int, lag time.Duration) *order {
	return &order{queues: make([][][]capture.Packet, interfaces), lag: lag}
}

// add queues a batch of interface i's packets.
func (o *order) add(i int, b []capture.Packet) {
	if len(b) > 0 {
		o.queues[i] = append(o.queues[i], b)
	}
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

// next returns the oldest queued packet if it is safe to hand out at
// now(), or at once when final (no interface will deliver more). Otherwise
// ok is false and wait says how long until it is safe; wait is 0 when
// nothing is queued. now is read only when another interface has nothing
// queued, so a single interface costs no clock reading per packet.
func (o *order) next(now func() time.Time, final bool) (p capture.Packet, ok bool, wait time.Duration) {
	oldest, all := -1, true
	for i, q := range o.queues {
		switch {
		case len(q) == 0:
			all = false
		case oldest < 0 || q[0][0].Info.Timestamp.Before(o.queues[oldest][0][0].Info.Timestamp):
			oldest = i
		}
	}
	if oldest < 0 {
		return capture.Packet{}, false, 0
	}
	q := o.queues[oldest]
	if !all && !final {
		if wait := q[0][0].Info.Timestamp.Add(o.lag).Sub(now()); wait > 0 {
			return capture.Packet{}, false, wait
		}
	}
	p = q[0][0]
	q[0][0] = capture.Packet{} // drop the reference
	if q[0] = q[0][1:]; len(q[0]) == 0 {
		q[0] = nil
		o.queues[oldest] = q[1:]
	}
	return p, true, 0
}
