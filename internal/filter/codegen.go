package filter

import (
	"encoding/binary"
	"fmt"
)

// gen translates a parsed expression into a decision graph for one link.
//
// The tests and their order follow libpcap's code generator, because the
// order decides which loads run and a load past the end of a packet
// rejects it: the same tests in another order would disagree with tcpdump
// on truncated packets.
type gen struct {
	expr string
	link Link
	lay  layout
}

func (g *gen) errAt(pos int, format string, args ...any) error {
	return &Error{Expr: g.expr, Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

// cmp tests v op k.
func cmp(v value, op jumpOp, k uint32) pred {
	return func(t, f *block) *block {
		return &block{test: test{v: v, op: op, k: k}, jt: t, jf: f}
	}
}

// masked tests v&mask == k the way libpcap's optimizer leaves it: a mask
// covering all of v's bits is no mask; one covering none makes the test
// always true, so it is dropped, load and all; and a test against zero
// becomes "not jset mask" on the unmasked value.
func masked(v value, mask, k uint32) pred {
	full := uint32(uint64(1)<<(8*v.size) - 1)
	switch {
	case mask&full == 0:
		return always
	case mask&full == full:
		return cmp(v, jeq, k)
	case k == 0:
		return not(cmp(v, jset, mask))
	}
	v.mask = mask
	return cmp(v, jeq, k)
}

// abs is the big-endian quantity of size bytes at off.
func abs(size uint8, off uint32) value {
	return value{kind: vAbs, size: size, off: off}
}

// net is the offset of byte off of the network header, after shift bytes
// of VLAN tags.
func (g *gen) net(shift, off uint32) uint32 { return g.lay.netOff + shift + off }

// etherType tests that the frame carries network protocol et.
func (g *gen) etherType(et uint16, shift uint32) pred {
	switch g.lay.types {
	case typeVersion:
		switch et {
		case etherTypeIPv4:
			return masked(abs(1, 0), 0xf0, 0x40)
		case etherTypeIPv6:
			return masked(abs(1, 0), 0xf0, 0x60)
		}
		return never
	case typeAncillary:
		return cmp(value{kind: vProto}, jeq, uint32(et))
	}
	return cmp(abs(2, g.lay.typeOff+shift), jeq, uint32(et))
}

// dirs combines the source and destination tests as dir asks.
func dirs(dir qdir, src, dst pred) pred {
	switch dir {
	case dSrc:
		return src
	case dDst:
		return dst
	case dAnd:
		return and(src, dst)
	}
	return or(src, dst)
}

// pred translates n. A nil n, the empty expression, always holds.
func (g *gen) pred(n node) (pred, error) {
	switch n := n.(type) {
	case nil:
		return always, nil
	case *andNode:
		return g.binary(and, n.x, n.y)
	case *orNode:
		return g.binary(or, n.x, n.y)
	case *notNode:
		px, err := g.pred(n.x)
		if err != nil {
			return nil, err
		}
		return not(px), nil
	case *protoPrim:
		return g.protoAbbrev(n), nil
	case *hostPrim:
		return g.host4(n), nil
	case *host6Prim:
		return g.host6(n), nil
	case *etherHostPrim:
		return g.etherHost(n)
	case *portPrim:
		return g.port(n), nil
	case *ipProtoPrim:
		return g.ipProto(n.family, n.num, n.shift), nil
	case *etherProtoPrim:
		if !g.lay.etype {
			return nil, g.errAt(n.pos, "ether proto needs a link with an EtherType field; %s has none", g.link)
		}
		return g.etherType(n.etype, n.shift), nil
	case *lenPrim:
		if n.greater {
			return cmp(value{kind: vLen}, jge, n.n), nil
		}
		return not(cmp(value{kind: vLen}, jgt, n.n)), nil
	case *vlanPrim:
		return g.vlan(n)
	}
	panic(fmt.Sprintf("filter: unknown node %T", n))
}

// binary translates x and y and joins them with op.
func (g *gen) binary(op func(...pred) pred, x, y node) (pred, error) {
	px, err := g.pred(x)
	if err != nil {
		return nil, err
	}
	py, err := g.pred(y)
	if err != nil {
		return nil, err
	}
	return op(px, py), nil
}

// protoAbbrev handles a protocol keyword on its own.
func (g *gen) protoAbbrev(n *protoPrim) pred {
	switch n.proto {
	case pIP:
		return g.etherType(etherTypeIPv4, n.shift)
	case pIP6:
		return g.etherType(etherTypeIPv6, n.shift)
	case pARP:
		return g.etherType(etherTypeARP, n.shift)
	case pRARP:
		return g.etherType(etherTypeRARP, n.shift)
	case pTCP:
		return g.ipProto(pDefault, protoTCP, n.shift)
	case pUDP:
		return g.ipProto(pDefault, protoUDP, n.shift)
	case pSCTP:
		return g.ipProto(pDefault, protoSCTP, n.shift)
	case pICMP:
		return g.ipProto(pIP, protoICMP, n.shift)
	}
	return g.ipProto(pIP6, protoICMPv6, n.shift)
}

// ipProto tests the IPv4 protocol field, the IPv6 next header or both.
// For IPv6 a Fragment header is looked through, once, as libpcap does;
// other extension headers are not.
func (g *gen) ipProto(family qproto, num uint8, shift uint32) pred {
	v4 := and(g.etherType(etherTypeIPv4, shift), cmp(abs(1, g.net(shift, 9)), jeq, uint32(num)))
	nh := abs(1, g.net(shift, 6))
	v6 := and(g.etherType(etherTypeIPv6, shift), or(
		cmp(nh, jeq, uint32(num)),
		and(cmp(nh, jeq, protoFragment), cmp(abs(1, g.net(shift, 40)), jeq, uint32(num))),
	))
	switch family {
	case pIP:
		return v4
	case pIP6:
		return v6
	}
	return or(v4, v6)
}

// host4 tests an IPv4 host or net in IP, ARP or RARP headers. Like
// libpcap, each direction repeats the EtherType test.
func (g *gen) host4(n *hostPrim) pred {
	in := func(et uint16, src, dst uint32) pred {
		at := func(off uint32) pred {
			return and(g.etherType(et, n.shift), masked(abs(4, g.net(n.shift, off)), n.mask, n.addr))
		}
		return dirs(n.dir, at(src), at(dst))
	}
	ip := in(etherTypeIPv4, 12, 16)
	arp := in(etherTypeARP, 14, 24)
	rarp := in(etherTypeRARP, 14, 24)
	switch n.proto {
	case pIP:
		return ip
	case pARP:
		return arp
	case pRARP:
		return rarp
	}
	return or(ip, arp, rarp)
}

// host6 tests an IPv6 host or net, word by word.
func (g *gen) host6(n *host6Prim) pred {
	at := func(off uint32) pred {
		ps := []pred{g.etherType(etherTypeIPv6, n.shift)}
		for i := range n.addr {
			ps = append(ps, masked(abs(4, g.net(n.shift, off+4*uint32(i))), n.mask[i], n.addr[i]))
		}
		return and(ps...)
	}
	return dirs(n.dir, at(8), at(24))
}

// etherHost tests Ethernet source and destination addresses.
func (g *gen) etherHost(n *etherHostPrim) (pred, error) {
	if !g.lay.ether {
		return nil, g.errAt(n.pos, "ether host needs an Ethernet link, not %s", g.link)
	}
	lo, hi := binary.BigEndian.Uint32(n.mac[2:]), uint32(binary.BigEndian.Uint16(n.mac[:2]))
	at := func(off uint32) pred {
		return and(cmp(abs(4, off+2), jeq, lo), cmp(abs(2, off), jeq, hi))
	}
	return dirs(n.dir, at(6), at(0)), nil
}

// port tests TCP, UDP or SCTP ports, IPv6 first. IPv4 is tested only in
// packets that are not fragments or are first fragments, with the header
// length taken from the IHL field; IPv6 only when the fixed header's next
// header is the protocol. Each protocol gets its own copy of the tests, as
// in libpcap.
func (g *gen) port(n *portPrim) pred {
	protos := []uint8{protoSCTP, protoTCP, protoUDP}
	switch n.proto {
	case pTCP:
		protos = []uint8{protoTCP}
	case pUDP:
		protos = []uint8{protoUDP}
	case pSCTP:
		protos = []uint8{protoSCTP}
	}
	check := func(v value) pred {
		if n.isRange {
			return and(cmp(v, jge, uint32(n.lo)), not(cmp(v, jgt, uint32(n.hi))))
		}
		return cmp(v, jeq, uint32(n.lo))
	}
	ip4 := g.net(n.shift, 0)
	l4 := func(off uint32) value { return value{kind: vInd, size: 2, off: ip4 + off, xoff: ip4} }
	var v4, v6 []pred
	for _, p := range protos {
		v6 = append(v6, and(
			cmp(abs(1, g.net(n.shift, 6)), jeq, uint32(p)),
			dirs(n.dir, check(abs(2, g.net(n.shift, 40))), check(abs(2, g.net(n.shift, 42)))),
		))
		v4 = append(v4, and(
			cmp(abs(1, g.net(n.shift, 9)), jeq, uint32(p)),
			not(cmp(abs(2, g.net(n.shift, 6)), jset, 0x1fff)),
			dirs(n.dir, check(l4(0)), check(l4(2))),
		))
	}
	return or(
		and(g.etherType(etherTypeIPv6, n.shift), or(v6...)),
		and(g.etherType(etherTypeIPv4, n.shift), or(v4...)),
	)
}

// vlan tests for an 802.1Q or 802.1ad tag, and its ID if given.
func (g *gen) vlan(n *vlanPrim) (pred, error) {
	if !g.lay.ether {
		return nil, g.errAt(n.pos, "vlan needs an Ethernet link, not %s", g.link)
	}
	var tpids []pred
	for _, tpid := range vlanTPIDs {
		tpids = append(tpids, cmp(abs(2, g.lay.typeOff+n.shift), jeq, tpid))
	}
	if !n.hasID {
		return or(tpids...), nil
	}
	return and(or(tpids...), masked(abs(2, g.lay.typeOff+n.shift+2), 0xfff, uint32(n.id))), nil
}
