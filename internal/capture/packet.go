package capture

import "github.com/gopacket/gopacket"

// Packet is one captured frame as read from an input.
//
// Data is owned by the Packet: a reader never reuses it, so a Packet may be
// retained (for example while its IP fragments wait for the rest).
type Packet struct {
	Data []byte
	Info gopacket.CaptureInfo

	// LinkType is the LINKTYPE_ value of the packet's capture file header
	// (pcap) or pcapng interface. pcap's 32-bit field keeps its low 16
	// bits, the upper bits being FCS information. It is a uint16 because
	// gopacket v1.1.19's layers.LinkType is 8 bits wide and cannot hold
	// values such as LINKTYPE_LINUX_SLL2 = 276.
	LinkType uint16

	Nanosecond bool // the input records this packet's time with nanosecond resolution
	Source     int  // index of the input, in the order the inputs were given
	Frame      int  // 1-based position of the packet within its input
}
