package filter

import (
	"strconv"
	"strings"
)

// This file turns a value and the qualifiers in force into a primitive,
// checking that they fit together.

// need says what value the qualifiers in p.q want.
func (p *parser) need() string {
	switch p.q.addr {
	case aPort:
		return "port needs a number from 0 to 65535"
	case aPortrange:
		return "portrange needs a range such as 10000-20000"
	case aProto:
		if p.q.proto == pEther {
			return "ether proto needs an EtherType above 1500 or ip, ip6, arp, rarp"
		}
		return "proto needs a protocol number from 0 to 255 or a name"
	case aNet:
		return "net needs a network such as 10.0.0.0/8"
	}
	if p.q.proto == pEther {
		return "ether host needs a MAC address"
	}
	return "host needs an IPv4 or IPv6 address"
}

// value turns the value token t into a primitive under p.q.
func (p *parser) value(t token) (node, error) {
	if !p.q.set {
		if t.kind == tName {
			return nil, p.errAt(t.pos, "unknown keyword %q", t.text)
		}
		return nil, p.errAt(t.pos, "%s needs a qualifier such as host, net or port", t.describe())
	}
	switch p.q.addr {
	case aProto:
		return p.protoValue(t)
	case aPort, aPortrange:
		return p.portValue(t)
	}
	switch t.kind {
	case tIPv4, tNum:
		return p.host4(t)
	case tIPv6:
		return p.host6(t)
	case tMAC:
		return p.etherHost(t)
	}
	return nil, p.errAt(t.pos, "host names are not resolved; give an address")
}

// protoValue handles the value of "ip proto", "ip6 proto", "proto" and
// "ether proto": a number or a name. A protocol keyword is taken as a name
// there, so "ip proto udp" works as well as libpcap's "ip proto \udp".
func (p *parser) protoValue(t token) (node, error) {
	q := p.q
	switch q.proto {
	case pDefault, pIP, pIP6:
		n, ok := uint32(0), false
		if t.kind == tNum {
			n, ok = t.num, t.num <= 255
		} else if t.kind == tName || t.kind == tKeyword {
			var v uint8
			v, ok = ipProtocols[t.text]
			n = uint32(v)
			if !ok {
				return nil, p.errAt(t.pos, "unknown protocol name %q", t.text)
			}
		}
		if !ok {
			return nil, p.errAt(t.pos, "%s", p.need())
		}
		return &ipProtoPrim{at: p.at(q.pos), family: q.proto, num: uint8(n)}, nil
	case pEther:
		var et uint32
		switch t.kind {
		case tNum:
			if t.num <= etherMTU {
				return nil, p.errAt(t.pos, "ether proto %d is an 802.3 length, not an EtherType; 802.2 LLC protocols are not supported", t.num)
			}
			et = t.num
		case tName, tKeyword:
			v, ok := etherTypes[t.text]
			if !ok {
				return nil, p.errAt(t.pos, "unknown EtherType name %q", t.text)
			}
			et = uint32(v)
		}
		if et == 0 || et > 0xffff {
			return nil, p.errAt(t.pos, "%s", p.need())
		}
		return &etherProtoPrim{at: p.at(q.pos), etype: uint16(et)}, nil
	}
	return nil, p.errAt(q.pos, "proto applies to ip, ip6 and ether, not %s", q.proto)
}

// portValue handles the value of "port" and "portrange".
func (p *parser) portValue(t token) (node, error) {
	q := p.q
	switch q.proto {
	case pDefault, pTCP, pUDP, pSCTP:
	default:
		return nil, p.errAt(q.pos, "port and portrange apply to tcp, udp and sctp, not %s", q.proto)
	}
	prim := &portPrim{at: p.at(q.pos), proto: q.proto, dir: q.dir, isRange: q.addr == aPortrange}
	switch {
	case t.kind == tNum && t.num <= 0xffff:
		prim.lo, prim.hi = uint16(t.num), uint16(t.num)
	case prim.isRange && t.kind == tName:
		lo, hi, ok := strings.Cut(t.text, "-")
		l, err1 := strconv.ParseUint(lo, 10, 16)
		h, err2 := strconv.ParseUint(hi, 10, 16)
		if !ok || err1 != nil || err2 != nil {
			return nil, p.errAt(t.pos, "%s", p.need())
		}
		prim.lo, prim.hi = uint16(min(l, h)), uint16(max(l, h))
	default:
		return nil, p.errAt(t.pos, "%s", p.need())
	}
	return prim, nil
}

// host4 handles an IPv4 address or a number under host or net, with an
// optional "/len" or "mask M".
func (p *parser) host4(t token) (node, error) {
	q := p.q
	switch q.proto {
	case pDefault, pIP, pARP, pRARP:
	case pEther:
		return nil, p.errAt(t.pos, "%s", p.need())
	case pIP6:
		return nil, p.errAt(t.pos, "ip6 cannot qualify an IPv4 address")
	default:
		return nil, p.errAt(q.pos, "host and net apply to ip, ip6, arp and rarp, not %s", q.proto)
	}
	var addr, mask uint32
	switch {
	case t.kind == tNum && q.addr == aNet:
		// A lone number is a network of as many leading bytes as it
		// needs: "net 10" is 10.0.0.0/8.
		addr, mask = t.num, ^uint32(0)
		for addr != 0 && addr&0xff000000 == 0 {
			addr, mask = addr<<8, mask<<8
		}
	case t.kind == tNum:
		addr, mask = t.num, ^uint32(0)
	default:
		// Missing trailing parts are zero and masked off: "net 10.1" is
		// 10.1.0.0/16.
		addr, mask = t.num<<(32-t.bits), ^uint32(0)<<(32-t.bits)
	}
	if t.kind == tIPv4 {
		switch n := p.peek(); {
		case n.kind == tSlash:
			bits, err := p.prefixLen(t, 32)
			if err != nil {
				return nil, err
			}
			mask = prefixMask4(bits)
			if addr&^mask != 0 {
				return nil, p.errAt(t.pos, "non-network bits set in %s/%d", t.text, bits)
			}
			if q.addr != aNet {
				return nil, p.errAt(t.pos, "a prefix length needs net, not host")
			}
		case n.kind == tKeyword && n.kw == kwMask:
			p.next()
			m := p.peek()
			if m.kind != tIPv4 {
				return nil, p.errAt(m.pos, "mask needs a dotted netmask such as 255.255.0.0")
			}
			p.next()
			mask = m.num << (32 - m.bits)
			if addr&^mask != 0 {
				return nil, p.errAt(t.pos, "non-network bits set in %s mask %s", t.text, m.text)
			}
			if q.addr != aNet {
				return nil, p.errAt(t.pos, "a netmask needs net, not host")
			}
		}
	}
	return &hostPrim{at: p.at(q.pos), proto: q.proto, dir: q.dir, addr: addr, mask: mask}, nil
}

// prefixLen consumes the "/" and the length after address t, which must
// be at most max.
func (p *parser) prefixLen(t token, max int) (int, error) {
	p.next()
	l := p.peek()
	if l.kind != tNum {
		return 0, p.errAt(l.pos, "a prefix length must follow %q", t.text+"/")
	}
	p.next()
	if l.num > uint32(max) {
		return 0, p.errAt(l.pos, "prefix length %d is more than %d", l.num, max)
	}
	return int(l.num), nil
}

// host6 handles an IPv6 address under host or net, with an optional
// "/len".
func (p *parser) host6(t token) (node, error) {
	q := p.q
	switch q.proto {
	case pDefault, pIP6:
	case pEther:
		return nil, p.errAt(t.pos, "%s", p.need())
	case pIP, pARP, pRARP:
		return nil, p.errAt(t.pos, "%s cannot qualify an IPv6 address", q.proto)
	default:
		return nil, p.errAt(q.pos, "host and net apply to ip, ip6, arp and rarp, not %s", q.proto)
	}
	bits := 128
	if p.peek().kind == tSlash {
		var err error
		if bits, err = p.prefixLen(t, 128); err != nil {
			return nil, err
		}
	}
	addr, mask := ip6Words(t.ip6.As16()), prefixMask6(bits)
	for i := range addr {
		if addr[i]&^mask[i] != 0 {
			return nil, p.errAt(t.pos, "non-network bits set in %s/%d", t.text, bits)
		}
	}
	if bits != 128 && q.addr != aNet {
		return nil, p.errAt(t.pos, "a prefix length needs net, not host")
	}
	return &host6Prim{at: p.at(q.pos), dir: q.dir, addr: addr, mask: mask}, nil
}

// etherHost handles a MAC address, which needs the ether qualifier.
func (p *parser) etherHost(t token) (node, error) {
	q := p.q
	if q.proto != pEther {
		return nil, p.errAt(t.pos, "a MAC address needs ether, as in \"ether host %s\"", t.text)
	}
	if q.addr == aNet {
		return nil, p.errAt(q.pos, "ether net is not supported")
	}
	return &etherHostPrim{at: p.at(q.pos), dir: q.dir, mac: t.mac}, nil
}
