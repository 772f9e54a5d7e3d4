// Package decode turns captured frames into Units: UDP datagrams, TCP
// application messages and, for everything else, the packets themselves
// with a Note saying why they carry nothing for the classifier.
//
// It owns every layer below the application: link headers (Ethernet with
// 802.1Q/QinQ tags, LLC/SNAP, MPLS and PPPoE; Linux SLL and SLL2; raw IP;
// BSD null/loopback; PPP and Cisco HDLC), IPv4 and IPv6 with extension
// headers, tunnels (IP-in-IP, GRE, bridged Ethernet over GRE, ERSPAN types
// I, II and III), IP fragment reassembly, and TCP stream reassembly. Splitting
// a TCP byte stream into messages is left to a Framer given in the Config, so
// the package knows nothing about SIP. Src and Dst of a unit are the
// innermost addresses and ports.
//
// # Concurrency and time
//
// A Decoder is used by one goroutine and starts none: Decode, Expire, Flush
// and Stats are called from the processing loop, and emit runs synchronously
// inside them. emit must not call back into the Decoder. Given the same
// packets and Expire calls in the same order, a Decoder emits the same units
// in the same order. Time is packet time only: fragment, gap and stream
// timeouts are measured against capture timestamps and the now passed to
// Expire; the Decoder never reads the wall clock. The caller calls Expire
// regularly (every second of packet time, say, and on live idle ticks);
// without it, held packets wait until a limit pushes them out or Flush.
//
// # Ownership
//
// A *capture.Packet passed to Decode owns its Data. The Decoder keeps the
// pointer, and slices of Data, while the packet waits as an IP fragment or
// a TCP segment, and drops them once the packet has been emitted; it never
// writes to Data. A Unit's Payload and Packets slices may point into
// Decoder storage that is reused by the next unit: they are valid only until
// emit returns, so a consumer copies what it keeps (the packets they point
// to may be kept).
//
// # Every packet is emitted
//
// Every packet passed to Decode appears in at least one Unit by the time
// Flush returns: at once for ordinary traffic, when its datagram or message
// completes, or as KindOther when a timeout, a limit, a FIN/RST or Flush
// gives it up. A packet appears in several units only when its TCP payload
// holds bytes of several messages, and in a KindOther unit only when it
// appears in no other unit. Memory is bounded by Config: fragment bytes,
// buffered and held bytes per TCP direction, and the number of directions.
package decode
