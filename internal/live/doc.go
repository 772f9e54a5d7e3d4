// Package live captures packets from network interfaces on Linux through
// AF_PACKET sockets with a TPACKET_V3 memory-mapped ring, in pure Go: no
// libpcap and no cgo.
//
// # What it owns
//
//   - Opening one socket per interface (or one for "any"), with the snap
//     length, promiscuous mode, ring size and a compiled capture filter
//     attached in the kernel before the socket receives its first packet.
//   - The link-layer view: Ethernet and loopback interfaces are captured
//     with their link headers (LINKTYPE_ETHERNET); interfaces without one
//     (tun, WireGuard) as raw IP (LINKTYPE_RAW); "any" and other hardware
//     types in cooked mode, with a Linux SLL2 header built from the socket
//     address (LINKTYPE_LINUX_SLL2, which names the interface of each
//     packet), as tcpdump does. VLAN tags that the network card stripped
//     are put back into the frame.
//   - Each packet once. The kernel shows a packet socket every packet sent
//     over a loopback device twice, once going out and once coming in, and
//     every frame sent on a CAN device too, since CAN drivers loop sent
//     frames back. On such an interface, and on "any" for packets of such
//     devices, a few instructions ahead of the capture filter reject the
//     outgoing copy in the kernel (by the packet type, PACKET_OUTGOING, and
//     on "any" the hardware type of the packet's device); the incoming copy
//     is captured. libpcap drops the same copies, in user space after they
//     went through the ring.
//   - Kernel timestamps with nanosecond resolution.
//   - Counters: packets received, packets the kernel dropped because the
//     ring was full, and the interface's own receive drops
//     (/sys/class/net/IFACE/statistics), since the socket was opened. They
//     count a looped-back packet once: the kernel counts only packets its
//     filter accepts, so the rejected outgoing copy is neither received
//     nor dropped, and received plus the kernel's drops counts every
//     packet the capture filter keeps once. (libpcap counts both copies
//     in the packets it received, which tcpdump prints as "received by
//     filter": twice the packets it captured on lo.)
//
// # Concurrency
//
// Open makes the sockets; it needs CAP_NET_RAW. Start begins one reader
// goroutine per socket. Each reader copies a whole ring block at a time
// into memory of its own, gives the block back to the kernel at once and
// hands the batch to Next over a channel. When the consumer is slower than
// the traffic, the channel fills, the reader waits, the ring fills and the
// kernel drops and counts packets: the consumer is never blocked by
// capture and drops are never silent.
//
// Next, and Close after it, are called by one goroutine; Stats from any.
// Next hands out the packets of several interfaces in timestamp order,
// whatever the scheduler does to the readers (see order). Each reader
// publishes a watermark, the time up to which its interface is known
// complete: whenever it finds no ring block ready at wall time E, it has
// taken every packet older than E less the longest time a block can wait
// in the kernel, and it says so through the channel, behind the batches
// it covers. An idle or down interface keeps publishing, at each poll
// timeout. A packet waits until every other interface has a packet
// queued or a watermark at or past its time. As a last resort against a
// reader stuck for seconds, a packet also goes out once a fallback (2 s)
// has passed since its time by the wall clock. A single interface never
// waits, and costs no clock reading per packet. Besides packets, Next
// returns clock ticks (a Packet with nil Data) at the configured interval
// when no packet is waiting, so that timeouts run when no traffic
// arrives; a tick's time is the lowest watermark (some 150 to 250 ms
// behind the wall clock, never more than the fallback), so it never runs
// ahead of packets still in a ring. When Start's context is done, the
// readers take what the ring still holds (waiting up to drainLimit for a
// block the kernel has put packets in but not handed over yet, as its
// packet counter shows), then Next returns io.EOF.
package live
