// Benchcapture writes a synthetic VoIP capture for whole-program
// benchmarks: a classic Ethernet pcap of many overlapping calls, by default
// 1,500 calls with about 400 open at once and 1.4 million packets, of
// several kinds (G.711 and G.729 media, SIP over UDP and TCP, re-INVITEs
// that move the media, cancelled calls, RTCP). The same flags always give
// the same file. It prints one line describing what it wrote.
//
// Usage:
//
//	go run ./scripts/benchcapture -o bench.pcap [-calls N] [-concurrent N] [-talk D] [-seed N]
//
// scripts/bench-vs-tcpdump uses it to time lc against tcpdump.
package main
