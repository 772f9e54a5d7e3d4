// Package testpcap builds synthetic captures for tests and benchmarks:
// Ethernet/IPv4/IPv6 frames carrying UDP or TCP, SIP messages with SDP,
// RTP packets, and whole call scenarios, written as classic pcap.
//
// Frames are serialised with gopacket's layers, which are independent of
// lc's own decoder, so a test built with this package checks lc against
// another implementation. Nothing here is used by lc itself.
package testpcap
