package decode

import (
	"net/netip"
	"time"
)

// flowKey names one direction of a TCP connection by its innermost
// addresses and ports.
type flowKey struct {
	src, dst netip.AddrPort
}

func (k flowKey) reverse() flowKey { return flowKey{src: k.dst, dst: k.src} }

// segRec records which packets supplied a range of a stream's buffered
// bytes.
type segRec struct {
	hc         heldCarrier
	start, end int  // stream offsets (see stream.off)
	cost       int  // charged to the budget (carrierCost)
	emitted    bool // the packets are in a KindTCP unit already
}

// heldSeg is an out-of-order segment waiting for the bytes before it.
type heldSeg struct {
	seq     uint32
	payload []byte // aliases the packet data or a reassembled datagram
	hc      heldCarrier
	cost    int // charged to the budget: carrierCost, and the datagram if reassembled
}

// stream is the state of one TCP connection direction.
type stream struct {
	key     flowKey
	next    uint32 // sequence number of the next in-order byte
	isn     uint32 // sequence number of the SYN, if synSeen
	synSeen bool

	// buf holds in-order bytes not framed yet; off counts the bytes this
	// direction consumed before buf[0] and numbers the bytes of recs.
	buf  []byte
	off  int
	recs []segRec

	held      []heldSeg // sorted by sequence number (stable for equal ones)
	heldBytes int
	gapSince  time.Time // packet time the oldest held segment arrived

	last time.Time // packet time of the last segment
	used uint64    // arrival number of the last packet that touched s
	cost int       // charged to the budget: cap(buf), recs and held

	lru  links[stream] // in streamTable.lru
	gap  links[stream] // in streamTable.gaps
	hold links[stream] // in streamTable.holders
}

// streamTable is the set of tracked directions.
type streamTable struct {
	m       map[flowKey]*stream
	lru     list[stream] // least recently used first
	gaps    list[stream] // directions with held segments, oldest gap first
	holders list[stream] // directions that cost something, least recently used first
}

func newStreamTable() streamTable {
	return streamTable{
		m:       make(map[flowKey]*stream),
		lru:     list[stream]{at: func(s *stream) *links[stream] { return &s.lru }},
		gaps:    list[stream]{at: func(s *stream) *links[stream] { return &s.gap }},
		holders: list[stream]{at: func(s *stream) *links[stream] { return &s.hold }},
	}
}

// newStream starts tracking direction k at sequence number next, dropping
// the least recently used direction if the table is full.
func (d *Decoder) newStream(k flowKey, next uint32, emit func(Unit)) *stream {
	t := &d.streams
	if len(t.m) >= d.cfg.MaxStreams && t.lru.head != nil {
		d.stats.TCPStreamsEvicted++
		d.closeStream(t.lru.head, emit)
	}
	s := &stream{key: k, next: next, last: d.now, used: d.arrivals}
	t.m[k] = s
	t.lru.pushBack(s)
	d.stats.TCPStreams++
	return s
}

// touch marks s as used by the current packet.
func (d *Decoder) touch(s *stream) {
	t := &d.streams
	s.last, s.used = d.now, d.arrivals
	t.lru.moveToBack(s)
	t.holders.moveToBack(s)
}

// closeStream frames what s still holds, skipping any gaps, emits the rest
// as NoteTCPIncomplete and forgets s.
func (d *Decoder) closeStream(s *stream, emit func(Unit)) {
	for len(s.held) > 0 {
		d.skipGap(s, emit)
	}
	d.leftovers(s, NoteTCPIncomplete, emit)
	d.freeBuffer(s)
	d.forget(s)
}

// forget stops tracking s, which must hold nothing.
func (d *Decoder) forget(s *stream) {
	t := &d.streams
	delete(t.m, s.key)
	t.lru.remove(s)
	t.gaps.remove(s)
	t.holders.remove(s)
}

// expireStreams skips the gaps that have waited longer than GapTimeout and
// closes the directions idle for longer than StreamTimeout at now. Both
// lists are walked oldest first and the walk stops at the first entry still
// in time.
func (d *Decoder) expireStreams(now time.Time, emit func(Unit)) {
	t := &d.streams
	for s := t.gaps.head; s != nil && now.Sub(s.gapSince) > d.cfg.GapTimeout; s = t.gaps.head {
		for len(s.held) > 0 {
			d.skipGap(s, emit)
		}
	}
	for s := t.lru.head; s != nil && now.Sub(s.last) > d.cfg.StreamTimeout; s = t.lru.head {
		d.stats.TCPStreamsExpired++
		d.closeStream(s, emit)
	}
}

// flushStreams closes every direction, least recently used first.
func (d *Decoder) flushStreams(emit func(Unit)) {
	for d.streams.lru.head != nil {
		d.closeStream(d.streams.lru.head, emit)
	}
}

// leftovers emits, as one KindOther unit with the given note, the packets of
// buffered bytes that are in no KindTCP unit yet, and empties the buffer.
func (d *Decoder) leftovers(s *stream, note Note, emit func(Unit)) {
	d.list.reset()
	d.takeBuffered(s)
	d.emitTaken(s, note, emit)
}

// takeBuffered adds to d.list the packets of s's unframed bytes that are in
// no KindTCP unit yet, and empties the buffer, releasing their cost. The
// buffer keeps a capacity of up to keepBufferCap.
func (d *Decoder) takeBuffered(s *stream) {
	cost := 0
	for i := range s.recs {
		cost += s.recs[i].cost
		if !s.recs[i].emitted {
			d.list.add(s.recs[i].hc)
		}
	}
	clear(s.recs)
	s.recs = trim(s.recs[:0], keepRecords)
	d.chargeStream(s, -cost)
	s.off += len(s.buf)
	s.buf = s.buf[:0]
	if cap(s.buf) > keepBufferCap {
		d.freeBuffer(s)
	}
}

// takeHeld adds to d.list the packets of s's held segments and drops them,
// releasing their cost.
func (d *Decoder) takeHeld(s *stream) {
	cost := 0
	for _, h := range s.held {
		cost += h.cost
		d.list.add(h.hc)
	}
	clear(s.held)
	s.held, s.heldBytes = nil, 0
	d.streams.gaps.remove(s)
	d.chargeStream(s, -cost)
}

// emitAlone emits the packets of hc as one KindOther unit of direction s
// with the given note.
func (d *Decoder) emitAlone(s *stream, hc heldCarrier, note Note, emit func(Unit)) {
	d.list.reset()
	d.list.add(hc)
	d.emitTaken(s, note, emit)
}

// emitTaken emits the packets in d.list, if any, as one KindOther unit of
// direction s with the given note.
func (d *Decoder) emitTaken(s *stream, note Note, emit func(Unit)) {
	if d.list.empty() {
		return
	}
	d.other(Unit{Note: note, Src: s.key.src, Dst: s.key.dst, Packets: d.list.list()}, emit)
	d.list.reset()
}
