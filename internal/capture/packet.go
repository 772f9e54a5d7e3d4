package capture

import (
	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// Packet is one captured frame as read from an input.
//
// Data is owned by the Packet: a reader never reuses it, so a Packet may be
// retained (for example while its IP fragments wait for the rest).
type Packet struct {
	Data       []byte
	Info       gopacket.CaptureInfo
	LinkType   layers.LinkType
	Nanosecond bool // the input records this packet's time with nanosecond resolution
	Source     int  // index of the input, in the order the inputs were given
	Frame      int  // 1-based position of the packet within its input
}
