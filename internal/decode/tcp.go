package decode

import (
	"encoding/binary"
	"errors"
	"net/netip"
)

// TCP flag bits.
const (
	tcpFIN = 0x01
	tcpSYN = 0x02
	tcpRST = 0x04
)

// tcpHeader is the part of a TCP header the Decoder uses.
type tcpHeader struct {
	sport, dport uint16
	seq          uint32
	flags        uint8
	payload      []byte
}

func parseTCP(b []byte) (tcpHeader, verdict) {
	var h tcpHeader
	if len(b) < 20 {
		return h, broken
	}
	n := int(b[12]>>4) * 4
	if n < 20 || n > len(b) {
		return h, broken
	}
	h.sport = binary.BigEndian.Uint16(b[0:2])
	h.dport = binary.BigEndian.Uint16(b[2:4])
	h.seq = binary.BigEndian.Uint32(b[4:8])
	h.flags = b[13]
	h.payload = b[n:]
	return h, ok
}

// tcp handles one TCP segment carried by c.
func (d *Decoder) tcp(src, dst netip.Addr, b []byte, c carrier, emit func(Unit)) {
	h, v := parseTCP(b)
	if v != ok {
		d.reject(v, layerTCP, c, emit)
		return
	}
	k := flowKey{src: netip.AddrPortFrom(src, h.sport), dst: netip.AddrPortFrom(dst, h.dport)}
	if len(h.payload) > 0 {
		d.stats.TCPSegments++
	}
	if d.cfg.Framer == nil {
		if len(h.payload) == 0 {
			d.other(Unit{Note: NoteTCPControl, Src: k.src, Dst: k.dst, Packets: c.pkts}, emit)
			return
		}
		d.stats.TCPUnits++
		emit(Unit{Kind: KindTCP, Src: k.src, Dst: k.dst, Payload: h.payload, Packets: c.pkts})
		return
	}

	s := d.streams.m[k]
	seq := h.seq
	if h.flags&tcpSYN != 0 {
		seq++ // data starts after the SYN
		// A SYN that is neither a repeat of this direction's SYN nor at
		// its next byte starts a new connection on the same ports.
		if s != nil && s.next != seq && (!s.synSeen || s.isn != h.seq) {
			d.closeStream(s, emit)
			s = nil
		}
		if s == nil {
			s = d.newStream(k, seq, emit)
		}
		s.synSeen, s.isn = true, h.seq
	}
	if len(h.payload) == 0 {
		d.other(Unit{Note: NoteTCPControl, Src: k.src, Dst: k.dst, Packets: c.pkts}, emit)
		if s != nil {
			d.touch(s)
		}
	} else {
		if s == nil {
			s = d.newStream(k, seq, emit)
		}
		d.touch(s)
		d.segment(s, seq, h.payload, c, emit)
	}
	if h.flags&(tcpFIN|tcpRST) == 0 {
		return
	}
	if s != nil {
		d.stats.TCPStreamsClosed++
		d.closeStream(s, emit)
	}
	if h.flags&tcpRST != 0 {
		if r := d.streams.m[k.reverse()]; r != nil {
			d.stats.TCPStreamsClosed++
			d.closeStream(r, emit)
		}
	}
}

// segment adds a segment with payload to s: in order (appended and framed),
// old (a retransmission) or ahead of a gap (held).
func (d *Decoder) segment(s *stream, seq uint32, payload []byte, c carrier, emit func(Unit)) {
	if int32(seq-s.next) > 0 {
		d.stats.TCPOutOfOrder++
		d.holdSegment(s, seq, payload, c, emit)
		for len(s.held) > maxHeldSegments || s.heldBytes > d.cfg.MaxStreamBuffer {
			d.skipGap(s, emit)
		}
	} else {
		d.inOrder(s, seq, payload, hold(c), emit)
		d.drain(s, emit)
	}
	if len(s.held) > 0 && d.now.Sub(s.gapSince) > d.cfg.GapTimeout {
		for len(s.held) > 0 {
			d.skipGap(s, emit)
		}
	}
}

// holdSegment queues a segment that starts after the next expected byte.
// A segment that came in IP fragments is charged for the reassembled
// datagram its payload points into as well. A segment the budget has no
// room for is emitted at once.
func (d *Decoder) holdSegment(s *stream, seq uint32, payload []byte, c carrier, emit func(Unit)) {
	hc := hold(c)
	cost := carrierCost(hc)
	if hc.p == nil {
		cost += len(payload)
	}
	if !d.roomFor(s, cost, 0, emit) {
		d.unbuffered(s, hc, emit)
		return
	}
	i := len(s.held)
	for i > 0 && int32(s.held[i-1].seq-seq) > 0 {
		i--
	}
	s.held = append(s.held, heldSeg{})
	copy(s.held[i+1:], s.held[i:])
	s.held[i] = heldSeg{seq: seq, payload: payload, hc: hc, cost: cost}
	s.heldBytes += len(payload)
	d.chargeStream(s, cost)
	if len(s.held) == 1 {
		s.gapSince = d.now
		d.streams.gaps.pushBack(s)
	}
}

// drain processes the held segments that the in-order bytes have reached.
func (d *Decoder) drain(s *stream, emit func(Unit)) {
	for len(s.held) > 0 && int32(s.held[0].seq-s.next) <= 0 {
		h := s.held[0]
		copy(s.held, s.held[1:])
		s.held[len(s.held)-1] = heldSeg{}
		s.held = s.held[:len(s.held)-1]
		s.heldBytes -= len(h.payload)
		d.chargeStream(s, -h.cost)
		d.inOrder(s, h.seq, h.payload, h.hc, emit)
	}
	s.held = trim(s.held, keepRecords)
	if len(s.held) == 0 {
		d.streams.gaps.remove(s)
	}
}

// skipGap gives up the bytes missing before the first held segment: what is
// buffered can never complete and is emitted as NoteTCPIncomplete, and
// framing restarts at the held segment.
func (d *Decoder) skipGap(s *stream, emit func(Unit)) {
	d.stats.TCPGaps++
	d.leftovers(s, NoteTCPIncomplete, emit)
	s.next = s.held[0].seq
	d.drain(s, emit)
}

// inOrder appends the new bytes of a segment that starts at or before the
// next expected byte and frames the buffer. When the budget has no room for
// them, the segment is emitted at once and its bytes are skipped.
func (d *Decoder) inOrder(s *stream, seq uint32, payload []byte, hc heldCarrier, emit func(Unit)) {
	dup := int(s.next - seq) // bytes already seen; 0 <= dup
	if dup >= len(payload) {
		d.retransmission(s, seq, payload, hc, emit)
		return
	}
	payload = payload[dup:]
	cost := carrierCost(hc)
	if !d.roomFor(s, cost, len(payload), emit) {
		d.unbuffered(s, hc, emit)
		s.off += len(payload) // the buffer is empty: skip the bytes
		s.next += uint32(len(payload))
		return
	}
	start := s.off + len(s.buf)
	s.recs = append(s.recs, segRec{hc: hc, start: start, end: start + len(payload), cost: cost})
	d.chargeStream(s, cost)
	d.appendBuffer(s, payload)
	s.next += uint32(len(payload))
	d.frameStream(s, emit)
}

// retransmission handles a segment whose bytes were all seen before: its
// payload is framed on its own, and the complete messages in it are emitted
// with just its packets.
func (d *Decoder) retransmission(s *stream, seq uint32, payload []byte, hc heldCarrier, emit func(Unit)) {
	d.stats.TCPRetransmissions++
	if len(payload) == 1 && seq+1 == s.next {
		// A TCP keep-alive probe: one old byte just before the next.
		d.keepalive(s, hc, emit)
		return
	}
	framed := false
	c := 0
	for c < len(payload) {
		b := payload[c:]
		skip, n, err := d.cfg.Framer(b)
		if err != nil {
			if errors.Is(err, ErrNeedMore) && skip > 0 && skip <= len(b) {
				c += skip
			}
			break
		}
		if !validFrame(skip, n, len(b)) {
			break
		}
		c += skip
		if n > 0 {
			d.repeated = d.repeated[:0]
			if framed {
				d.repeated = hc.appendTo(d.repeated)
			}
			framed = true
			d.list.reset()
			d.list.add(hc)
			d.stats.TCPUnits++
			emit(Unit{Kind: KindTCP, Src: s.key.src, Dst: s.key.dst, Payload: payload[c : c+n], Packets: d.list.list(), Repeated: d.repeated})
			d.list.reset()
			clear(d.repeated)
			c += n
		}
	}
	switch {
	case framed:
	case c == len(payload):
		d.keepalive(s, hc, emit)
	default:
		d.emitAlone(s, hc, NoteTCPNotFramed, emit)
	}
}

func (d *Decoder) keepalive(s *stream, hc heldCarrier, emit func(Unit)) {
	d.stats.TCPKeepalives++
	d.emitAlone(s, hc, NoteTCPKeepalive, emit)
}

// validFrame reports whether a Framer result without error is usable for a
// buffer of n bytes: both counts in range and progress made.
func validFrame(skip, n, size int) bool {
	return skip >= 0 && n >= 0 && skip <= size && n <= size-skip && skip+n > 0
}

// frameStream cuts the complete messages out of s.buf and emits them. A
// Framer error (or an unusable result) gives up the buffered bytes as
// NoteTCPNotFramed; framing then restarts with the next segment.
func (d *Decoder) frameStream(s *stream, emit func(Unit)) {
	c := 0
	for c < len(s.buf) {
		b := s.buf[c:]
		skip, n, err := d.cfg.Framer(b)
		if err != nil && errors.Is(err, ErrNeedMore) {
			if skip > 0 && skip <= len(b) {
				c += skip
				d.release(s, s.off+c, emit)
			}
			break
		}
		if err != nil || !validFrame(skip, n, len(b)) {
			d.consume(s, c)
			d.notFramed(s, emit)
			return
		}
		c += skip
		d.release(s, s.off+c, emit)
		if n > 0 {
			d.message(s, s.off+c, b[skip:skip+n], emit)
			c += n
			d.release(s, s.off+c, emit)
		}
	}
	d.consume(s, c)
	if len(s.buf) > d.cfg.MaxStreamBuffer {
		d.stats.TCPBufferOverflows++
		d.notFramed(s, emit)
	}
}

func (d *Decoder) notFramed(s *stream, emit func(Unit)) {
	d.stats.TCPNotFramed++
	d.leftovers(s, NoteTCPNotFramed, emit)
}

// message emits the message msg that starts at stream offset start, with
// the packets of every segment that supplied one of its bytes.
func (d *Decoder) message(s *stream, start int, msg []byte, emit func(Unit)) {
	end := start + len(msg)
	d.list.reset()
	d.repeated = d.repeated[:0]
	for i := range s.recs {
		r := &s.recs[i]
		if r.start >= end {
			break
		}
		if r.end > start {
			if r.emitted {
				d.repeated = r.hc.appendTo(d.repeated)
			}
			r.emitted = true
			d.list.add(r.hc)
		}
	}
	d.stats.TCPUnits++
	emit(Unit{Kind: KindTCP, Src: s.key.src, Dst: s.key.dst, Payload: msg, Packets: d.list.list(), Repeated: d.repeated})
	d.list.reset()
	clear(d.repeated)
}

// release forgets the records of bytes before stream offset x, releasing
// their cost. A segment none of whose bytes went into a message carried only
// skipped bytes and is emitted as NoteTCPKeepalive.
func (d *Decoder) release(s *stream, x int, emit func(Unit)) {
	i, cost := 0, 0
	for ; i < len(s.recs) && s.recs[i].end <= x; i++ {
		cost += s.recs[i].cost
		if !s.recs[i].emitted {
			d.keepalive(s, s.recs[i].hc, emit)
		}
	}
	if i > 0 {
		n := copy(s.recs, s.recs[i:])
		clear(s.recs[n:])
		s.recs = trim(s.recs[:n], keepRecords)
		d.chargeStream(s, -cost)
	}
}

// consume drops the first c bytes of s.buf. An emptied buffer larger than
// keepBufferCap is freed.
func (d *Decoder) consume(s *stream, c int) {
	if c == 0 {
		return
	}
	n := copy(s.buf, s.buf[c:])
	s.buf = s.buf[:n]
	s.off += c
	if n == 0 && cap(s.buf) > keepBufferCap {
		d.freeBuffer(s)
	}
}
