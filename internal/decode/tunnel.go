package decode

import "encoding/binary"

// GRE protocol types the Decoder follows besides IPv4, IPv6 and bridged
// Ethernet.
const (
	greERSPAN2 uint16 = 0x88be // ERSPAN type II (type I when the sequence bit is clear)
	greERSPAN3 uint16 = 0x22eb // ERSPAN type III
)

// GRE flag bits (RFC 1701/2784/2890).
const (
	greChecksum = 0x8000
	greRouting  = 0x4000
	greKey      = 0x2000
	greSequence = 0x1000
	greVersion  = 0x0007
)

// greHeader is the part of a GRE header the Decoder uses.
type greHeader struct {
	proto   uint16
	seq     bool // the sequence number bit was set
	payload []byte
}

// parseGRE parses a version 0 GRE header with its optional checksum, key and
// sequence fields. Version 1 (PPTP) and RFC 1701 source routing carry nothing
// the Decoder follows.
func parseGRE(b []byte) (greHeader, verdict) {
	var h greHeader
	if len(b) < 4 {
		return h, broken
	}
	flags := binary.BigEndian.Uint16(b[0:2])
	if flags&greVersion != 0 || flags&greRouting != 0 {
		return h, notIP
	}
	n := 4
	if flags&greChecksum != 0 {
		n += 4
	}
	if flags&greKey != 0 {
		n += 4
	}
	if flags&greSequence != 0 {
		n += 4
		h.seq = true
	}
	if n > len(b) {
		return h, broken
	}
	h.proto = binary.BigEndian.Uint16(b[2:4])
	h.payload = b[n:]
	return h, ok
}

// parseERSPAN2 strips the 8-byte ERSPAN type II header; an Ethernet frame
// follows.
func parseERSPAN2(b []byte) ([]byte, verdict) {
	if len(b) < 8 {
		return nil, broken
	}
	return b[8:], ok
}

// parseERSPAN3 strips the 12-byte ERSPAN type III header and, when its O bit
// is set, the 8-byte platform-specific subheader. The frame type field says
// whether an Ethernet frame (0) or an IP packet (2) follows.
func parseERSPAN3(b []byte) (payload []byte, ip bool, v verdict) {
	if len(b) < 12 {
		return nil, false, broken
	}
	n := 12
	if b[11]&0x01 != 0 {
		n += 8
	}
	if n > len(b) {
		return nil, false, broken
	}
	switch ft := (b[10] >> 2) & 0x1f; ft {
	case 0:
		return b[n:], false, ok
	case 2:
		return b[n:], true, ok
	}
	return nil, false, notIP
}

// gre decodes the payload of a GRE packet whose outer IP header is at depth
// depth-1.
func (d *Decoder) gre(b []byte, c carrier, depth int, emit func(Unit)) {
	h, v := parseGRE(b)
	if v != ok {
		d.reject(v, layerTunnel, c, emit)
		return
	}
	switch h.proto {
	case etherIPv4, etherIPv6:
		d.network(h.proto, h.payload, c, depth, emit)
	case etherTEB:
		d.ethernet(h.payload, c, depth, emit)
	case greERSPAN2:
		p := h.payload
		if h.seq { // type II; type I has no header of its own
			if p, v = parseERSPAN2(p); v != ok {
				d.reject(v, layerTunnel, c, emit)
				return
			}
		}
		d.ethernet(p, c, depth, emit)
	case greERSPAN3:
		p, ip, v := parseERSPAN3(h.payload)
		switch {
		case v != ok:
			d.reject(v, layerTunnel, c, emit)
		case ip:
			d.network(etherIPAny, p, c, depth, emit)
		default:
			d.ethernet(p, c, depth, emit)
		}
	default:
		d.reject(notIP, layerTunnel, c, emit)
	}
}
