// Package testpcap builds synthetic captures for tests and benchmarks:
// Ethernet/IPv4/IPv6 frames carrying UDP or TCP, SIP messages with SDP,
// RTP and RTCP packets, and whole call scenarios, written as classic pcap.
//
// Frames are serialised with gopacket's layers, which are independent of
// lc's own decoder, so a test built with this package checks lc against
// another implementation. Nothing here is used by lc itself.
//
// # Loads
//
// A load is many overlapping calls of several kinds (G.711 or G.729 media,
// SIP over UDP or TCP, a re-INVITE that moves the media, calls cancelled
// while ringing), described by a LoadConfig. Plan turns the config into
// Calls, deterministically from its seed; Merge plays them as one stream
// of packets in timestamp order, and WriteSeq writes the stream to a pcap
// without holding it in memory:
//
//	calls, err := testpcap.Plan(testpcap.DefaultLoadConfig())
//	...
//	err = testpcap.WriteSeq(f, layers.LinkTypeEthernet, testpcap.Merge(calls))
package testpcap
