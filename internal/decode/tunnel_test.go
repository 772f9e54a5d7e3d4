package decode

import (
	"net/netip"
	"testing"
)

func TestTunnels(t *testing.T) {
	sip := []byte("INVITE sip:b SIP/2.0\r\n\r\n")
	in4 := ipv4("192.168.1.1", "192.168.1.2", protoUDP, udp(5060, 5060, sip), ip4opts{})
	in6 := ipv6("fd00::1", "fd00::2", protoUDP, udp(5060, 5060, sip))
	outer4 := func(proto uint8, p []byte) []byte {
		return eth(etherIPv4, ipv4("10.0.0.1", "10.0.0.2", proto, p, ip4opts{}))
	}
	outer6 := func(nh uint8, p []byte) []byte {
		return eth(etherIPv6, ipv6("2001:db8::a", "2001:db8::b", nh, p))
	}
	frame4 := eth(etherIPv4, in4)
	tests := []struct {
		name string
		data []byte
		v6   bool
	}{
		{"ipip 4in4", outer4(protoIPIP, in4), false},
		{"ipip 6in4", outer4(protoIPv6, in6), true},
		{"ipip 4in6", outer6(protoIPIP, in4), false},
		{"ipip 6in6", outer6(protoIPv6, in6), true},
		{"ipip 4in4in4", outer4(protoIPIP, ipv4("172.16.0.1", "172.16.0.2", protoIPIP, in4, ip4opts{})), false},
		{"gre ipv4", outer4(protoGRE, greHdr(0, etherIPv4, in4)), false},
		{"gre ipv6 over ipv6", outer6(protoGRE, greHdr(0, etherIPv6, in6)), true},
		{"gre checksum key sequence", outer4(protoGRE, greHdr(greChecksum|greKey|greSequence, etherIPv4, make([]byte, 12), in4)), false},
		{"gre key", outer4(protoGRE, greHdr(greKey, etherIPv6, be32(99), in6)), true},
		{"gre bridged ethernet", outer4(protoGRE, greHdr(0, etherTEB, frame4)), false},
		{"gre bridged ethernet vlan", outer4(protoGRE, greHdr(greKey, etherTEB, be32(1), eth(etherVLAN, cat(be16(7), be16(etherIPv6), in6)))), true},
		{"erspan type I", outer4(protoGRE, greHdr(0, greERSPAN2, frame4)), false},
		{"erspan type II", outer4(protoGRE, greHdr(greSequence, greERSPAN2, be32(1), erspan2(frame4))), false},
		{"erspan type II over ipv6", outer6(protoGRE, greHdr(greSequence, greERSPAN2, be32(1), erspan2(eth(etherIPv6, in6)))), true},
		{"erspan type III", outer4(protoGRE, greHdr(greSequence, greERSPAN3, be32(1), erspan3(0, false, frame4))), false},
		{"erspan type III platform subheader", outer4(protoGRE, greHdr(greSequence, greERSPAN3, be32(1), erspan3(0, true, frame4))), false},
		{"erspan type III ip frame", outer4(protoGRE, greHdr(greSequence, greERSPAN3, be32(1), erspan3(2, true, in6))), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c collector
			d := New(Config{})
			d.Decode(pkt(linkEthernet, tt.data, t0), c.emit)
			if len(c.units) != 1 {
				t.Fatalf("got %d units, want 1", len(c.units))
			}
			u := c.units[0]
			if u.Kind != KindUDP || u.Payload != string(sip) {
				t.Fatalf("got %v/%v %q, want the inner UDP datagram", u.Kind, u.Note, u.Payload)
			}
			src, dst := "192.168.1.1:5060", "192.168.1.2:5060"
			if tt.v6 {
				src, dst = "[fd00::1]:5060", "[fd00::2]:5060"
			}
			if u.Src != netip.MustParseAddrPort(src) || u.Dst != netip.MustParseAddrPort(dst) {
				t.Errorf("got %v -> %v, want the innermost %s -> %s", u.Src, u.Dst, src, dst)
			}
		})
	}
}

func TestTunnelsOther(t *testing.T) {
	in4 := ipv4("192.168.1.1", "192.168.1.2", protoUDP, udp(1, 2, nil), ip4opts{})
	outer4 := func(proto uint8, p []byte) []byte {
		return ipv4("10.0.0.1", "10.0.0.2", proto, p, ip4opts{})
	}
	deep := in4
	for range maxDepth + 1 {
		deep = outer4(protoIPIP, deep)
	}
	tests := []struct {
		name string
		data []byte
		note Note
	}{
		{"gre short", outer4(protoGRE, []byte{0, 0, 8}), NoteUndecodable},
		{"gre options past end", outer4(protoGRE, greHdr(greChecksum|greKey, etherIPv4, be32(0))), NoteUndecodable},
		{"gre version 1", outer4(protoGRE, greHdr(greKey|1, 0x880b, be32(0), []byte{0xff, 0x03})), NoteNone},
		{"gre source routing", outer4(protoGRE, greHdr(greRouting|greChecksum, etherIPv4, be32(0), in4)), NoteNone},
		{"gre unknown protocol", outer4(protoGRE, greHdr(0, 0x883e, be32(0), in4)), NoteNone},
		{"erspan II short", outer4(protoGRE, greHdr(greSequence, greERSPAN2, be32(1), []byte{0x10})), NoteUndecodable},
		{"erspan III short", outer4(protoGRE, greHdr(greSequence, greERSPAN3, be32(1), make([]byte, 11))), NoteUndecodable},
		{"erspan III subheader past end", outer4(protoGRE, greHdr(greSequence, greERSPAN3, be32(1), erspan3(0, true, nil)[:15])), NoteUndecodable},
		{"erspan III unknown frame type", outer4(protoGRE, greHdr(greSequence, greERSPAN3, be32(1), erspan3(5, false, in4))), NoteNone},
		{"erspan inner arp", outer4(protoGRE, greHdr(0, greERSPAN2, eth(0x0806, make([]byte, 28)))), NoteNone},
		{"erspan inner ethernet short", outer4(protoGRE, greHdr(0, greERSPAN2, macA)), NoteUndecodable},
		{"inner ip broken", outer4(protoIPIP, in4[:10]), NoteUndecodable},
		{"too deep", deep, NoteUndecodable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c collector
			d := New(Config{})
			d.Decode(pkt(linkRaw, tt.data, t0), c.emit)
			if len(c.units) != 1 {
				t.Fatalf("got %d units, want 1", len(c.units))
			}
			if u := c.units[0]; u.Kind != KindOther || u.Note != tt.note {
				t.Fatalf("got %v/%v, want other/%v", u.Kind, u.Note, tt.note)
			}
		})
	}
}

func TestTunnelDepthLimit(t *testing.T) {
	in4 := ipv4("192.168.1.1", "192.168.1.2", protoUDP, udp(1, 2, []byte("x")), ip4opts{})
	b := in4
	for range maxDepth {
		b = ipv4("10.0.0.1", "10.0.0.2", protoIPIP, b, ip4opts{})
	}
	var c collector
	New(Config{}).Decode(pkt(linkRaw, b, t0), c.emit)
	if len(c.units) != 1 || c.units[0].Kind != KindUDP {
		t.Fatalf("%d nested tunnels: got %+v, want the UDP datagram", maxDepth, c.units)
	}
}
