//go:build linux

// Package testnet runs real SIP and RTP traffic between two Linux network
// namespaces, for tests that capture from a live interface. Like testpcap
// it serves tests only; nothing in lc imports it.
//
// # Pair
//
// NewPair makes two namespaces, A and B, joined by one veth link and
// configured through ip(8); the test's own namespace is never changed,
// and a cleanup deletes both namespaces when the test ends. The link
// carries only what the test sends: no ARP, neighbour discovery, router
// solicitation or MLD. Command runs a program (tcpdump, lc) in either
// namespace; Do runs a function on a thread that has joined one, which is
// how sockets are opened there.
//
// NewPair needs root and returns ErrNotRoot otherwise; tests skip on any
// NewPair error, or fail when CI is set in the environment:
//
//	p, err := testnet.NewPair(t)
//	if err != nil {
//		t.Skip(err)
//	}
//	dump := p.Command(1, "tcpdump", "-i", p.Iface[1], "-w", path)
//	// start dump, wait for "listening on"
//	callIDs, packets, err := p.SendCalls(testnet.Calls{N: 3, RTP: 10})
//
// # Traffic
//
// SendCalls plays complete calls with a deterministic wire order and
// content, for tests that compare what lc saw packet by packet. Blast
// sends paced load for a bounded time and reports the rate it reached.
// Both bind every destination port with sockets that drop what they
// receive, so the receiving kernel never answers with ICMP, and wait for
// the last datagrams to arrive before closing them. A capture on either
// veth end therefore sees the datagrams they report and nothing else.
//
// # Goroutines and threads
//
// Do starts one goroutine per call, locked to its OS thread, which ends
// with the goroutine so that no other goroutine ever runs in a test
// namespace. SendCalls and Blast send from the calling goroutine and use
// Do to open sockets and to read the kernel's UDP counters. The package
// starts no goroutine that outlives the call that started it.
package testnet
