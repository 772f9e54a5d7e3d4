package decode

import (
	"sort"
	"time"

	"github.com/lc-voip/lc/internal/capture"
)

// fragKey identifies the datagram a fragment belongs to. IPv4 addresses
// use the first 4 bytes of src and dst. depth is the tunnel depth of the
// fragmented IP header, so an outer and an inner datagram never mix.
type fragKey struct {
	src, dst [16]byte
	id       uint32
	proto    uint8
	v6       bool
	depth    uint8
}

// fragPiece is a run of datagram bytes held from one fragment; pieces never
// overlap.
type fragPiece struct {
	off  int
	data []byte // aliases the fragment's packet data
}

func (p fragPiece) end() int { return p.off + len(p.data) }

// fragQueue holds the fragments of one incomplete datagram.
type fragQueue struct {
	key     fragKey
	first   time.Time   // packet time of the first fragment
	pieces  []fragPiece // sorted by offset
	covered int         // bytes in pieces
	total   int         // datagram length once the last fragment is known, else -1
	maxEnd  int         // highest end offset held
	cost    int         // charged against MaxFragmentBytes and the budget
	born    uint64      // arrival number of the first fragment
	pkts    []*capture.Packet
	ords    []uint64

	order links[fragQueue] // in defragmenter.order
}

// defragmenter is the set of incomplete datagrams, oldest first.
type defragmenter struct {
	queues map[fragKey]*fragQueue
	order  list[fragQueue] // oldest first
	bytes  int             // sum of cost
}

func newDefragmenter() defragmenter {
	return defragmenter{
		queues: make(map[fragKey]*fragQueue),
		order:  list[fragQueue]{at: func(q *fragQueue) *links[fragQueue] { return &q.order }},
	}
}

func (f *defragmenter) push(q *fragQueue) {
	f.queues[q.key] = q
	f.order.pushBack(q)
}

// chargeDatagram adds n bytes to the cost of q, in the defragmenter and in
// the budget.
func (d *Decoder) chargeDatagram(q *fragQueue, n int) {
	q.cost += n
	d.frags.bytes += n
	d.mem.add(n)
}

// forgetDatagram stops tracking q and releases its cost.
func (d *Decoder) forgetDatagram(q *fragQueue) {
	f := &d.frags
	delete(f.queues, q.key)
	f.order.remove(q)
	f.bytes -= q.cost
	d.mem.add(-q.cost)
}

// fragResult says what addFragment did with a fragment.
type fragResult uint8

const (
	fragTaken fragResult = iota // held, or emitted because of a limit
	fragDone                    // the datagram is complete
	fragBad                     // the fragment reaches past the largest datagram; the caller rejects it
)

// addFragment adds the fragment at byte offset off of datagram k. When it
// completes the datagram it returns the reassembled payload and every packet
// of every fragment, duplicates included, in capture order.
func (d *Decoder) addFragment(k fragKey, off int, more bool, data []byte, c carrier, emit func(Unit)) ([]byte, carrier, fragResult) {
	f := &d.frags
	d.stats.Fragments++
	if off+len(data) > maxDatagram {
		return nil, carrier{}, fragBad
	}
	q := f.queues[k]
	if q != nil && d.now.Sub(q.first) > d.cfg.FragmentTimeout {
		d.dropFragments(q, NoteFragmentTimeout, &d.stats.FragmentTimeouts, emit)
		q = nil
	}
	// Room is made as for a new datagram: q may be given up to make it.
	cost := len(data) + packetOverhead*len(c.pkts)
	if !d.roomForFragment(cost+datagramOverhead, emit) {
		d.other(Unit{Note: NoteFragmentOverflow, Packets: c.pkts}, emit)
		return nil, carrier{}, fragTaken
	}
	if q != nil && !q.order.in {
		q = nil // given up to make room
	}
	if q == nil {
		q = &fragQueue{key: k, first: d.now, total: -1, born: d.arrivals}
		f.push(q)
		d.chargeDatagram(q, datagramOverhead)
	}
	q.pkts = append(q.pkts, c.pkts...)
	q.ords = append(q.ords, c.ords...)
	d.chargeDatagram(q, cost)
	if q.insert(off, more, data) {
		d.stats.FragmentOverlaps++
	}
	if q.total >= 0 && q.covered == q.total {
		d.forgetDatagram(q)
		d.stats.FragmentsReassembled++
		buf := make([]byte, q.total)
		for _, p := range q.pieces {
			copy(buf[p.off:], p.data)
		}
		return buf, carrier{pkts: q.pkts, ords: q.ords}, fragDone
	}
	if len(q.pkts) > maxFragmentsPerDatagram {
		d.dropFragments(q, NoteFragmentOverflow, &d.stats.FragmentOverflows, emit)
	}
	return nil, carrier{}, fragTaken
}

// roomForFragment makes room for a fragment costing cost: the oldest
// datagrams go first to stay within MaxFragmentBytes, then the oldest
// holders of any kind to stay within MaxBufferedBytes. It reports false,
// giving up nothing, for a fragment larger than either limit on its own.
func (d *Decoder) roomForFragment(cost int, emit func(Unit)) bool {
	f := &d.frags
	switch {
	case cost > d.cfg.MaxFragmentBytes:
		d.stats.FragmentOverflows++
		return false
	case int64(cost) > d.cfg.MaxBufferedBytes:
		d.stats.BudgetUnbuffered++
		return false
	}
	for f.bytes+cost > d.cfg.MaxFragmentBytes && f.order.head != nil {
		d.dropFragments(f.order.head, NoteFragmentOverflow, &d.stats.FragmentOverflows, emit)
	}
	return d.makeRoom(cost, nil, emit)
}

// insert adds the bytes of a fragment that no earlier fragment supplied
// (the first copy of a byte wins) and reports whether any byte was
// repeated, overlapped or inconsistent with the known datagram length.
func (q *fragQueue) insert(off int, more bool, data []byte) (overlap bool) {
	end := off + len(data)
	if !more {
		switch {
		case q.total < 0 && end >= q.maxEnd:
			q.total = end
		case q.total != end:
			overlap = true
		}
	}
	if q.total >= 0 && end > q.total {
		overlap = true
		if off >= q.total {
			return overlap
		}
		data = data[:q.total-off]
		end = q.total
	}
	if len(data) == 0 {
		return overlap
	}
	i := sort.Search(len(q.pieces), func(i int) bool { return q.pieces[i].end() > off })
	cur := off
	for ; i < len(q.pieces) && cur < end; i++ {
		p := q.pieces[i]
		if p.off >= end {
			break
		}
		overlap = true
		if p.off > cur {
			q.pieces = insertPiece(q.pieces, i, fragPiece{off: cur, data: data[cur-off : p.off-off]})
			q.covered += p.off - cur
			i++
		}
		cur = max(cur, p.end())
	}
	if cur < end {
		q.pieces = insertPiece(q.pieces, i, fragPiece{off: cur, data: data[cur-off:]})
		q.covered += end - cur
	}
	q.maxEnd = max(q.maxEnd, end)
	return overlap
}

func insertPiece(s []fragPiece, i int, p fragPiece) []fragPiece {
	s = append(s, fragPiece{})
	copy(s[i+1:], s[i:])
	s[i] = p
	return s
}

// dropFragments gives up datagram q, counts it in *counter and emits its
// packets as KindOther with the given note.
func (d *Decoder) dropFragments(q *fragQueue, note Note, counter *uint64, emit func(Unit)) {
	d.forgetDatagram(q)
	*counter++
	d.other(Unit{Note: note, Packets: q.pkts}, emit)
}

// expireFragments gives up the datagrams whose first fragment is older than
// FragmentTimeout at now. Datagrams are visited oldest first and the walk
// stops at the first one still in time.
func (d *Decoder) expireFragments(now time.Time, emit func(Unit)) {
	for q := d.frags.order.head; q != nil && now.Sub(q.first) > d.cfg.FragmentTimeout; q = d.frags.order.head {
		d.dropFragments(q, NoteFragmentTimeout, &d.stats.FragmentTimeouts, emit)
	}
}

// flushFragments gives up every incomplete datagram.
func (d *Decoder) flushFragments(emit func(Unit)) {
	for d.frags.order.head != nil {
		d.dropFragments(d.frags.order.head, NoteFragmentTimeout, &d.stats.FragmentTimeouts, emit)
	}
}
