package decode

import "encoding/binary"

// verdict is the outcome of parsing one header.
type verdict uint8

const (
	ok     verdict = iota // parsed; continue with the payload
	notIP                 // well formed, but not a protocol the Decoder follows (NoteNone)
	broken                // truncated or malformed (NoteUndecodable)
)

// EtherTypes the link parsers understand. etherIPAny is not on the wire: it
// stands for "IP, version in the first nibble" (raw IP, MPLS payloads).
const (
	etherIPAny   uint16 = 0x0000
	etherIPv4    uint16 = 0x0800
	etherIPv6    uint16 = 0x86dd
	etherVLAN    uint16 = 0x8100
	etherQinQ    uint16 = 0x88a8
	etherQinQOld uint16 = 0x9100
	etherQinQAlt uint16 = 0x9200
	etherMPLS    uint16 = 0x8847
	etherMPLSMC  uint16 = 0x8848
	etherPPPoE   uint16 = 0x8864
	etherTEB     uint16 = 0x6558 // transparent Ethernet bridging: an Ethernet frame follows
)

// LINKTYPE_ values (capture.Packet.LinkType) the link parsers understand.
const (
	linkNull     uint16 = 0   // LINKTYPE_NULL: BSD loopback, host byte order
	linkEthernet uint16 = 1   // LINKTYPE_ETHERNET
	linkPPP      uint16 = 9   // LINKTYPE_PPP
	linkRawDLT12 uint16 = 12  // DLT_RAW on most BSDs
	linkRawDLT14 uint16 = 14  // DLT_RAW on OpenBSD
	linkPPPHDLC  uint16 = 50  // LINKTYPE_PPP_HDLC
	linkRaw      uint16 = 101 // LINKTYPE_RAW
	linkCHDLC    uint16 = 104 // LINKTYPE_C_HDLC
	linkLoop     uint16 = 108 // LINKTYPE_LOOP: BSD loopback, network byte order
	linkSLL      uint16 = 113 // LINKTYPE_LINUX_SLL
	linkIPv4     uint16 = 228 // LINKTYPE_IPV4
	linkIPv6     uint16 = 229 // LINKTYPE_IPV6
	linkSLL2     uint16 = 276 // LINKTYPE_LINUX_SLL2
)

// maxTags bounds the VLAN, MPLS and encapsulation headers walked in one
// frame.
const maxTags = 16

// parseLink strips the link-layer header of a frame of type lt. It returns
// the EtherType of the payload (already past VLAN tags and the like) and the
// payload.
func parseLink(lt uint16, b []byte) (uint16, []byte, verdict) {
	switch lt {
	case linkEthernet:
		return parseEthernet(b)
	case linkRaw, linkRawDLT12, linkRawDLT14:
		return etherIPAny, b, ok
	case linkIPv4:
		return etherIPv4, b, ok
	case linkIPv6:
		return etherIPv6, b, ok
	case linkSLL:
		return parseSLL(b)
	case linkSLL2:
		return parseSLL2(b)
	case linkNull:
		return parseNull(b, false)
	case linkLoop:
		return parseNull(b, true)
	case linkPPP, linkPPPHDLC:
		return parsePPP(b)
	case linkCHDLC:
		if len(b) < 4 {
			return 0, nil, broken
		}
		return parseEtherType(binary.BigEndian.Uint16(b[2:4]), b[4:])
	}
	return 0, nil, broken
}

// parseEthernet parses an Ethernet II or 802.3 LLC/SNAP header and any tags
// after it.
func parseEthernet(b []byte) (uint16, []byte, verdict) {
	if len(b) < 14 {
		return 0, nil, broken
	}
	et := binary.BigEndian.Uint16(b[12:14])
	if et >= 0x0600 {
		return parseEtherType(et, b[14:])
	}
	// 802.3 length field: only SNAP with an EtherType (OUI 0) carries IP.
	b = b[14:]
	if int(et) < len(b) {
		b = b[:et]
	}
	if len(b) < 8 || b[0] != 0xaa || b[1] != 0xaa || b[2] != 0x03 || b[3] != 0 || b[4] != 0 || b[5] != 0 {
		return 0, nil, notIP
	}
	return parseEtherType(binary.BigEndian.Uint16(b[6:8]), b[8:])
}

// parseEtherType walks VLAN tags, MPLS labels, PPPoE session headers and
// bridged Ethernet headers until it reaches IP.
func parseEtherType(et uint16, b []byte) (uint16, []byte, verdict) {
	for range maxTags {
		switch et {
		case etherIPv4, etherIPv6:
			return et, b, ok
		case etherVLAN, etherQinQ, etherQinQOld, etherQinQAlt:
			if len(b) < 4 {
				return 0, nil, broken
			}
			et, b = binary.BigEndian.Uint16(b[2:4]), b[4:]
		case etherMPLS, etherMPLSMC:
			return parseMPLS(b)
		case etherPPPoE:
			return parsePPPoE(b)
		case etherTEB:
			if len(b) < 14 {
				return 0, nil, broken
			}
			et, b = binary.BigEndian.Uint16(b[12:14]), b[14:]
			if et < 0x0600 {
				return 0, nil, notIP
			}
		default:
			return 0, nil, notIP
		}
	}
	return 0, nil, broken
}

// parseMPLS walks an MPLS label stack. What follows the bottom label is
// recognised by its first nibble: 4 or 6 for IP, 0 for a pseudowire control
// word and an Ethernet frame.
func parseMPLS(b []byte) (uint16, []byte, verdict) {
	for range maxTags {
		if len(b) < 4 {
			return 0, nil, broken
		}
		bottom := b[2]&1 != 0
		b = b[4:]
		if !bottom {
			continue
		}
		if len(b) == 0 {
			return 0, nil, broken
		}
		switch b[0] >> 4 {
		case 4, 6:
			return etherIPAny, b, ok
		case 0:
			if len(b) < 4 {
				return 0, nil, broken
			}
			return parseEthernet(b[4:])
		}
		return 0, nil, notIP
	}
	return 0, nil, broken
}

// parsePPPoE parses a PPPoE session header and the PPP protocol after it.
func parsePPPoE(b []byte) (uint16, []byte, verdict) {
	if len(b) < 8 {
		return 0, nil, broken
	}
	if n := int(binary.BigEndian.Uint16(b[4:6])); n >= 2 && 6+n < len(b) {
		b = b[:6+n]
	}
	return pppProto(binary.BigEndian.Uint16(b[6:8]), b[8:])
}

// parsePPP parses a PPP frame with an optional HDLC address and control
// field and a possibly compressed protocol field.
func parsePPP(b []byte) (uint16, []byte, verdict) {
	if len(b) >= 2 && b[0] == 0xff && b[1] == 0x03 {
		b = b[2:]
	}
	if len(b) < 1 {
		return 0, nil, broken
	}
	if b[0]&1 != 0 {
		return pppProto(uint16(b[0]), b[1:])
	}
	if len(b) < 2 {
		return 0, nil, broken
	}
	return pppProto(binary.BigEndian.Uint16(b[0:2]), b[2:])
}

func pppProto(p uint16, b []byte) (uint16, []byte, verdict) {
	switch p {
	case 0x0021:
		return etherIPv4, b, ok
	case 0x0057:
		return etherIPv6, b, ok
	}
	return 0, nil, notIP
}

// parseSLL parses a Linux cooked capture (SLL) header.
func parseSLL(b []byte) (uint16, []byte, verdict) {
	if len(b) < 16 {
		return 0, nil, broken
	}
	return sllProto(binary.BigEndian.Uint16(b[14:16]), b[16:])
}

// parseSLL2 parses a Linux cooked capture v2 (SLL2) header.
func parseSLL2(b []byte) (uint16, []byte, verdict) {
	if len(b) < 20 {
		return 0, nil, broken
	}
	return sllProto(binary.BigEndian.Uint16(b[0:2]), b[20:])
}

// sllProto interprets the protocol field of a cooked header: an EtherType,
// or one of the small Linux pseudo-protocols (802.3, 802.2 LLC, ...), none of
// which is IP.
func sllProto(p uint16, b []byte) (uint16, []byte, verdict) {
	if p < 0x0600 {
		return 0, nil, notIP
	}
	return parseEtherType(p, b)
}

// Address families of BSD loopback headers.
const (
	afInet        = 2
	afInet6BSD    = 24 // NetBSD, OpenBSD
	afInet6FBSD   = 28 // FreeBSD
	afInet6Darwin = 30 // macOS
)

// parseNull parses a BSD loopback header: a 4-byte address family, in the
// capturing host's byte order for DLT_NULL (either order is accepted) and in
// network byte order for LINKTYPE_LOOP.
func parseNull(b []byte, network bool) (uint16, []byte, verdict) {
	if len(b) < 4 {
		return 0, nil, broken
	}
	af := binary.BigEndian.Uint32(b)
	if !network && af > 0xffff {
		af = binary.LittleEndian.Uint32(b)
	}
	switch af {
	case afInet:
		return etherIPv4, b[4:], ok
	case afInet6BSD, afInet6FBSD, afInet6Darwin:
		return etherIPv6, b[4:], ok
	}
	return 0, nil, notIP
}
