package decode

import (
	"cmp"
	"slices"

	"github.com/lc-voip/lc/internal/capture"
)

// carrier lists the input packets that carried one datagram or segment, in
// capture order, with the arrival number (1 for the first packet passed to
// Decode, 2 for the next, ...) of each. A carrier of one packet points into
// the Decoder's scratch storage and must be retained through hold; a longer
// one belongs to a reassembled datagram and nothing else refers to it.
type carrier struct {
	pkts []*capture.Packet
	ords []uint64
}

// heldCarrier is a carrier that may be kept across calls: one packet inline,
// or the slices of a reassembled datagram.
type heldCarrier struct {
	p   *capture.Packet
	ord uint64
	c   carrier // used when p is nil
}

func hold(c carrier) heldCarrier {
	if len(c.pkts) == 1 {
		return heldCarrier{p: c.pkts[0], ord: c.ords[0]}
	}
	return heldCarrier{c: c}
}

// appendTo appends the carrier's packets to ps.
func (h heldCarrier) appendTo(ps []*capture.Packet) []*capture.Packet {
	if h.p != nil {
		return append(ps, h.p)
	}
	return append(ps, h.c.pkts...)
}

// orderedPacket is a packet and its arrival number.
type orderedPacket struct {
	ord uint64
	p   *capture.Packet
}

// packetList builds the Packets of a Unit made of several carriers, in
// capture order, in storage reused from one Unit to the next.
type packetList struct {
	order []orderedPacket
	pkts  []*capture.Packet
}

func (l *packetList) reset() {
	clear(l.order)
	clear(l.pkts)
	l.order = l.order[:0]
	l.pkts = l.pkts[:0]
}

func (l *packetList) add(h heldCarrier) {
	if h.p != nil {
		l.order = append(l.order, orderedPacket{h.ord, h.p})
		return
	}
	for i, p := range h.c.pkts {
		l.order = append(l.order, orderedPacket{h.c.ords[i], p})
	}
}

func (l *packetList) empty() bool { return len(l.order) == 0 }

// list returns the packets added since reset, in arrival order.
func (l *packetList) list() []*capture.Packet {
	byOrd := func(a, b orderedPacket) int { return cmp.Compare(a.ord, b.ord) }
	if !slices.IsSortedFunc(l.order, byOrd) {
		slices.SortStableFunc(l.order, byOrd)
	}
	for _, o := range l.order {
		l.pkts = append(l.pkts, o.p)
	}
	return l.pkts
}
