package decode

import (
	"encoding/binary"
	"net/netip"
	"time"

	"github.com/lc-voip/lc/internal/capture"
)

// Decoder turns captured packets into Units. It is not safe for concurrent
// use: one goroutine calls Decode, Expire, Flush and Stats. Create it with
// New.
type Decoder struct {
	cfg   Config
	stats Stats

	now      time.Time // capture time of the packet being decoded
	arrivals uint64    // packets passed to Decode so far

	// scratch carrier of the packet being decoded
	one    [1]*capture.Packet
	oneOrd [1]uint64

	mem      budget // what streams and frags hold, against MaxBufferedBytes
	frags    defragmenter
	streams  streamTable
	list     packetList
	repeated []*capture.Packet // Unit.Repeated storage
}

// New returns a Decoder configured by cfg; zero (or negative) limits take
// their defaults.
func New(cfg Config) *Decoder {
	return &Decoder{
		cfg:     cfg.withDefaults(),
		frags:   newDefragmenter(),
		streams: newStreamTable(),
	}
}

// Decode decodes one input packet and calls emit zero or more times: for the
// units p completes, and for units whose packets p pushes out of a bounded
// buffer. The Decoder retains p while part of it waits (an IP fragment, TCP
// bytes not framed yet) and never modifies it. emit must not call the
// Decoder. A nil p is ignored.
func (d *Decoder) Decode(p *capture.Packet, emit func(Unit)) {
	if p == nil {
		return
	}
	d.stats.Packets++
	d.arrivals++
	d.now = p.Info.Timestamp
	d.one[0], d.oneOrd[0] = p, d.arrivals
	c := carrier{pkts: d.one[:], ords: d.oneOrd[:]}
	if et, b, v := parseLink(p.LinkType, p.Data); v != ok {
		d.reject(v, layerLink, c, emit)
	} else {
		d.network(et, b, c, 0, emit)
	}
	d.one[0] = nil
}

// Expire emits what has waited too long as of packet time now: incomplete
// datagrams older than FragmentTimeout (KindOther, NoteFragmentTimeout),
// out-of-order TCP segments held longer than GapTimeout (framed after the
// gap is skipped), and TCP directions idle longer than StreamTimeout (their
// unframed bytes as KindOther, NoteTCPIncomplete).
func (d *Decoder) Expire(now time.Time, emit func(Unit)) {
	d.expireFragments(now, emit)
	d.expireStreams(now, emit)
}

// Flush emits everything the Decoder still holds, as at the end of input:
// incomplete datagrams (NoteFragmentTimeout), held TCP segments (framed after
// their gaps are skipped) and unframed TCP bytes (NoteTCPIncomplete). The
// Decoder is empty afterwards and may be used again.
func (d *Decoder) Flush(emit func(Unit)) {
	d.flushFragments(emit)
	d.flushStreams(emit)
}

// Stats returns the counters accumulated since New.
func (d *Decoder) Stats() Stats { return d.stats }

// network decodes b, a payload of EtherType et, whose IP header (if any) is
// at tunnel depth depth (0 for the outermost).
func (d *Decoder) network(et uint16, b []byte, c carrier, depth int, emit func(Unit)) {
	if et == etherIPAny {
		if len(b) == 0 {
			d.reject(broken, layerLink, c, emit)
			return
		}
		switch b[0] >> 4 {
		case 4:
			et = etherIPv4
		case 6:
			et = etherIPv6
		default:
			d.reject(broken, layerLink, c, emit)
			return
		}
	}
	switch et {
	case etherIPv4:
		d.ipv4(b, c, depth, emit)
	case etherIPv6:
		d.ipv6(b, c, depth, emit)
	default:
		d.reject(notIP, layerLink, c, emit)
	}
}

// ethernet decodes an Ethernet frame found inside a tunnel.
func (d *Decoder) ethernet(b []byte, c carrier, depth int, emit func(Unit)) {
	et, p, v := parseEthernet(b)
	if v != ok {
		d.reject(v, layerLink, c, emit)
		return
	}
	d.network(et, p, c, depth, emit)
}

func (d *Decoder) ipv4(b []byte, c carrier, depth int, emit func(Unit)) {
	if depth > maxDepth {
		d.reject(broken, layerTunnel, c, emit)
		return
	}
	h, v := parseIPv4(b)
	if v != ok {
		d.reject(v, layerIPv4, c, emit)
		return
	}
	src, dst := netip.AddrFrom4(h.src), netip.AddrFrom4(h.dst)
	if !h.fragment() {
		d.transport(h.proto, src, dst, h.payload, c, depth, emit)
		return
	}
	k := fragKey{id: uint32(h.id), proto: h.proto, depth: uint8(depth)}
	copy(k.src[:], h.src[:])
	copy(k.dst[:], h.dst[:])
	data, all, r := d.addFragment(k, h.fragOff, h.more, h.payload, c, emit)
	switch r {
	case fragBad:
		d.reject(broken, layerIPv4, c, emit)
	case fragDone:
		d.transport(h.proto, src, dst, data, all, depth, emit)
	}
}

func (d *Decoder) ipv6(b []byte, c carrier, depth int, emit func(Unit)) {
	if depth > maxDepth {
		d.reject(broken, layerTunnel, c, emit)
		return
	}
	h, v := parseIPv6(b)
	if v != ok {
		d.reject(v, layerIPv6, c, emit)
		return
	}
	src, dst := netip.AddrFrom16(h.src), netip.AddrFrom16(h.dst)
	if !h.frag {
		d.transport(h.proto, src, dst, h.payload, c, depth, emit)
		return
	}
	k := fragKey{src: h.src, dst: h.dst, id: h.id, proto: h.proto, v6: true, depth: uint8(depth)}
	data, all, r := d.addFragment(k, h.fragOff, h.more, h.payload, c, emit)
	switch r {
	case fragBad:
		d.reject(broken, layerIPv6, c, emit)
	case fragDone:
		// The reassembled data starts with the fragmentable part's
		// extension headers, if any.
		var inner ipv6Header
		if walkIPv6(&inner, h.proto, data) != ok || inner.frag {
			d.reject(broken, layerIPv6, all, emit)
			return
		}
		d.transport(inner.proto, src, dst, inner.payload, all, depth, emit)
	}
}

// transport decodes the payload of an IP header at depth depth.
func (d *Decoder) transport(proto uint8, src, dst netip.Addr, b []byte, c carrier, depth int, emit func(Unit)) {
	switch proto {
	case protoUDP:
		d.udp(src, dst, b, c, emit)
	case protoTCP:
		d.tcp(src, dst, b, c, emit)
	case protoIPIP:
		d.ipv4(b, c, depth+1, emit)
	case protoIPv6:
		d.ipv6(b, c, depth+1, emit)
	case protoGRE:
		d.gre(b, c, depth+1, emit)
	default:
		d.reject(notIP, layerIPv4, c, emit)
	}
}

// udp emits one UDP datagram. The payload is bounded by the UDP length field
// (zero, as in IPv6 jumbograms, means "up to the end of the IP payload") and
// by the captured bytes.
func (d *Decoder) udp(src, dst netip.Addr, b []byte, c carrier, emit func(Unit)) {
	if len(b) < 8 {
		d.reject(broken, layerUDP, c, emit)
		return
	}
	p := b[8:]
	if n := int(binary.BigEndian.Uint16(b[4:6])); n != 0 {
		if n < 8 {
			d.reject(broken, layerUDP, c, emit)
			return
		}
		if n-8 < len(p) {
			p = p[:n-8]
		}
	}
	d.stats.UDPUnits++
	emit(Unit{
		Kind:    KindUDP,
		Src:     netip.AddrPortFrom(src, binary.BigEndian.Uint16(b[0:2])),
		Dst:     netip.AddrPortFrom(dst, binary.BigEndian.Uint16(b[2:4])),
		Payload: p,
		Packets: c.pkts,
	})
}

// reject emits c as KindOther: NoteNone for a protocol the Decoder does not
// follow, NoteUndecodable (counted against layer l) for a broken header.
func (d *Decoder) reject(v verdict, l layer, c carrier, emit func(Unit)) {
	note := NoteNone
	if v == notIP {
		d.stats.NonIP += uint64(len(c.pkts))
	} else {
		note = NoteUndecodable
		for range c.pkts {
			d.stats.Undecodable.add(l)
		}
	}
	d.other(Unit{Note: note, Packets: c.pkts}, emit)
}

// other emits u as a KindOther unit.
func (d *Decoder) other(u Unit, emit func(Unit)) {
	u.Kind = KindOther
	d.stats.OtherUnits++
	emit(u)
}
