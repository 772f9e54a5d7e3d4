package decode

// budget counts the bytes charged against Config.MaxBufferedBytes: every TCP
// direction's cost (stream.cost) and every incomplete datagram's cost
// (fragQueue.cost). All changes go through add, so used is always the sum of
// those costs.
type budget struct {
	used int64 // bytes charged now
	peak int64 // highest used since New
}

// add charges n bytes (releases them when n is negative).
func (b *budget) add(n int) {
	b.used += int64(n)
	if b.used > b.peak {
		b.peak = b.used
	}
}

// carrierCost is what the packets of hc are charged while a stream keeps
// them: their bytes and packetOverhead each.
func carrierCost(hc heldCarrier) int {
	if hc.p != nil {
		return len(hc.p.Data) + packetOverhead
	}
	n := 0
	for _, p := range hc.c.pkts {
		n += len(p.Data) + packetOverhead
	}
	return n
}

// makeRoom gives up the oldest holders other than keep until n more bytes
// fit within MaxBufferedBytes, and reports whether they fit. Holders are
// compared by the arrival number of the packet that last touched a direction
// or first fragment of a datagram. When n cannot fit even once every other
// holder is gone, makeRoom gives up nothing and returns false.
func (d *Decoder) makeRoom(n int, keep *stream, emit func(Unit)) bool {
	kept := 0
	if keep != nil {
		kept = keep.cost
	}
	limit := d.cfg.MaxBufferedBytes
	if int64(kept)+int64(n) > limit {
		return false
	}
	for d.mem.used+int64(n) > limit {
		s := d.streams.holders.head
		if s == keep && s != nil {
			s = keep.hold.next
		}
		q := d.frags.order.head
		switch {
		case q != nil && (s == nil || q.born < s.used):
			d.stats.BudgetEvictedBytes += uint64(q.cost)
			d.dropFragments(q, NoteFragmentOverflow, &d.stats.BudgetDatagramEvictions, emit)
		case s != nil:
			d.evictStream(s, emit)
		default:
			return false // nothing left to give up; the accounting is off
		}
	}
	return true
}

// evictStream gives up what direction s holds to make room in the budget:
// the packets of its unframed bytes and held segments that are in no unit
// yet are emitted as one KindOther unit (NoteTCPIncomplete) and the direction
// is forgotten, as for MaxStreams. A direction that holds nothing but spare
// buffer capacity only loses the capacity and is kept.
func (d *Decoder) evictStream(s *stream, emit func(Unit)) {
	d.stats.BudgetEvictedBytes += uint64(s.cost)
	if len(s.buf) == 0 && len(s.held) == 0 {
		d.freeBuffer(s)
		return
	}
	d.stats.BudgetStreamEvictions++
	d.list.reset()
	d.takeBuffered(s)
	d.takeHeld(s)
	d.freeBuffer(s)
	d.emitTaken(s, NoteTCPIncomplete, emit)
	d.forget(s)
}

// evictOwnBuffer gives up the unframed bytes and the buffer of s, the
// direction being added to, when the budget has no room for it otherwise:
// their packets are emitted as NoteTCPIncomplete and framing restarts with
// the next bytes.
func (d *Decoder) evictOwnBuffer(s *stream, emit func(Unit)) {
	before := s.cost
	if len(s.buf) > 0 {
		d.stats.BudgetStreamEvictions++
	}
	d.leftovers(s, NoteTCPIncomplete, emit)
	d.freeBuffer(s)
	d.stats.BudgetEvictedBytes += uint64(before - s.cost)
}

// roomFor makes room for a segment of s whose packets cost cost and that
// adds n bytes to the end of s's buffer (0 for a segment held out of
// order): by giving up other holders, oldest first, when that is enough;
// otherwise by giving up s's own unframed bytes, then others as needed. It
// reports whether the segment fits; when it does not, s's buffer is empty.
func (d *Decoder) roomFor(s *stream, cost, n int, emit func(Unit)) bool {
	if d.makeRoom(cost+bufferGrowth(s, n), s, emit) {
		return true
	}
	d.evictOwnBuffer(s, emit)
	return d.makeRoom(cost+bufferGrowth(s, n), s, emit)
}

// unbuffered emits at once, as KindOther (NoteTCPIncomplete), a segment of
// s that cannot be buffered within the budget.
func (d *Decoder) unbuffered(s *stream, hc heldCarrier, emit func(Unit)) {
	d.stats.BudgetUnbuffered++
	d.emitAlone(s, hc, NoteTCPIncomplete, emit)
}

// chargeStream adds n bytes (negative: releases them) to the cost of s and
// to the budget, and keeps s in the holders list exactly while it costs
// something.
func (d *Decoder) chargeStream(s *stream, n int) {
	if n == 0 {
		return
	}
	s.cost += n
	d.mem.add(n)
	if s.cost > 0 {
		d.streams.holders.pushBack(s)
	} else {
		d.streams.holders.remove(s)
	}
}

// bufferGrowth returns by how much appending n bytes grows cap(s.buf).
// Capacity doubles, and grows by a quarter from 256 KiB on, or to exactly
// what is needed when that is more.
func bufferGrowth(s *stream, n int) int {
	need, c := len(s.buf)+n, cap(s.buf)
	if need <= c {
		return 0
	}
	next := 2 * c
	if c >= 256<<10 {
		next = c + c/4
	}
	return max(need, next) - c
}

// appendBuffer appends b to s.buf, charging any growth of its capacity.
func (d *Decoder) appendBuffer(s *stream, b []byte) {
	if g := bufferGrowth(s, len(b)); g > 0 {
		nb := make([]byte, len(s.buf), cap(s.buf)+g)
		copy(nb, s.buf)
		s.buf = nb
		d.chargeStream(s, g)
	}
	s.buf = append(s.buf, b...)
}

// freeBuffer drops s.buf and releases its capacity. The buffer must hold no
// unframed bytes.
func (d *Decoder) freeBuffer(s *stream) {
	d.chargeStream(s, -cap(s.buf))
	s.buf = nil
}

// trim returns s, or a copy without most of its unused capacity when more
// than three quarters of a capacity above keep are unused (nil when s is
// empty), so that a stream's records shrink with what they describe.
func trim[T any](s []T, keep int) []T {
	if cap(s) <= keep || cap(s) <= 4*len(s) {
		return s
	}
	if len(s) == 0 {
		return nil
	}
	return append(make([]T, 0, 2*len(s)), s...)
}
