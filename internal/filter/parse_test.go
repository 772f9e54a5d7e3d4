package filter

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/bpf"
)

func TestParseErrors(t *testing.T) {
	tests := []struct {
		expr string
		pos  int
		msg  string
	}{
		{"udp port x", 9, "port needs a number from 0 to 65535"},
		{"port 65536", 5, "port needs a number from 0 to 65535"},
		{"udp port 5060 or 70000", 17, "port needs a number from 0 to 65535"},
		{"port 080", 5, "number 080 contains a non-octal digit"},
		{"port 99999999999", 5, "number 99999999999 overflows 32 bits"},
		{"portrange 5-x", 10, "portrange needs a range such as 10000-20000"},
		{"ip port 80", 0, "port and portrange apply to tcp, udp and sctp, not ip"},
		{"foo", 0, `unknown keyword "foo"`},
		{"HOST 10.0.0.1", 0, `unknown keyword "HOST"`},
		{"gateway 10.0.0.1", 0, `unsupported keyword "gateway"`},
		{"tcp and len < 100", 8, `unsupported keyword "len"`},
		{"tcp[13] & 2 != 0", 3, `unexpected '[': arithmetic and packet-data accessors are not supported`},
		{"tcp udp", 4, `expected and, or or the end of the expression, found "udp"`},
		{"host 10.0.0.1 10.0.0.2", 14, `expected and, or or the end of the expression, found "10.0.0.2"`},
		{"(tcp or udp", 0, "unbalanced parentheses: this '(' is not closed"},
		{"tcp or udp)", 10, "unbalanced parentheses: no '(' for this ')'"},
		{"()", 1, `expected a primitive, found ")"`},
		{"tcp and", 7, "expected a primitive, found end of expression"},
		{"not", 3, "expected a primitive, found end of expression"},
		{"host", 4, "host needs an IPv4 or IPv6 address, found end of expression"},
		{"host foo.example.com", 5, "host names are not resolved; give an address"},
		{"src host 10.0.0.1 or gw1", 21, "host names are not resolved; give an address"},
		{"host 10.0.0.256", 5, `invalid IPv4 address "10.0.0.256"`},
		{"host 2001:db8::g", 5, `invalid address "2001:db8::g"`},
		{"10.0.0.1", 0, `"10.0.0.1" needs a qualifier such as host, net or port`},
		{"tcp or 80", 7, `"80" needs a qualifier such as host, net or port`},
		{"port 5060 and 10.0.0.1", 14, "port needs a number from 0 to 65535"},
		{"net 10.0.0.1/8", 4, "non-network bits set in 10.0.0.1/8"},
		{"net 10.0.0.0/33", 13, "prefix length 33 is more than 32"},
		{"net 2001:db8::/129", 15, "prefix length 129 is more than 128"},
		{"net 2001:db8::1/32", 4, "non-network bits set in 2001:db8::1/32"},
		{"net 10.0.0.0 mask 255", 18, "mask needs a dotted netmask such as 255.255.0.0"},
		{"host 10.0.0.0/8", 5, "a prefix length needs net, not host"},
		{"ip6 host 10.0.0.1", 9, "ip6 cannot qualify an IPv4 address"},
		{"ip host ::1", 8, "ip cannot qualify an IPv6 address"},
		{"tcp host 10.0.0.1", 0, "host and net apply to ip, ip6, arp and rarp, not tcp"},
		{"host 00:11:22:33:44:55", 5, `a MAC address needs ether, as in "ether host 00:11:22:33:44:55"`},
		{"ether host 10.0.0.1", 11, "ether host needs a MAC address"},
		{"ether", 5, "expected host, src, dst or proto after ether, found end of expression"},
		{"ip proto 256", 9, "proto needs a protocol number from 0 to 255 or a name"},
		{"ip proto foo", 9, `unknown protocol name "foo"`},
		{"tcp proto 6", 0, "proto applies to ip, ip6 and ether, not tcp"},
		{"src proto 6", 4, "proto cannot follow src or dst"},
		{"ether proto 100", 12, "ether proto 100 is an 802.3 length, not an EtherType; 802.2 LLC protocols are not supported"},
		{"ether proto 70000", 12, "ether proto needs an EtherType above 1500 or ip, ip6, arp, rarp"},
		{"less", 4, "less needs a number"},
		{"greater big", 8, "greater needs a number"},
		{"vlan 4096", 5, "vlan ID 4096 is more than 4095"},
		{"mask 255.0.0.0", 0, "mask must follow a net address"},
		{`ip proto \`, 9, "a backslash must be followed by a name"},
		{"port -1", 5, `unexpected "-1"`},
		{"tcp # comment", 4, `unexpected '#'`},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			_, err := Parse(tt.expr)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse(%q) = %v, want an *Error", tt.expr, err)
			}
			if e.Expr != tt.expr || e.Pos != tt.pos || e.Msg != tt.msg {
				t.Errorf("Parse(%q) = %q at %d, want %q at %d", tt.expr, e.Msg, e.Pos, tt.msg, tt.pos)
			}
		})
	}
}

func TestErrorString(t *testing.T) {
	_, err := Parse("udp port x")
	if got, want := err.Error(), `filter "udp port x": at offset 9: port needs a number from 0 to 65535`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	e := &Error{Expr: "arp", Pos: -1, Msg: "expression rejects all packets"}
	if got, want := e.Error(), `filter "arp": expression rejects all packets`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestParseNestingLimit(t *testing.T) {
	deep := ""
	for range maxDepth + 1 {
		deep += "("
	}
	_, err := Parse(deep + "ip")
	var e *Error
	if !errors.As(err, &e) || e.Pos != maxDepth || e.Msg != "expression nested more than 256 deep" {
		t.Errorf("got %v", err)
	}
}

// TestEquivalent checks spellings that must compile to the same program:
// qualifiers carried over to bare values, synonyms, and value notations.
func TestEquivalent(t *testing.T) {
	tests := []struct {
		name string
		a, b string
	}{
		{"host continuation", "host 10.0.0.1 or 10.0.0.2", "host 10.0.0.1 or host 10.0.0.2"},
		{"port continuation", "port 5060 or 5061", "port 5060 or port 5061"},
		{"proto continuation", "udp port 5060 or 5080", "udp port 5060 or udp port 5080"},
		{"not continuation", "not port 22 and not 53", "not port 22 and not port 53"},
		{"parenthesized values", "udp port (5060 or 5080)", "udp port 5060 or udp port 5080"},
		{"values in a term", "host 10.0.0.1 and (10.0.0.2 or 10.0.0.3)", "host 10.0.0.1 and (host 10.0.0.2 or host 10.0.0.3)"},
		{"parentheses keep qualifiers", "host 10.0.0.1 and (port 22) or 10.0.0.2", "host 10.0.0.1 and (port 22) or host 10.0.0.2"},
		{"direction continuation", "src 10.0.0.1 or 10.0.0.2", "src host 10.0.0.1 or src host 10.0.0.2"},
		{"operators", "ip && !tcp || udp", "ip and not tcp or udp"},
		{"left to right", "ip or ip6 and udp", "(ip or ip6) and udp"},
		{"src or dst", "src or dst host 10.0.0.1", "host 10.0.0.1"},
		{"dst and src", "dst and src port 53", "src and dst port 53"},
		{"proto name", `ip proto \udp`, "ip proto 17"},
		{"proto keyword", "ip proto udp", "ip proto 17"},
		{"hex and octal", "port 0x13c4 or 011", "port 5060 or 9"},
		{"ether proto name", `ether proto \ip6`, "ether proto 0x86dd"},
		{"ether proto is ip6", "ether proto 0x86dd", "ip6"},
		{"short net", "net 10", "net 10.0.0.0/8"},
		{"partial net", "net 10.1", "net 10.1.0.0/16"},
		{"netmask", "net 192.168.0.0 mask 255.255.0.0", "net 192.168.0.0/16"},
		{"partial host", "host 10.0.0", "net 10.0.0.0/24"},
		{"number host", "host 167772161", "host 10.0.0.1"},
		{"reversed range", "portrange 20000-10000", "portrange 10000-20000"},
		{"MAC notations", "ether host 0011.2233.4455 or 00-11-22-33-44-55", "ether host 00:11:22:33:44:55 or 001122334455"},
		{"IPv6 notations", "host 2001:DB8:0:0::1", "host 2001:db8::1"},
		{"blanks", " \ttcp\n", "tcp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			links := []Link{Ethernet, LinuxSLL2, Raw}
			if strings.Contains(tt.a+tt.b, "ether") {
				links = links[:1]
			}
			for _, l := range links {
				a, b := mustCompile(t, tt.a, l), mustCompile(t, tt.b, l)
				if !slices.Equal(a, b) {
					t.Errorf("on %s %q compiles to\n%s\nand %q to\n%s", l, tt.a, disasm(a), tt.b, disasm(b))
				}
			}
		})
	}
}

func mustCompile(t testing.TB, expr string, l Link) []bpf.RawInstruction {
	t.Helper()
	f, err := Parse(expr)
	if err != nil {
		t.Fatal(err)
	}
	if f.String() != expr {
		t.Errorf("String() = %q, want %q", f.String(), expr)
	}
	raw, err := f.Compile(l, 65535)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestParsePrimitiveLimit(t *testing.T) {
	expr := manyHosts(maxPrims + 1)
	_, err := Parse(expr)
	var e *Error
	if !errors.As(err, &e) || e.Pos != strings.LastIndex(expr, "host") || e.Msg != "expression has more than 1024 primitives" {
		t.Errorf("got %v", err)
	}
}

func TestUsesVLAN(t *testing.T) {
	for expr, want := range map[string]bool{
		"":                          false,
		"udp port 5060":             false,
		"vlan":                      true,
		"vlan 100 and udp":          true,
		"udp or not (vlan 7)":       true,
		"tcp and (port 1 or vlan)":  true,
		"host 10.0.0.1 or 10.0.0.2": false,
	} {
		f, err := Parse(expr)
		if err != nil {
			t.Fatalf("%q: %v", expr, err)
		}
		if got := f.UsesVLAN(); got != want {
			t.Errorf("%q: UsesVLAN() = %v, want %v", expr, got, want)
		}
	}
}
