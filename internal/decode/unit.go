package decode

import (
	"net/netip"

	"github.com/lc-voip/lc/internal/capture"
)

// Kind says what a Unit carries.
type Kind uint8

const (
	// KindOther is a set of packets that carry no application payload for the
	// classifier (non-IP, undecodable, TCP control segments, leftovers); Note
	// says why.
	KindOther Kind = iota
	// KindUDP is one UDP datagram, reassembled from its IP fragments.
	KindUDP
	// KindTCP is one application message framed out of a TCP byte stream
	// (without a Framer: the payload of one TCP segment).
	KindTCP
)

// Note says why packets were emitted as KindOther. The zero Note is used for
// ordinary traffic that simply is not UDP or framed TCP (ARP, ICMP, ...).
type Note uint8

const (
	NoteNone             Note = iota // ordinary non-UDP/TCP traffic
	NoteUndecodable                  // a header could not be parsed (truncated, bad length, unknown link type)
	NoteFragmentTimeout              // IP fragments whose datagram never completed
	NoteFragmentOverflow             // fragments dropped from reassembly because a limit was hit (MaxFragmentBytes, fragments per datagram, MaxBufferedBytes)
	NoteTCPControl                   // TCP segment without payload (SYN, ACK, FIN, RST)
	NoteTCPNotFramed                 // TCP payload the Framer rejected (not SIP) or that outgrew MaxStreamBuffer unframed, or a retransmission that frames as nothing
	NoteTCPIncomplete                // TCP bytes still buffered when the stream closed, expired, was evicted (MaxStreams, MaxBufferedBytes) or hit a gap, or input ended; or a segment MaxBufferedBytes left no room for
	NoteTCPKeepalive                 // TCP payload that was only keep-alive bytes between messages
)

// Unit is what the Decoder hands to its caller: application payload together
// with every input packet that carried part of it.
//
// Packets lists input frames in capture order. A packet appears in at least
// one Unit (possibly only after Expire or Flush), and in more than one only
// when its TCP payload carries bytes of several framed messages; the
// Decoder never emits a packet in a KindOther Unit once it has been emitted
// in any other Unit.
//
// Payload, Src and Dst are meaningful for KindUDP and KindTCP; KindOther
// units that come from TCP processing (every note from NoteTCPControl on)
// carry the direction's Src and Dst too. Payload may alias Decoder buffers:
// it is valid only until the emit callback returns. The Packets slice is
// likewise reused by the Decoder and valid only until emit returns; a
// consumer that keeps the list copies it. The *capture.Packet values
// themselves are never modified by the Decoder and may be kept.
//
// Repeated lists the packets of Packets that were already emitted in an
// earlier unit: a TCP segment carrying the end of one message and the start
// of the next is in both, and is in Repeated the second time. It is empty
// otherwise, and valid only until emit returns.
type Unit struct {
	Kind     Kind
	Note     Note
	Src, Dst netip.AddrPort
	Payload  []byte
	Packets  []*capture.Packet
	Repeated []*capture.Packet
}
