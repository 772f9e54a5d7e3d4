// Package filter compiles tcpdump filter expressions (pcap-filter(7)) into
// classic BPF programs, in Go, without libpcap. It owns the expression
// language: parsing, code generation for the link types lc reads, and a
// userland predicate that runs the generated program.
//
// Parse turns an expression into a Filter; Filter.Compile produces the
// program for a Link, to attach to a socket or to run elsewhere;
// Filter.Matcher wraps the program in a func(pkt []byte) bool.
//
// # Grammar
//
// Primitives are combined with and (&&), or (||), not (!) and
// parentheses. "not" binds tightest; "and" and "or" have equal precedence
// and group left to right, so "a or b and c" is "(a or b) and c".
//
//	[src|dst|src or dst|src and dst] host ADDR    IPv4 or IPv6 literal
//	[ip|arp|rarp] [src|dst] host A.B.C.D
//	[ip6] [src|dst] host X:X::X
//	[src|dst] net A.B.C.D/LEN | A.B.C | A.B.C.D mask M.M.M.M | X:X::/LEN
//	[tcp|udp|sctp] [src|dst] port N
//	[tcp|udp|sctp] [src|dst] portrange N-M
//	ip | ip6 | arp | rarp | tcp | udp | sctp | icmp | icmp6
//	ip proto P | ip6 proto P | proto P            P a number or a name
//	ether proto E                                 E above 1500, or ip, ip6, arp, rarp
//	ether host MAC | ether src|dst [host] MAC
//	less N | greater N
//	vlan [ID]
//
// A bare value after "and" or "or" takes the qualifiers of the primitive
// before it: "host 10.0.0.1 or 10.0.0.2", "udp port 5060 or 5080",
// "not port 22 and not 53", "port (5060 or 5061)". A parenthesized
// expression leaves the qualifiers as they were before it, as in libpcap.
// Numbers may be decimal, 0x hex or 0-prefixed octal. Protocol names
// after proto come from a fixed table (tcp, udp, icmp, gre, esp, ...), and
// may be written bare ("ip proto udp") or escaped as libpcap wants them
// ("ip proto \udp").
//
// The meaning is libpcap's. host without a protocol matches IPv4, ARP and
// RARP headers for an IPv4 address and IPv6 for an IPv6 one; port without
// a protocol matches TCP, UDP and SCTP. IPv4 ports are looked for only in
// packets that are not fragments or are first fragments, after a header
// of the length IHL gives. IPv6 ports are looked for only when the fixed
// header's next header is the protocol; the protocol tests (tcp, udp,
// ip6 proto, ...) also look through one Fragment header. Each vlan
// primitive tests for an 802.1Q, 802.1ad or 0x9100 tag and moves
// everything written after it 4 bytes further into the frame, whatever
// the parentheses say.
//
// Programs follow libpcap's code generator and reproduce the rewrites of
// its optimizer, because the order of the tests decides what happens to
// a truncated packet: a load past its end rejects it, even under "not".
// The tests hold them to accepting and rejecting the same packets as
// tcpdump's, truncated ones included; most are the very instructions
// "tcpdump -d" prints.
//
// # Links
//
// Ethernet, LinuxSLL and LinuxSLL2 read the EtherType from the link
// header; Raw tells IPv4 from IPv6 by the version nibble; Cooked, for a
// Linux AF_PACKET SOCK_DGRAM socket, uses the kernel's protocol ancillary
// load, so its programs run only in the kernel. ether host and vlan need
// Ethernet; ether proto needs a link with an EtherType field, which Raw
// and Cooked lack. Compile reports such mismatches as errors naming the
// link.
//
// # Differences from libpcap
//
//   - Names are not resolved: no DNS for hosts, no /etc/services for
//     ports, no /etc/ethers, no /etc/protocols (a built-in table instead).
//   - ether proto takes only EtherTypes above 1500, not 802.2 LLC SAPs,
//     and is an error on Raw, where libpcap maps ip and ip6 to the version
//     nibble.
//   - LINKTYPE_IPV4 and LINKTYPE_IPV6 are compiled as LINKTYPE_RAW, so "ip"
//     checks the version nibble where libpcap assumes it.
//   - ip proto above 255 and ether proto above 65535 are errors rather
//     than tests that never match.
//   - Protocol keywords are taken as names after proto ("ip proto udp"),
//     where libpcap insists on the escaped form.
//   - Expressions of more than 1024 primitives or 4096 tests, and programs
//     of more than 4096 instructions (the kernel's limit), are refused.
//   - A Matcher sees only the captured bytes, so less and greater compare
//     the captured length, not the length on the wire.
//
// Not supported, and reported as errors: packet-data accessors and
// arithmetic (ip[0] & 0xf, tcp[tcpflags], len), gateway, broadcast and
// multicast, protochain, the other protocol families (decnet, iso, ipx,
// atalk, stp, ...), link synonyms of ether (link, ppp, fddi, tr, wlan),
// mpls, pppoe, geneve, vxlan, ifindex, inbound and outbound, 802.11 and
// the pf, ATM and SS7 keywords.
//
// # Errors
//
// Parse and Compile return an *Error carrying the expression, the byte
// offset of the token at fault (or -1) and a message. Like libpcap,
// Compile refuses an expression that rejects every packet.
//
// # Concurrency
//
// A Filter is immutable: Compile and Matcher may be called from any number
// of goroutines. A predicate returned by Matcher keeps no state and may
// also be called from any number of goroutines at once. The package
// starts no goroutines.
package filter
