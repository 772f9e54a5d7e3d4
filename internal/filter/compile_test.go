package filter

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/bpf"
)

func TestLinkOf(t *testing.T) {
	tests := []struct {
		linktype uint16
		link     Link
		ok       bool
	}{
		{1, Ethernet, true},
		{101, Raw, true},
		{228, Raw, true},
		{229, Raw, true},
		{113, LinuxSLL, true},
		{276, LinuxSLL2, true},
		{0, 0, false},
		{12, 0, false},
		{127, 0, false},
	}
	for _, tt := range tests {
		l, ok := LinkOf(tt.linktype)
		if l != tt.link || ok != tt.ok {
			t.Errorf("LinkOf(%d) = %v, %v; want %v, %v", tt.linktype, l, ok, tt.link, tt.ok)
		}
	}
	names := map[Link]string{Ethernet: "Ethernet", Raw: "Raw", LinuxSLL: "LinuxSLL", LinuxSLL2: "LinuxSLL2", Cooked: "Cooked", Link(9): "Link(9)"}
	for l, want := range names {
		if l.String() != want {
			t.Errorf("Link(%d).String() = %q, want %q", int(l), l.String(), want)
		}
	}
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		expr    string
		link    Link
		snaplen uint32
		pos     int
		msg     string
	}{
		{"tcp or ether host 00:11:22:33:44:55", Raw, 1, 7, "ether host needs an Ethernet link, not Raw"},
		{"ether src 00:11:22:33:44:55", LinuxSLL, 1, 0, "ether host needs an Ethernet link, not LinuxSLL"},
		{"ether dst 00:11:22:33:44:55", Cooked, 1, 0, "ether host needs an Ethernet link, not Cooked"},
		{"ether proto 0x0800", Raw, 1, 0, "ether proto needs a link with an EtherType field; Raw has none"},
		{"ether proto \\arp", Cooked, 1, 0, "ether proto needs a link with an EtherType field; Cooked has none"},
		{"udp and vlan 100", LinuxSLL2, 1, 8, "vlan needs an Ethernet link, not LinuxSLL2"},
		{"vlan", Cooked, 1, 0, "vlan needs an Ethernet link, not Cooked"},
		{"arp", Raw, 1, -1, "expression rejects all packets"},
		{"ip and not ip", Ethernet, 1, -1, "expression rejects all packets"},
		{"tcp and udp", Cooked, 1, -1, "expression rejects all packets"},
		{"tcp", Link(7), 1, -1, "unknown link Link(7)"},
		{"tcp", Ethernet, 0, -1, "snaplen 0 would reject every packet"},
		{manyHosts(400), Ethernet, 1, -1, "expression needs 4800 tests; at most 4096 are supported"},
		{manyMACs(1000), Ethernet, 1, -1, "program needs 9938 instructions; the kernel takes at most 4096"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%.40s/%s", tt.expr, tt.link), func(t *testing.T) {
			f, err := Parse(tt.expr)
			if err != nil {
				t.Fatal(err)
			}
			_, err = f.Compile(tt.link, tt.snaplen)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Compile = %v, want an *Error", err)
			}
			if e.Expr != tt.expr || e.Pos != tt.pos || e.Msg != tt.msg {
				t.Errorf("Compile = %q at %d, want %q at %d", e.Msg, e.Pos, tt.msg, tt.pos)
			}
		})
	}
}

// manyHosts returns "host A or host B ..." with n addresses.
func manyHosts(n int) string {
	var parts []string
	for i := range n {
		parts = append(parts, fmt.Sprintf("host 10.0.%d.%d", i/256, i%256))
	}
	return strings.Join(parts, " or ")
}

// manyMACs returns "ether host A or ..." with n addresses.
func manyMACs(n int) string {
	var parts []string
	for i := range n {
		parts = append(parts, fmt.Sprintf("02:00:00:00:%02x:%02x", i/256, i%256))
	}
	return "ether host " + strings.Join(parts, " or ")
}

func TestCompileEmpty(t *testing.T) {
	for _, expr := range []string{"", "  ", "udp or not udp"} {
		f, err := Parse(expr)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := f.Compile(Ethernet, 1500)
		if err != nil {
			t.Fatal(err)
		}
		if want := []bpf.RawInstruction{{Op: 0x06, K: 1500}}; fmt.Sprint(raw) != fmt.Sprint(want) {
			t.Errorf("%q compiles to %v, want %v", expr, raw, want)
		}
	}
}

// TestLongJumps compiles a program whose jumps span more than 255
// instructions, which need unconditional jumps in between, and checks it
// still accepts what it should.
func TestLongJumps(t *testing.T) {
	expr := manyHosts(150) + " or udp port 5060"
	f, err := Parse(expr)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := f.Compile(Ethernet, 65535)
	if err != nil {
		t.Fatal(err)
	}
	prog, _ := bpf.Disassemble(raw)
	long := 0
	for _, ins := range prog {
		if _, ok := ins.(bpf.Jump); ok {
			long++
		}
	}
	if long == 0 {
		t.Fatalf("no long jumps in %d instructions", len(raw))
	}
	match, err := f.Matcher(Ethernet)
	if err != nil {
		t.Fatal(err)
	}
	sip := ether(macB, macA, []uint16{0x0800}, ipv4("172.16.0.1", "172.16.0.2", 17, 0, nil, l4(5060, 5060, 8)))
	last := ether(macB, macA, []uint16{0x0800}, ipv4("172.16.0.1", "10.0.0.149", 6, 0, nil, l4(1, 2, 8)))
	other := ether(macB, macA, []uint16{0x0800}, ipv4("172.16.0.1", "172.16.0.2", 6, 0, nil, l4(1, 2, 8)))
	if !match(sip) || !match(last) || match(other) {
		t.Errorf("match: sip %v, last host %v, other %v", match(sip), match(last), match(other))
	}
}

func TestMatcher(t *testing.T) {
	frames := map[string][]byte{
		"sip":      ether(macB, macA, []uint16{0x0800}, ipv4("10.0.0.1", "10.0.0.2", 17, 0, nil, l4(5060, 5060, 100))),
		"rtp":      ether(macB, macA, []uint16{0x0800}, ipv4("10.0.0.1", "10.0.0.2", 17, 0, nil, l4(16000, 16002, 160))),
		"fragment": ether(macB, macA, []uint16{0x0800}, ipv4("10.0.0.1", "10.0.0.2", 17, 0x0010, nil, l4(5060, 5060, 100))),
		"sip6":     ether(macB, macA, []uint16{0x86dd}, ipv6("2001:db8::1", "2001:db8::2", 17, l4(5062, 5060, 100))),
		"tcp":      ether(macB, macA, []uint16{0x0800}, ipv4("192.168.1.1", "10.0.0.2", 6, 0, nil, l4(40000, 5060, 10))),
		"vlan":     ether(macB, macA, []uint16{0x8100, 100, 0x0800}, ipv4("10.0.0.1", "10.0.0.2", 17, 0, nil, l4(5060, 5060, 8))),
		"arp":      ether(macBcast, macA, []uint16{0x0806}, arpPacket(1, macA, "10.0.0.1", "10.0.0.2")),
	}
	// Truncated frames: the one ends after the UDP source port, the
	// other inside it. A load past the end rejects the frame, even under
	// "not".
	frames["short"] = frames["sip"][:36]
	frames["cut"] = frames["sip"][:35]
	tests := []struct {
		expr string
		want []string
	}{
		{"udp port 5060", []string{"sip", "sip6", "short"}},
		{"udp port 5060 or udp portrange 10000-20000", []string{"sip", "rtp", "sip6", "short"}},
		{"port 5060", []string{"sip", "sip6", "tcp", "short"}},
		{"udp dst port 5060", []string{"sip", "sip6"}},
		{"host 10.0.0.1", []string{"sip", "rtp", "fragment", "arp", "short", "cut"}},
		{"ip and not udp", []string{"tcp"}},
		{"vlan 100 and udp port 5060", []string{"vlan"}},
		{"ether dst ff:ff:ff:ff:ff:ff", []string{"arp"}},
		{"not udp port 5060", []string{"rtp", "fragment", "tcp", "vlan", "arp"}},
		{"greater 150", []string{"sip", "rtp", "fragment", "sip6"}},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			f, err := Parse(tt.expr)
			if err != nil {
				t.Fatal(err)
			}
			match, err := f.Matcher(Ethernet)
			if err != nil {
				t.Fatal(err)
			}
			for name, frame := range frames {
				want := slices.Contains(tt.want, name)
				if got := match(frame); got != want {
					t.Errorf("%s: got %v, want %v", name, got, want)
				}
			}
		})
	}
}

func TestMatcherRefusesCooked(t *testing.T) {
	f, err := Parse("udp")
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.Matcher(Cooked)
	var e *Error
	if !errors.As(err, &e) || e.Pos != -1 {
		t.Errorf("Matcher(Cooked) = %v, want an *Error", err)
	}
}
