package filter

import (
	"encoding/binary"
	"errors"
	"io"
	"net/netip"
	"path/filepath"
	"testing"

	"github.com/lc-voip/lc/internal/capture"
	"github.com/lc-voip/lc/internal/testenv"
)

// Synthetic frames for the oracle and the benchmarks. Every byte is
// written here so that each link type gets IPv4 and IPv6 with TCP, UDP,
// SCTP and ICMP, fragments, IP options, extension headers, ARP, VLAN tags
// and odd EtherTypes, whatever the shared captures hold.

var (
	macA     = [6]byte{0x00, 0x11, 0x22, 0x33, 0x44, 0x55}
	macB     = [6]byte{0x02, 0x00, 0x5e, 0x10, 0x00, 0x01}
	macBcast = [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
)

// ether returns an Ethernet frame: dst, src, then the EtherTypes (VLAN
// tags are given as TPID followed by TCI) and the payload.
func ether(dst, src [6]byte, types []uint16, payload []byte) []byte {
	b := append(dst[:], src[:]...)
	for _, t := range types {
		b = binary.BigEndian.AppendUint16(b, t)
	}
	return append(b, payload...)
}

// ipv4 returns an IPv4 packet. opts are IP options (a multiple of 4
// bytes); frag is the flags and fragment offset field.
func ipv4(src, dst string, proto uint8, frag uint16, opts, payload []byte) []byte {
	ihl := 5 + len(opts)/4
	h := make([]byte, 20, 20+len(opts)+len(payload))
	h[0] = byte(0x40 | ihl)
	binary.BigEndian.PutUint16(h[2:], uint16(4*ihl+len(payload)))
	binary.BigEndian.PutUint16(h[4:], 0x1234)
	binary.BigEndian.PutUint16(h[6:], frag)
	h[8] = 64
	h[9] = proto
	s, d := netip.MustParseAddr(src).As4(), netip.MustParseAddr(dst).As4()
	copy(h[12:], s[:])
	copy(h[16:], d[:])
	h = append(h, opts...)
	return append(h, payload...)
}

// ipv6 returns an IPv6 packet whose payload starts with next header nh.
func ipv6(src, dst string, nh uint8, payload []byte) []byte {
	h := make([]byte, 40, 40+len(payload))
	h[0] = 0x60
	binary.BigEndian.PutUint16(h[4:], uint16(len(payload)))
	h[6] = nh
	h[7] = 64
	s, d := netip.MustParseAddr(src).As16(), netip.MustParseAddr(dst).As16()
	copy(h[8:], s[:])
	copy(h[24:], d[:])
	return append(h, payload...)
}

// l4 returns a transport header with the given ports followed by n bytes
// of payload; it serves for TCP, UDP and SCTP alike, which all start with
// the two ports.
func l4(sport, dport uint16, n int) []byte {
	b := binary.BigEndian.AppendUint16(nil, sport)
	b = binary.BigEndian.AppendUint16(b, dport)
	b = append(b, make([]byte, 16)...)
	for i := range n {
		b = append(b, byte(i))
	}
	return b
}

// arpPacket returns an ARP (or RARP) packet for IPv4 over Ethernet.
func arpPacket(op uint16, sha [6]byte, spa string, tpa string) []byte {
	b := []byte{0, 1, 8, 0, 6, 4}
	b = binary.BigEndian.AppendUint16(b, op)
	s, d := netip.MustParseAddr(spa).As4(), netip.MustParseAddr(tpa).As4()
	b = append(b, sha[:]...)
	b = append(b, s[:]...)
	b = append(b, make([]byte, 6)...)
	return append(b, d[:]...)
}

// syntheticFrames returns Ethernet frames covering what the grammar tests.
func syntheticFrames() [][]byte {
	const (
		tIPv4, tIPv6, tARP, tRARP = 0x0800, 0x86dd, 0x0806, 0x8035
		tQ, tAD, t9100            = 0x8100, 0x88a8, 0x9100
	)
	udp4 := func(src, dst string, sp, dp uint16, n int) []byte {
		return ipv4(src, dst, 17, 0, nil, l4(sp, dp, n))
	}
	v6 := func(src, dst string, nh uint8, sp, dp uint16) []byte {
		return ipv6(src, dst, nh, l4(sp, dp, 8))
	}
	fragHdr := func(nh uint8, off uint16) []byte {
		return []byte{nh, 0, byte(off >> 8), byte(off), 0, 0, 0, 1}
	}
	e := func(types []uint16, payload []byte) []byte { return ether(macB, macA, types, payload) }
	frames := [][]byte{
		// IPv4 UDP, TCP, SCTP, ICMP with various ports and addresses.
		e([]uint16{tIPv4}, udp4("10.0.0.1", "10.0.0.2", 5060, 5060, 40)),
		e([]uint16{tIPv4}, udp4("10.0.0.2", "192.168.1.1", 5060, 1234, 8)),
		e([]uint16{tIPv4}, udp4("192.168.1.1", "10.0.0.1", 1234, 5080, 200)),
		e([]uint16{tIPv4}, udp4("172.16.5.4", "10.1.2.3", 15000, 20001, 8)),
		e([]uint16{tIPv4}, udp4("10.1.0.9", "8.8.8.8", 53, 53, 8)),
		e([]uint16{tIPv4}, ipv4("10.0.0.1", "1.2.3.4", 6, 0, nil, l4(80, 40000, 4))),
		e([]uint16{tIPv4}, ipv4("1.2.3.4", "10.0.0.2", 6, 0, nil, l4(22, 443, 4))),
		e([]uint16{tIPv4}, ipv4("10.0.0.2", "10.0.0.2", 6, 0, nil, l4(5060, 5060, 0))),
		e([]uint16{tIPv4}, ipv4("10.0.0.5", "10.0.0.6", 132, 0, nil, l4(5060, 2905, 8))),
		e([]uint16{tIPv4}, ipv4("10.0.0.1", "10.0.0.9", 1, 0, nil, []byte{8, 0, 0, 0, 0, 1, 0, 1})),
		e([]uint16{tIPv4}, ipv4("192.168.7.7", "10.0.0.1", 47, 0, nil, make([]byte, 24))),
		// IPv4 with options: the ports move with IHL.
		e([]uint16{tIPv4}, ipv4("10.0.0.1", "10.0.0.2", 17, 0, []byte{1, 1, 1, 0}, l4(5060, 9, 4))),
		e([]uint16{tIPv4}, ipv4("10.0.0.3", "10.0.0.4", 6, 0, make([]byte, 8), l4(7, 80, 4))),
		// IPv4 fragments: first (MF, offset 0) and later ones whose
		// payload looks like port 5060.
		e([]uint16{tIPv4}, ipv4("10.0.0.1", "10.0.0.2", 17, 0x2000, nil, l4(5060, 5060, 16))),
		e([]uint16{tIPv4}, ipv4("10.0.0.1", "10.0.0.2", 17, 0x2003, nil, l4(5060, 5060, 16))),
		e([]uint16{tIPv4}, ipv4("10.0.0.1", "10.0.0.2", 6, 0x0100, nil, l4(80, 80, 16))),
		// IPv6.
		e([]uint16{tIPv6}, v6("2001:db8::1", "2001:db8::2", 17, 5060, 5060)),
		e([]uint16{tIPv6}, v6("2001:db8:0:1::5", "fe80::1", 17, 5060, 12000)),
		e([]uint16{tIPv6}, v6("fe80::1", "::1", 6, 443, 80)),
		e([]uint16{tIPv6}, v6("::1", "::1", 132, 5060, 5061)),
		e([]uint16{tIPv6}, v6("2001:db8:1000::7", "::ffff:1.2.3.4", 58, 0x8000, 0)),
		e([]uint16{tIPv6}, v6("2001:db9::1", "2001:db8::1", 17, 1, 10000)),
		// IPv6 with a Fragment header, and with Hop-by-Hop options.
		e([]uint16{tIPv6}, ipv6("2001:db8::1", "2001:db8::2", 44, append(fragHdr(17, 1), l4(5060, 5060, 8)...))),
		e([]uint16{tIPv6}, ipv6("2001:db8::1", "2001:db8::2", 44, append(fragHdr(6, 0x80), l4(80, 80, 8)...))),
		e([]uint16{tIPv6}, ipv6("2001:db8::1", "2001:db8::2", 44, append(fragHdr(58, 0), 128, 0, 0, 0))),
		e([]uint16{tIPv6}, ipv6("2001:db8::1", "2001:db8::2", 0, append([]byte{17, 0, 1, 4, 0, 0, 0, 0}, l4(5060, 5060, 8)...))),
		// ARP and RARP.
		e([]uint16{tARP}, arpPacket(1, macA, "10.0.0.1", "10.0.0.2")),
		ether(macBcast, macA, []uint16{tARP}, arpPacket(1, macA, "192.168.1.1", "10.0.0.1")),
		e([]uint16{tRARP}, arpPacket(3, macB, "10.0.0.1", "0.0.0.0")),
		// VLAN tags: 802.1Q, QinQ and the old 0x9100.
		e([]uint16{tQ, 100, tIPv4}, udp4("10.0.0.1", "10.0.0.2", 5060, 5060, 8)),
		e([]uint16{tQ, 0x2064, tIPv4}, ipv4("10.0.0.1", "10.0.0.2", 6, 0, nil, l4(80, 5060, 8))),
		e([]uint16{tQ, 7, tIPv6}, v6("2001:db8::1", "::1", 17, 5060, 5060)),
		e([]uint16{tAD, 5, tQ, 100, tIPv6}, v6("2001:db8::1", "::1", 6, 1, 2)),
		e([]uint16{tAD, 100, tQ, 5, tIPv4}, udp4("10.0.0.1", "10.0.0.2", 5060, 5060, 8)),
		e([]uint16{t9100, 100, tARP}, arpPacket(2, macA, "10.0.0.1", "10.0.0.2")),
		// Other EtherTypes and an 802.3 length field.
		e([]uint16{0x88cc}, make([]byte, 46)),
		e([]uint16{64}, append([]byte{0x42, 0x42, 3}, make([]byte, 61)...)),
		ether(macA, macBcast, []uint16{tIPv4}, udp4("10.0.0.2", "10.0.0.1", 67, 68, 300)),
	}
	return frames
}

// reframe turns an Ethernet frame into a frame of link l, keeping its
// EtherType and what follows the 14-byte Ethernet header. It reports false
// when the frame is too short to have that header.
func reframe(frame []byte, l Link) ([]byte, bool) {
	if len(frame) < 14 {
		return nil, false
	}
	etype, payload := frame[12:14], frame[14:]
	var h []byte
	switch l {
	case Ethernet:
		return frame, true
	case Raw:
		return payload, true
	case LinuxSLL:
		h = []byte{0, 0, 0, 1, 0, 6}
		h = append(h, frame[6:12]...)
		h = append(h, 0, 0)
		h = append(h, etype...)
	case LinuxSLL2:
		h = append(h, etype...)
		h = append(h, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6)
		h = append(h, frame[6:12]...)
		h = append(h, 0, 0)
	}
	return append(h, payload...), true
}

// prefixes returns every prefix of every packet, the packets themselves
// included: truncated packets are where the order of loads shows.
func prefixes(pkts [][]byte) [][]byte {
	var out [][]byte
	for _, p := range pkts {
		for n := 0; n <= len(p); n++ {
			out = append(out, p[:n])
		}
	}
	return out
}

// sharedPackets reads the shared captures, grouped by the Link of their
// link type. When they are missing the test fails under CI and is skipped
// otherwise.
func sharedPackets(t testing.TB) map[Link][][]byte {
	t.Helper()
	dir, names := testenv.SharedCaptures(t)
	out := map[Link][][]byte{}
	for _, name := range names {
		path := filepath.Join(dir, filepath.FromSlash(name))
		f, err := capture.OpenFile(path, 0)
		if err != nil {
			t.Fatal(err)
		}
		for {
			p, err := f.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				// A damaged capture still contributes the packets
				// before the damage.
				t.Logf("%v", err)
				break
			}
			if l, ok := LinkOf(p.LinkType); ok {
				out[l] = append(out[l], p.Data)
			}
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// corpus returns the packets the oracle runs on link l: the shared
// captures of that link, the shared Ethernet frames reframed for it, and
// every prefix of the synthetic frames reframed for it.
func corpus(shared map[Link][][]byte, l Link) [][]byte {
	pkts := append([][]byte(nil), shared[l]...)
	var synth [][]byte
	for _, f := range syntheticFrames() {
		if p, ok := reframe(f, l); ok {
			synth = append(synth, p)
		}
	}
	if l != Ethernet {
		for _, f := range shared[Ethernet] {
			if p, ok := reframe(f, l); ok {
				pkts = append(pkts, p)
			}
		}
	}
	return append(pkts, prefixes(synth)...)
}
