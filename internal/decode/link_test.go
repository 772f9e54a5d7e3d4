package decode

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/gopacket/gopacket/layers"
)

func TestLinkTypes(t *testing.T) {
	sip := []byte("OPTIONS sip:a@b SIP/2.0\r\n\r\n")
	ip4 := ipv4("10.0.0.1", "10.0.0.2", protoUDP, udp(5060, 5080, sip), ip4opts{})
	ip6 := ipv6("2001:db8::1", "2001:db8::2", protoUDP, udp(5060, 5080, sip))
	le32 := func(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
	snap := func(etype uint16, p []byte) []byte {
		llc := cat([]byte{0xaa, 0xaa, 0x03, 0, 0, 0}, be16(etype), p)
		return cat(macB, macA, be16(uint16(len(llc))), llc)
	}
	mpls := func(labels int, p []byte) []byte {
		var out []byte
		for i := range labels {
			e := be32(uint32(100+i)<<12 | 64)
			if i == labels-1 {
				e[2] |= 1
			}
			out = append(out, e...)
		}
		return append(out, p...)
	}
	pppoe := func(proto uint16, p []byte) []byte {
		return cat([]byte{0x11, 0x00}, be16(0x1234), be16(uint16(2+len(p))), be16(proto), p)
	}
	tests := []struct {
		name string
		lt   uint16
		data []byte
		v6   bool
	}{
		{"ethernet ipv4", linkEthernet, eth(etherIPv4, ip4), false},
		{"ethernet ipv6", linkEthernet, eth(etherIPv6, ip6), true},
		{"ethernet padding", linkEthernet, cat(eth(etherIPv4, ip4), make([]byte, 20)), false},
		{"802.1Q", linkEthernet, eth(etherVLAN, cat(be16(100), be16(etherIPv4), ip4)), false},
		{"QinQ 88a8", linkEthernet, eth(etherQinQ, cat(be16(10), vlanTag(etherVLAN, 20), be16(etherIPv4), ip4)), false},
		{"QinQ 9100 three tags", linkEthernet, eth(etherQinQOld, cat(be16(1), vlanTag(etherQinQ, 2), vlanTag(etherVLAN, 3), be16(etherIPv6), ip6)), true},
		{"LLC SNAP", linkEthernet, snap(etherIPv4, ip4), false},
		{"MPLS one label", linkEthernet, eth(etherMPLS, mpls(1, ip4)), false},
		{"MPLS two labels ipv6", linkEthernet, eth(etherMPLS, mpls(2, ip6)), true},
		{"MPLS pseudowire", linkEthernet, eth(etherMPLS, mpls(1, cat(be32(0), eth(etherIPv4, ip4)))), false},
		{"PPPoE", linkEthernet, eth(etherPPPoE, pppoe(0x0021, ip4)), false},
		{"PPPoE ipv6", linkEthernet, eth(etherPPPoE, pppoe(0x0057, ip6)), true},
		{"SLL", linkSLL, sll(etherIPv4, ip4), false},
		{"SLL vlan", linkSLL, sll(etherVLAN, cat(be16(5), be16(etherIPv6), ip6)), true},
		{"SLL2", linkSLL2, sll2(etherIPv6, ip6), true},
		{"raw 101 v4", linkRaw, ip4, false},
		{"raw 101 v6", linkRaw, ip6, true},
		{"raw 12", linkRawDLT12, ip4, false},
		{"raw 14", linkRawDLT14, ip6, true},
		{"ipv4 228", linkIPv4, ip4, false},
		{"ipv6 229", linkIPv6, ip6, true},
		{"null LE inet", linkNull, cat(le32(2), ip4), false},
		{"null BE inet", linkNull, cat(be32(2), ip4), false},
		{"null LE inet6 24", linkNull, cat(le32(24), ip6), true},
		{"null BE inet6 28", linkNull, cat(be32(28), ip6), true},
		{"null LE inet6 30", linkNull, cat(le32(30), ip6), true},
		{"loop", linkLoop, cat(be32(2), ip4), false},
		{"loop inet6", linkLoop, cat(be32(30), ip6), true},
		{"PPP", linkPPP, cat([]byte{0xff, 0x03}, be16(0x0021), ip4), false},
		{"PPP compressed", linkPPP, cat([]byte{0x57}, ip6), true},
		{"C-HDLC", linkCHDLC, cat([]byte{0x0f, 0}, be16(etherIPv4), ip4), false},
		{"SLL IP-GRE bridged", linkSLL, sll(etherTEB, eth(etherIPv4, ip4)), false},
		{"PPPoE padded", linkEthernet, cat(eth(etherPPPoE, pppoe(0x0021, ip4)), make([]byte, 10)), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c collector
			d := New(Config{})
			p := pkt(tt.lt, tt.data, t0)
			d.Decode(p, c.emit)
			if len(c.units) != 1 {
				t.Fatalf("got %d units, want 1", len(c.units))
			}
			u := c.units[0]
			if u.Kind != KindUDP || u.Payload != string(sip) || len(u.Packets) != 1 || u.Packets[0] != p {
				t.Fatalf("got %v/%v payload %q, want the UDP datagram", u.Kind, u.Note, u.Payload)
			}
			src, dst := "10.0.0.1:5060", "10.0.0.2:5080"
			if tt.v6 {
				src, dst = "[2001:db8::1]:5060", "[2001:db8::2]:5080"
			}
			if u.Src != netip.MustParseAddrPort(src) || u.Dst != netip.MustParseAddrPort(dst) {
				t.Errorf("got %v -> %v, want %s -> %s", u.Src, u.Dst, src, dst)
			}
		})
	}
}

func TestLinkOther(t *testing.T) {
	ip4 := ipv4("10.0.0.1", "10.0.0.2", protoUDP, udp(1, 2, nil), ip4opts{})
	tests := []struct {
		name string
		lt   uint16
		data []byte
		note Note
	}{
		{"arp", linkEthernet, eth(0x0806, make([]byte, 28)), NoteNone},
		{"llc not snap", linkEthernet, cat(macB, macA, be16(10), []byte{0x42, 0x42, 0x03}, make([]byte, 7)), NoteNone},
		{"snap non-ip", linkEthernet, cat(macB, macA, be16(8), []byte{0xaa, 0xaa, 0x03, 0, 0, 0}, be16(0x0806)), NoteNone},
		{"short ethernet", linkEthernet, macB, NoteUndecodable},
		{"short vlan", linkEthernet, eth(etherVLAN, []byte{0}), NoteUndecodable},
		{"too many vlan tags", linkEthernet, eth(etherVLAN, repeat(cat(be16(1), be16(etherVLAN)), 20)), NoteUndecodable},
		{"unknown link type", uint16(layers.LinkTypeFDDI), ip4, NoteUndecodable},
		{"short sll", linkSLL, make([]byte, 15), NoteUndecodable},
		{"sll netlink", linkSLL, sll(0x0004, make([]byte, 20)), NoteNone},
		{"short sll2", linkSLL2, make([]byte, 19), NoteUndecodable},
		{"null unknown af", linkNull, cat(be32(7), ip4), NoteNone},
		{"null short", linkNull, []byte{2, 0}, NoteUndecodable},
		{"raw bad version", linkRaw, cat([]byte{0x50}, ip4[1:]), NoteUndecodable},
		{"raw empty", linkRaw, nil, NoteUndecodable},
		{"ipv4 link carrying ipv6", linkIPv4, ipv6("::1", "::2", 59, nil), NoteUndecodable},
		{"mpls unknown payload", linkEthernet, eth(etherMPLS, cat([]byte{0, 0, 1, 64}, []byte{0x90})), NoteNone},
		{"mpls truncated", linkEthernet, eth(etherMPLS, []byte{0, 0, 0}), NoteUndecodable},
		{"pppoe lcp", linkEthernet, eth(etherPPPoE, cat([]byte{0x11, 0}, be16(1), be16(2), be16(0xc021))), NoteNone},
		{"ppp short", linkPPP, []byte{0xff, 0x03}, NoteUndecodable},
		{"ppp compressed short", linkPPP, []byte{0x00}, NoteUndecodable},
		{"pppoe short", linkEthernet, eth(etherPPPoE, []byte{0x11, 0, 0, 1}), NoteUndecodable},
		{"bridged short", linkSLL, sll(etherTEB, macA), NoteUndecodable},
		{"bridged 802.3", linkSLL, sll(etherTEB, cat(macA, macB, be16(20))), NoteNone},
		{"mpls empty after label", linkEthernet, eth(etherMPLS, []byte{0, 0, 1, 64}), NoteUndecodable},
		{"mpls short control word", linkEthernet, eth(etherMPLS, []byte{0, 0, 1, 64, 0, 0}), NoteUndecodable},
		{"mpls endless", linkEthernet, eth(etherMPLS, repeat([]byte{0, 0, 0, 64}, 20)), NoteUndecodable},
		{"c-hdlc short", linkCHDLC, []byte{0x0f}, NoteUndecodable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c collector
			d := New(Config{})
			p := pkt(tt.lt, tt.data, t0)
			d.Decode(p, c.emit)
			if len(c.units) != 1 {
				t.Fatalf("got %d units, want 1", len(c.units))
			}
			if u := c.units[0]; u.Kind != KindOther || u.Note != tt.note || len(u.Packets) != 1 || u.Packets[0] != p {
				t.Fatalf("got %v/%v, want other/%v with the packet", u.Kind, u.Note, tt.note)
			}
			st := d.Stats()
			if tt.note == NoteUndecodable && st.Undecodable == (LayerCounts{}) {
				t.Error("undecodable packet not counted")
			}
			if tt.note == NoteNone && st.NonIP != 1 {
				t.Errorf("NonIP = %d, want 1", st.NonIP)
			}
		})
	}
}

// TestLinkSLL2 checks that LINKTYPE_LINUX_SLL2 is recognised by its real
// value, 276, and not by 276&0xff = 20, which libpcap leaves unassigned.
func TestLinkSLL2(t *testing.T) {
	sip := []byte("OPTIONS sip:a@b SIP/2.0\r\n\r\n")
	frame := sll2(etherIPv4, ipv4("10.0.0.1", "10.0.0.2", protoUDP, udp(5060, 5080, sip), ip4opts{}))
	tests := []struct {
		lt   uint16
		kind Kind
		note Note
	}{
		{276, KindUDP, NoteNone},
		{20, KindOther, NoteUndecodable},
	}
	for _, tt := range tests {
		var c collector
		d := New(Config{})
		d.Decode(pkt(tt.lt, frame, t0), c.emit)
		if len(c.units) != 1 {
			t.Fatalf("link type %d: got %d units, want 1", tt.lt, len(c.units))
		}
		u := c.units[0]
		if u.Kind != tt.kind || u.Note != tt.note {
			t.Errorf("link type %d: got %v/%v, want %v/%v", tt.lt, u.Kind, u.Note, tt.kind, tt.note)
		}
		if tt.kind == KindUDP && u.Payload != string(sip) {
			t.Errorf("link type %d: payload %q, want %q", tt.lt, u.Payload, sip)
		}
	}
}

func repeat(b []byte, n int) []byte {
	var out []byte
	for range n {
		out = append(out, b...)
	}
	return out
}
