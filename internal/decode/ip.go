package decode

import "encoding/binary"

// IP protocol numbers (IPv4 protocol, IPv6 next header) the Decoder follows.
const (
	protoHopByHop = 0
	protoIPIP     = 4
	protoTCP      = 6
	protoUDP      = 17
	protoIPv6     = 41
	protoRouting  = 43
	protoFragment = 44
	protoGRE      = 47
	protoAH       = 51
	protoDstOpts  = 60
)

// maxDatagram is the largest IP payload a fragment may reach.
const maxDatagram = 0xffff

// ipv4Header is the part of an IPv4 header the Decoder uses.
type ipv4Header struct {
	src, dst [4]byte
	proto    uint8
	id       uint16
	fragOff  int  // fragment offset in bytes
	more     bool // more-fragments flag
	payload  []byte
}

func (h *ipv4Header) fragment() bool { return h.more || h.fragOff != 0 }

// parseIPv4 parses an IPv4 header. The payload is bounded by the total
// length field and by the captured bytes; a zero total length (segmentation
// offload) means "all captured bytes".
func parseIPv4(b []byte) (ipv4Header, verdict) {
	var h ipv4Header
	if len(b) < 20 || b[0]>>4 != 4 {
		return h, broken
	}
	ihl := int(b[0]&0x0f) * 4
	if ihl < 20 || ihl > len(b) {
		return h, broken
	}
	end := len(b)
	if total := int(binary.BigEndian.Uint16(b[2:4])); total != 0 {
		if total < ihl {
			return h, broken
		}
		end = min(end, total)
	}
	frag := binary.BigEndian.Uint16(b[6:8])
	h.id = binary.BigEndian.Uint16(b[4:6])
	h.more = frag&0x2000 != 0
	h.fragOff = int(frag&0x1fff) * 8
	h.proto = b[9]
	copy(h.src[:], b[12:16])
	copy(h.dst[:], b[16:20])
	h.payload = b[ihl:end]
	return h, ok
}

// ipv6Header is the part of an IPv6 header and its extension headers the
// Decoder uses. When frag is set, proto is the next header of the fragment
// header and payload is the fragment's data.
type ipv6Header struct {
	src, dst [16]byte
	proto    uint8
	payload  []byte
	frag     bool
	fragOff  int
	more     bool
	id       uint32
}

// parseIPv6 parses an IPv6 header and walks its extension headers (see
// walkIPv6). A zero payload length (jumbogram, segmentation offload) means
// "all captured bytes".
func parseIPv6(b []byte) (ipv6Header, verdict) {
	var h ipv6Header
	if len(b) < 40 || b[0]>>4 != 6 {
		return h, broken
	}
	end := len(b)
	if n := int(binary.BigEndian.Uint16(b[4:6])); n != 0 {
		end = min(end, 40+n)
	}
	copy(h.src[:], b[8:24])
	copy(h.dst[:], b[24:40])
	v := walkIPv6(&h, b[6], b[40:end])
	return h, v
}

// walkIPv6 walks the IPv6 extension headers that start with next header nh
// in b: hop-by-hop, routing, destination options and authentication headers
// are skipped; a fragment header stops the walk (an atomic fragment, offset
// 0 without more fragments, is skipped too); any other value is the upper
// layer protocol.
func walkIPv6(h *ipv6Header, nh uint8, b []byte) verdict {
	for {
		switch nh {
		case protoHopByHop, protoRouting, protoDstOpts:
			if len(b) < 8 {
				return broken
			}
			n := (int(b[1]) + 1) * 8
			if n > len(b) {
				return broken
			}
			nh, b = b[0], b[n:]
		case protoAH:
			if len(b) < 8 {
				return broken
			}
			n := (int(b[1]) + 2) * 4
			if n > len(b) {
				return broken
			}
			nh, b = b[0], b[n:]
		case protoFragment:
			if len(b) < 8 {
				return broken
			}
			off := binary.BigEndian.Uint16(b[2:4])
			more := off&1 != 0
			off &^= 7
			if off == 0 && !more {
				nh, b = b[0], b[8:]
				continue
			}
			h.frag = true
			h.fragOff = int(off)
			h.more = more
			h.id = binary.BigEndian.Uint32(b[4:8])
			h.proto = b[0]
			h.payload = b[8:]
			return ok
		default:
			h.proto = nh
			h.payload = b
			return ok
		}
	}
}
