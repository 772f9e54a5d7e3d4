package decode

import "testing"

func TestIP(t *testing.T) {
	body := []byte("hello")
	u := udp(1000, 2000, body)
	tests := []struct {
		name    string
		lt      uint16
		data    []byte
		kind    Kind
		note    Note
		payload string
	}{
		{"ipv4 options", linkRaw, ipv4("1.1.1.1", "2.2.2.2", protoUDP, u, ip4opts{options: []byte{1, 1, 1, 0, 0x94, 4, 0, 0}}), KindUDP, 0, "hello"},
		{"ipv4 total length trims", linkRaw, cat(ipv4("1.1.1.1", "2.2.2.2", protoUDP, u, ip4opts{}), []byte("pad")), KindUDP, 0, "hello"},
		{"ipv4 zero total length", linkRaw, ipv4("1.1.1.1", "2.2.2.2", protoUDP, u, ip4opts{noTotal: true}), KindUDP, 0, "hello"},
		{"ipv4 snapped", linkRaw, ipv4("1.1.1.1", "2.2.2.2", protoUDP, u, ip4opts{})[:20+8+3], KindUDP, 0, "hel"},
		{"ipv4 total below header", linkRaw, ipv4("1.1.1.1", "2.2.2.2", protoUDP, u, ip4opts{total: 19}), KindOther, NoteUndecodable, ""},
		{"ipv4 short", linkIPv4, []byte{0x45, 0, 0}, KindOther, NoteUndecodable, ""},
		{"ipv4 ihl too small", linkRaw, cat([]byte{0x44}, ipv4("1.1.1.1", "2.2.2.2", protoUDP, u, ip4opts{})[1:]), KindOther, NoteUndecodable, ""},
		{"ipv4 ihl past end", linkRaw, cat([]byte{0x4f}, ipv4("1.1.1.1", "2.2.2.2", protoUDP, nil, ip4opts{})[1:]), KindOther, NoteUndecodable, ""},
		{"icmp", linkRaw, ipv4("1.1.1.1", "2.2.2.2", 1, make([]byte, 8), ip4opts{}), KindOther, NoteNone, ""},
		{"sctp", linkRaw, ipv4("1.1.1.1", "2.2.2.2", 132, make([]byte, 28), ip4opts{}), KindOther, NoteNone, ""},
		{"udp short", linkRaw, ipv4("1.1.1.1", "2.2.2.2", protoUDP, u[:7], ip4opts{}), KindOther, NoteUndecodable, ""},
		{"udp length below 8", linkRaw, ipv4("1.1.1.1", "2.2.2.2", protoUDP, cat(u[:4], be16(7), u[6:]), ip4opts{}), KindOther, NoteUndecodable, ""},
		{"udp length bounds payload", linkRaw, ipv4("1.1.1.1", "2.2.2.2", protoUDP, cat(u[:4], be16(10), u[6:]), ip4opts{}), KindUDP, 0, "he"},
		{"udp length zero", linkRaw, ipv4("1.1.1.1", "2.2.2.2", protoUDP, cat(u[:4], be16(0), u[6:]), ip4opts{}), KindUDP, 0, "hello"},
		{"udp length past end", linkRaw, ipv4("1.1.1.1", "2.2.2.2", protoUDP, cat(u[:4], be16(100), u[6:]), ip4opts{}), KindUDP, 0, "hello"},
		{"tcp short", linkRaw, ipv4("1.1.1.1", "2.2.2.2", protoTCP, make([]byte, 19), ip4opts{}), KindOther, NoteUndecodable, ""},
		{"tcp bad offset", linkRaw, ipv4("1.1.1.1", "2.2.2.2", protoTCP, make([]byte, 20), ip4opts{}), KindOther, NoteUndecodable, ""},
		{"ipv6 hop-by-hop routing dstopts", linkRaw, ipv6("::1", "::2", protoHopByHop, u, ext6(protoRouting, 8), ext6(protoDstOpts, 24), ext6(protoUDP, 16)), KindUDP, 0, "hello"},
		{"ipv6 ah", linkRaw, ipv6("::1", "::2", protoAH, u, cat([]byte{protoUDP, 4}, make([]byte, 22))), KindUDP, 0, "hello"},
		{"ipv6 atomic fragment", linkRaw, ipv6("::1", "::2", protoFragment, u, frag6(protoUDP, 0, false, 7)), KindUDP, 0, "hello"},
		{"ipv6 unknown next header", linkRaw, ipv6("::1", "::2", 135, u), KindOther, NoteNone, ""},
		{"ipv6 no next header", linkRaw, ipv6("::1", "::2", 59, nil), KindOther, NoteNone, ""},
		{"ipv6 extension truncated", linkRaw, ipv6("::1", "::2", protoHopByHop, nil, []byte{protoUDP, 2, 0, 0, 0, 0, 0, 0}), KindOther, NoteUndecodable, ""},
		{"ipv6 extension short", linkRaw, ipv6("::1", "::2", protoDstOpts, nil, []byte{protoUDP, 0}), KindOther, NoteUndecodable, ""},
		{"ipv6 short", linkIPv6, ipv6("::1", "::2", protoUDP, nil)[:39], KindOther, NoteUndecodable, ""},
		{"ipv6 payload length trims", linkRaw, cat(ipv6("::1", "::2", protoUDP, cat(u[:4], be16(0), u[6:])), []byte("xx")), KindUDP, 0, "hello"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c collector
			d := New(Config{})
			d.Decode(pkt(tt.lt, tt.data, t0), c.emit)
			if len(c.units) != 1 {
				t.Fatalf("got %d units, want 1", len(c.units))
			}
			u := c.units[0]
			if u.Kind != tt.kind || u.Note != tt.note || u.Payload != tt.payload {
				t.Fatalf("got %v/%v %q, want %v/%v %q", u.Kind, u.Note, u.Payload, tt.kind, tt.note, tt.payload)
			}
		})
	}
}

func TestParseIPv4Fields(t *testing.T) {
	b := ipv4("192.0.2.1", "198.51.100.7", protoTCP, []byte("abc"), ip4opts{id: 0x1234, fragOff: 1480, more: true})
	h, v := parseIPv4(b)
	if v != ok {
		t.Fatal("parse failed")
	}
	if h.id != 0x1234 || h.fragOff != 1480 || !h.more || h.proto != protoTCP || string(h.payload) != "abc" || !h.fragment() {
		t.Fatalf("got %+v", h)
	}
	if h.src != [4]byte{192, 0, 2, 1} || h.dst != [4]byte{198, 51, 100, 7} {
		t.Fatalf("addresses %v %v", h.src, h.dst)
	}
}

func TestParseIPv6Fragment(t *testing.T) {
	b := ipv6("2001:db8::1", "2001:db8::2", protoHopByHop, []byte("data"), ext6(protoFragment, 8), frag6(protoUDP, 2048, true, 0xabcdef01))
	h, v := parseIPv6(b)
	if v != ok {
		t.Fatal("parse failed")
	}
	if !h.frag || h.fragOff != 2048 || !h.more || h.id != 0xabcdef01 || h.proto != protoUDP || string(h.payload) != "data" {
		t.Fatalf("got %+v", h)
	}
}
