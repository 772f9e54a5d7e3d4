package filter

import "fmt"

// Link says where the link-layer header ends and how to read the EtherType.
type Link int

const (
	// Ethernet is LINKTYPE_ETHERNET (1): EtherType at 12, network header at
	// 14. VLAN tags are skipped only after a vlan primitive, as in libpcap.
	Ethernet Link = iota
	// Raw is LINKTYPE_RAW (101), LINKTYPE_IPV4 (228) and LINKTYPE_IPV6
	// (229): network header at 0, IPv4 or IPv6 told by the version nibble.
	Raw
	// LinuxSLL is LINKTYPE_LINUX_SLL (113): protocol at 14, network header
	// at 16.
	LinuxSLL
	// LinuxSLL2 is LINKTYPE_LINUX_SLL2 (276): protocol at 0, network header
	// at 20.
	LinuxSLL2
	// Cooked is the view of a Linux AF_PACKET SOCK_DGRAM socket and exists
	// only in the kernel: network header at 0, EtherType from the ancillary
	// load SKF_AD_OFF+SKF_AD_PROTOCOL.
	Cooked
)

// LinkOf maps a LINKTYPE_ value to a Link, reporting false when the link
// type is not supported. LINKTYPE_IPV4 and LINKTYPE_IPV6 map to Raw, so
// "ip" still checks the version nibble where libpcap would assume it.
func LinkOf(linktype uint16) (Link, bool) {
	switch linktype {
	case 1:
		return Ethernet, true
	case 101, 228, 229:
		return Raw, true
	case 113:
		return LinuxSLL, true
	case 276:
		return LinuxSLL2, true
	}
	return 0, false
}

// String returns the name of the constant, or Link(n) for an unknown value.
func (l Link) String() string {
	switch l {
	case Ethernet:
		return "Ethernet"
	case Raw:
		return "Raw"
	case LinuxSLL:
		return "LinuxSLL"
	case LinuxSLL2:
		return "LinuxSLL2"
	case Cooked:
		return "Cooked"
	}
	return fmt.Sprintf("Link(%d)", int(l))
}

// typeSource says how a link tells which network protocol a frame carries.
type typeSource int

const (
	typeAt        typeSource = iota // a 16-bit EtherType at layout.typeOff
	typeVersion                     // the IP version nibble at the network header
	typeAncillary                   // the kernel's SKF_AD_PROTOCOL ancillary load
)

// layout is where a link keeps what the generated code reads.
type layout struct {
	types   typeSource
	typeOff uint32 // with typeAt
	netOff  uint32 // network header
	ether   bool   // Ethernet addresses and VLAN tags are present
	etype   bool   // "ether proto" makes sense: the link has an EtherType
}

// layout returns where l keeps its headers, reporting false for an unknown
// Link.
func (l Link) layout() (layout, bool) {
	switch l {
	case Ethernet:
		return layout{types: typeAt, typeOff: 12, netOff: 14, ether: true, etype: true}, true
	case Raw:
		return layout{types: typeVersion}, true
	case LinuxSLL:
		return layout{types: typeAt, typeOff: 14, netOff: 16, etype: true}, true
	case LinuxSLL2:
		return layout{types: typeAt, typeOff: 0, netOff: 20, etype: true}, true
	case Cooked:
		return layout{types: typeAncillary}, true
	}
	return layout{}, false
}
