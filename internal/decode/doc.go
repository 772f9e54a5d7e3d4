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
// appears in no other unit.
//
// # Memory
//
// What traffic can make the Decoder hold is bounded by Config: the number of
// TCP directions (MaxStreams), the bytes per direction (MaxStreamBuffer) and
// in incomplete datagrams (MaxFragmentBytes), and, across all of them, one
// budget, MaxBufferedBytes. The budget is charged for every stream buffer's
// capacity, for every packet a direction or datagram keeps (its length plus
// a fixed overhead, since the Packet is kept whole) and for each incomplete
// datagram's bookkeeping; the live heap of the Decoder stays close to that
// charge plus the fixed state of the tracked directions, about half a KiB
// each.
//
// Room is made before bytes are added. When they do not fit, holders are
// given up in the order they were last used: a direction by the last packet
// that touched it, a datagram by its first fragment. A direction given up
// emits the packets of its unframed bytes and held segments as one KindOther
// unit (NoteTCPIncomplete) and is forgotten, as with MaxStreams; one that
// held only spare buffer capacity loses the capacity and is kept. A
// datagram given up emits its fragments (NoteFragmentOverflow). When TCP
// bytes would not fit even if every other holder were given up, the
// direction they are added to first gives up its own unframed bytes
// (NoteTCPIncomplete) and framing restarts after them. A segment or fragment
// that does not fit on its own is emitted at once (NoteTCPIncomplete or
// NoteFragmentOverflow); in TCP its bytes are skipped. Stats counts each
// case: BudgetStreamEvictions, BudgetDatagramEvictions, BudgetUnbuffered and
// BudgetEvictedBytes.
package decode
