package sip

import (
	"bytes"
	"fmt"
	"net/netip"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lc-voip/lc/internal/testenv"
	"github.com/lc-voip/lc/internal/testpcap"
)

// parseAddressTests are header values and how they parse. They also seed
// FuzzAddress.
var parseAddressTests = []struct {
	name string
	in   string
	want Address
}{
	{"name-addr", `"Bob" <sip:bob@b.example;transport=tcp>;tag=a6c85cf`,
		Address{Display: "Bob", URI: "sip:bob@b.example;transport=tcp", Tag: "a6c85cf"}},
	{"token display name", `Bob Smith <sip:bob@b.example>;tag=1`,
		Address{Display: "Bob Smith", URI: "sip:bob@b.example", Tag: "1"}},
	{"no display name", `<sip:bob@b.example>`, Address{URI: "sip:bob@b.example"}},
	{"addr-spec: ;tag is a header parameter", `sip:bob@b.example;tag=x`, Address{URI: "sip:bob@b.example", Tag: "x"}},
	{"addr-spec with other parameters", `sip:bob@b.example ; foo=bar ;TAG = y`, Address{URI: "sip:bob@b.example", Tag: "y"}},
	{"addr-spec, then a name-addr", `sip:bob@b.example <sip:x@y>`, Address{URI: "sip:bob@b.example"}},
	{"quoted-pairs in display name", `"a \"quoted\" \\ name" <sip:a@b>`, Address{Display: `a "quoted" \ name`, URI: "sip:a@b"}},
	{"display name with <, ; and ,", `"x<y;z,w" <sip:a@b>;tag=t`, Address{Display: "x<y;z,w", URI: "sip:a@b", Tag: "t"}},
	{"empty display name", `""<sip:a@b>`, Address{URI: "sip:a@b"}},
	{"white space everywhere", `  "Alice"   <  sip:alice@a.example  >  ;tag=1 `,
		Address{Display: "Alice", URI: "sip:alice@a.example", Tag: "1"}},
	{"tag before a second value", `<sip:a@b>;tag=1, <sip:c@d>;tag=2`, Address{URI: "sip:a@b", Tag: "1"}},
	{"no tag, second value has one", `<sip:a@b>, <sip:c@d>;tag=2`, Address{URI: "sip:a@b"}},
	{"tel uri", `<tel:+15555550100;phone-context=example.com>;tag=9`, Address{URI: "tel:+15555550100;phone-context=example.com", Tag: "9"}},
	{"tel addr-spec", `tel:+123;tag=5`, Address{URI: "tel:+123", Tag: "5"}},
	{"unclosed angle bracket", `"A" <sip:a@b;tag=1`, Address{Display: "A", URI: "sip:a@b;tag=1"}},
	{"unclosed quote", `"A <sip:a@b>;tag=2`, Address{Display: "A", URI: "sip:a@b", Tag: "2"}},
	{"unclosed quote, no URI", `"A sip:a@b`, Address{Display: "A sip:a@b"}},
	{"quote escaped at the end", `"Al\" <sip:alice@a.example>;tag=1`,
		Address{Display: `Al\`, URI: "sip:alice@a.example", Tag: "1"}},
	{"unbalanced quotes", `"Al"ice" <sip:alice@a.example>;tag=1`,
		Address{Display: `Al"ice`, URI: "sip:alice@a.example", Tag: "1"}},
	{"text after the quoted string", `"Smith" Bob <sip:bob@b.example>`,
		Address{Display: `Smith" Bob`, URI: "sip:bob@b.example"}},
	{"quote in a token display name", `Al"ice <sip:alice@a.example>`, Address{Display: `Al"ice`, URI: "sip:alice@a.example"}},
	{"comma in a token display name", `Smith, Bob <sip:bob@b.example>;tag=1`,
		Address{Display: "Smith, Bob", URI: "sip:bob@b.example", Tag: "1"}},
	{"semicolon in a token display name", `Smith; Bob <sip:bob@b.example>`,
		Address{Display: "Smith; Bob", URI: "sip:bob@b.example"}},
	{"colon in a token display name", `Support: line 1 <sip:help@b.example>`,
		Address{Display: "Support: line 1", URI: "sip:help@b.example"}},
	{"quoted display without brackets", `"A" sip:a@b;tag=3`, Address{Display: "A", URI: "sip:a@b", Tag: "3"}},
	{"unbracketed IPv6 host", `sip:9876@fe80:0:0:0:21a:a0ff:fe07:32e0;tag=1`,
		Address{URI: "sip:9876@fe80:0:0:0:21a:a0ff:fe07:32e0", Tag: "1"}},
	{"wildcard", `*`, Address{URI: "*"}},
	{"empty", ``, Address{}},
	{"only a quote", `"`, Address{}},
	{"only a bracket", `<`, Address{}},
	{"escaped quotes without a quoted string", `\"arik\" <sip:816666@voip.example.net>;tag=6433ef9`,
		Address{Display: `\"arik\"`, URI: "sip:816666@voip.example.net", Tag: "6433ef9"}},
}

func TestParseAddress(t *testing.T) {
	for _, tt := range parseAddressTests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseAddress(tt.in); got != tt.want {
				t.Errorf("parseAddress(%q) =\n %+v, want\n %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestUserHost(t *testing.T) {
	tests := []struct {
		uri  string
		want string
	}{
		{"sip:bob@b.example", "bob@b.example"},
		{"sip:bob@b.example:5060;transport=tcp?subject=x", "bob@b.example"},
		{"sips:alice:secret@[2001:db8::1]:5061;user=phone", "alice@[2001:db8::1]"},
		{"SIP:Bob@B.Example", "Bob@B.Example"},
		{"sip:+15555550100;npdi;rn=+15555550000@gw.example.com;user=phone", "+15555550100;npdi;rn=+15555550000@gw.example.com"},
		{"sip:b.example:5060", "b.example"},
		{"sip:[2001:db8::2]", "[2001:db8::2]"},
		{"sip:[2001:db8::2]:5060", "[2001:db8::2]"},
		{"sip:192.0.2.1;lr", "192.0.2.1"},
		{"sip:9876@fe80:0:0:0:21a:a0ff:fe07:32e0", "9876@fe80:0:0:0:21a:a0ff:fe07:32e0"},
		{"sip:9876@fe80:0:0:0:21a:a0ff:fe07:32e0:5060;transport=udp", "9876@fe80:0:0:0:21a:a0ff:fe07:32e0"},
		{"sip:9876@fe80::1:5060", "9876@fe80::1:5060"},
		{"sip:a@::ffff:192.0.2.1", "a@::ffff:192.0.2.1"},
		{"sip:a@fe80::1%25eth0", "a@fe80::1%25eth0"},
		{"sip:a@x:y:z", "a@x:y:z"},
		{"sip:a@[fe80::1%25eth0]:5060", "a@[fe80::1%25eth0]"},
		{"sip:@b.example", "b.example"},
		{"sip::pw@b.example", "b.example"},
		{"sip:alice@", "alice@"},
		{"sip:", ""},
		{"sip:a@b@c.example", "a@b@c.example"},
		{"tel:+123", "+123"},
		{"TEL:+123?x", "+123"},
		{"tel:+1-201-555-0123;phone-context=example.com", "+1-201-555-0123"},
		{"urn:service:sos", "urn:service:sos"},
		{"bob@b.example", "bob@b.example"},
		{"sip:[2001:db8::1", "[2001:db8::1"},
		{"sip:[2001:db8::1;transport=tcp", "[2001:db8::1"},
		{"*", "*"},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.uri, func(t *testing.T) {
			if got := (Address{URI: tt.uri}).UserHost(); got != tt.want {
				t.Errorf("UserHost(%q) = %q, want %q", tt.uri, got, tt.want)
			}
		})
	}
}

// callerTests are From and To values as they come on the wire, with the
// user@host lc makes of them. Where tshark's sip.from.user "@"
// sip.from.host differs, tshark holds what it prints and why says why lc
// does not follow it; an empty tshark means it shows neither field.
var callerTests = []struct {
	in     string
	want   string
	tshark string
	why    string
}{
	{in: `"Al"ice" <sip:alice@a.example>;tag=1`, want: "alice@a.example"},
	{in: `"Al\"ice" <sip:alice@a.example>;tag=1`, want: "alice@a.example"},
	{in: `"Al\\" <sip:alice@a.example>;tag=1`, want: "alice@a.example"},
	{in: `"a"b"c" <sip:alice@a.example>`, want: "alice@a.example"},
	{in: `"a<sip:evil@x.example>" <sip:alice@a.example>`, want: "alice@a.example"},
	{in: `"x<y;z,w" <sip:alice@a.example>;tag=t`, want: "alice@a.example"},
	{in: `Al"ice <sip:alice@a.example>`, want: "alice@a.example"},
	{in: `\"arik\" <sip:816666@voip.example.net>;tag=6433ef9`, want: "816666@voip.example.net"},
	{in: `Smith, Bob <sip:bob@b.example>;tag=1`, want: "bob@b.example"},
	{in: `Smith; Bob <sip:bob@b.example>;tag=1`, want: "bob@b.example"},
	{in: `"" <sip:alice@a.example>`, want: "alice@a.example"},
	{in: `  "Alice"   <  sip:alice@a.example  >  ;tag=1`, want: "alice@a.example"},
	{in: `<sip:alice@a.example>, <sip:bob@b.example>`, want: "alice@a.example"},
	{in: `sip:bob@b.example;tag=x`, want: "bob@b.example"},
	{in: `sip:bob@b.example ; foo=bar ;TAG = y`, want: "bob@b.example"},
	{in: `sip:bob@b.example <sip:x@y.example>`, want: "bob@b.example"},
	{in: `sip:+1555;npdi@gw.example.com;tag=1`, want: "+1555"},
	{in: `sips:alice@a.example;tag=1`, want: "alice@a.example"},
	{in: `<sips:alice@a.example:5061;transport=tls>`, want: "alice@a.example"},
	{in: `<sip:+15555550100;npdi;rn=+15555550000@gw.example.com;user=phone>`, want: "+15555550100;npdi;rn=+15555550000@gw.example.com"},
	{in: `<sip:alice@a.example:5060;transport=udp?x=y>`, want: "alice@a.example"},
	{in: `<sip:bob@b.example?subject=x>`, want: "bob@b.example"},
	{in: `<sip:%61lice@a.example>`, want: "%61lice@a.example"},
	{in: `<sip:ab@cd@gw.example.com>`, want: "ab@cd@gw.example.com"},
	{in: `<sip:b.example:5060>`, want: "b.example"},
	{in: `<sip:192.0.2.1;lr>`, want: "192.0.2.1"},
	{in: `<sip:@b.example>`, want: "b.example"},
	{in: `<sip:alice>`, want: "alice"},
	{in: `<sip:alice@>`, want: "alice@"},
	{in: `<sip:9876@[fe80::1]:5060>`, want: "9876@[fe80::1]"},
	{in: `<sip:[2001:db8::2]>`, want: "[2001:db8::2]"},
	{in: `sip:alice@[::1]:5060;tag=1`, want: "alice@[::1]"},
	{in: `<sip:alice@[fe80::1%25eth0]:5060>`, want: "alice@[fe80::1%25eth0]"},
	{in: `"A" <sip:alice@[fe80::1]:5060;transport=tcp?h=v>;tag=3`, want: "alice@[fe80::1]"},
	{in: `<sip:9876@fe80:0:0:0:21a:a0ff:fe07:32e0>`, want: "9876@fe80:0:0:0:21a:a0ff:fe07:32e0",
		tshark: "9876@fe80", why: "an unbracketed IPv6 host ends at its first colon, the rest taken for the port"},
	{in: `sip:9876@fe80:0:0:0:21a:a0ff:fe07:32e0;tag=1`, want: "9876@fe80:0:0:0:21a:a0ff:fe07:32e0",
		tshark: "9876@fe80", why: "an unbracketed IPv6 host ends at its first colon"},
	{in: `<sip:alice@fe80:0:0:0:21a:a0ff:fe07:32e0:5060>`, want: "alice@fe80:0:0:0:21a:a0ff:fe07:32e0",
		tshark: "alice@fe80", why: "an unbracketed IPv6 host ends at its first colon"},
	{in: `<sip:alice@fe80::1:5060>`, want: "alice@fe80::1:5060",
		tshark: "alice@fe80", why: "an unbracketed IPv6 host ends at its first colon"},
	{in: `<sip:alice@::1>`, want: "alice@::1",
		tshark: "alice@:", why: "an unbracketed IPv6 host ends at its first colon"},
	{in: `<sips:alice:secret@[2001:db8::1]:5061;user=phone>`, want: "alice@[2001:db8::1]",
		tshark: "alice:secret@[2001:db8::1]", why: "the user part keeps the password"},
	{in: `<sip:alice:@a.example>`, want: "alice@a.example",
		tshark: "alice:@a.example", why: "the user part keeps the (empty) password"},
	{in: `<sip:1@b.example>`, want: "1@b.example",
		tshark: "b.example", why: "a one-character user is not shown"},
	{in: `<SIP:Bob@B.Example>`, want: "Bob@B.Example",
		tshark: "", why: "the scheme is matched in lower case only"},
	{in: `<tel:+1-201-555-0123;phone-context=example.com>`, want: "+1-201-555-0123",
		tshark: "", why: "a tel URI has no user or host fields"},
	{in: `tel:+123;tag=5`, want: "+123",
		tshark: "", why: "a tel URI has no user or host fields"},
	{in: `<urn:service:sos>`, want: "urn:service:sos",
		tshark: "", why: "only sip and sips URIs have user and host fields"},
	{in: `"Al\" <sip:alice@a.example>;tag=1`, want: "alice@a.example",
		tshark: "", why: "the quote is never closed"},
	{in: `"A <sip:alice@a.example>`, want: "alice@a.example",
		tshark: "", why: "the quote is never closed"},
	{in: `"A" <sip:alice@a.example;tag=1`, want: "alice@a.example",
		tshark: "", why: "the '<' is never closed"},
	{in: `"A" sip:alice@a.example;tag=3`, want: "alice@a.example",
		tshark: "", why: "a quoted display name must be followed by '<'"},
	{in: `<sip:>`, want: "",
		tshark: "INVITE", why: "an empty URI makes it read past the header"},
}

// TestCallerCalled checks the user@host made of whole From and To values.
func TestCallerCalled(t *testing.T) {
	for _, tt := range callerTests {
		t.Run(tt.in, func(t *testing.T) {
			m, err := Parse(addressMessage(0, tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if got := m.From.UserHost(); got != tt.want {
				t.Errorf("From: %s: UserHost = %q, want %q", tt.in, got, tt.want)
			}
			if got := m.To.UserHost(); got != tt.want {
				t.Errorf("To: %s: UserHost = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// addressMessage returns an INVITE whose From and To are both v.
func addressMessage(n int, v string) []byte {
	return fmt.Appendf(nil, "INVITE sip:x@y.example SIP/2.0\r\n"+
		"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-%[1]d\r\n"+
		"From: %[2]s\r\nTo: %[2]s\r\nCall-ID: address-%[1]d\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n", n, v)
}

// TestCallerCalledTshark checks callerTests against what tshark prints as
// sip.from.user "@" sip.from.host and sip.to.user "@" sip.to.host for the
// same values: equal, or the recorded difference. A recorded difference
// that no longer holds is logged, not failed, since it depends on the
// tshark version (the table is that of Wireshark 4.0).
func TestCallerCalledTshark(t *testing.T) {
	tshark := testenv.Command(t, "tshark")
	src, dst := netip.MustParseAddrPort("192.0.2.1:5060"), netip.MustParseAddrPort("192.0.2.2:5060")
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	var pkts []testpcap.Packet
	for i, tt := range callerTests {
		pkts = append(pkts, testpcap.Packet{
			Time: start.Add(time.Duration(i) * time.Second),
			Data: testpcap.UDP(src, dst, addressMessage(i, tt.in)),
		})
	}
	path := filepath.Join(t.TempDir(), "addresses.pcap")
	testpcap.WriteFile(t, path, pkts)
	cmd := exec.CommandContext(t.Context(), tshark, "-r", path, "-n", "-T", "fields", "-E", "occurrence=f",
		"-e", "sip.from.user", "-e", "sip.from.host", "-e", "sip.to.user", "-e", "sip.to.host")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark: %v: %s", err, stderr.String())
	}
	rows := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(rows) != len(callerTests) {
		t.Fatalf("tshark printed %d rows for %d frames:\n%s", len(rows), len(callerTests), out)
	}
	for i, tt := range callerTests {
		cols := strings.Split(strings.TrimRight(rows[i], "\r"), "\t")
		if len(cols) != 4 {
			t.Fatalf("tshark row %q: %d columns, want 4", rows[i], len(cols))
		}
		m, err := Parse(addressMessage(i, tt.in))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range []struct{ lc, tshark string }{
			{m.From.UserHost(), joinUserHost(cols[0], cols[1])},
			{m.To.UserHost(), joinUserHost(cols[2], cols[3])},
		} {
			switch {
			case tt.why == "" && p.tshark != p.lc:
				t.Errorf("%s: tshark shows %q, lc %q", tt.in, p.tshark, p.lc)
			case tt.why != "" && p.tshark != tt.tshark:
				t.Logf("%s: tshark shows %q, not the %q recorded (%s); lc %q", tt.in, p.tshark, tt.tshark, tt.why, p.lc)
			}
		}
	}
}

// joinUserHost joins tshark's user and host fields as UserHost does.
func joinUserHost(user, host string) string {
	if user == "" {
		return host
	}
	return user + "@" + host
}

// fixtureAddresses returns the From and To values of the fixture messages.
func fixtureAddresses() []string {
	var out []string
	for _, m := range messages {
		for line := range strings.Lines(string(m)) {
			name, value, ok := strings.Cut(line, ":")
			if ok && (equalFold(name, "From") || equalFold(name, "To") || name == "f" || name == "t") {
				out = append(out, trimLWS(value))
			}
		}
	}
	return out
}

func FuzzAddress(f *testing.F) {
	for _, v := range fixtureAddresses() {
		f.Add(v)
	}
	for _, tt := range parseAddressTests {
		f.Add(tt.in)
	}
	for _, tt := range callerTests {
		f.Add(tt.in)
	}
	f.Fuzz(func(t *testing.T, v string) {
		a := parseAddress(v)
		if !strings.Contains(v, a.URI) || !strings.Contains(v, a.Tag) {
			t.Fatalf("parseAddress(%q) = %+v: URI or Tag is not part of the value", v, a)
		}
		if len(a.Display) > len(v) {
			t.Fatalf("parseAddress(%q) = %+v: display name longer than the value", v, a)
		}
		uh := a.UserHost()
		if strings.Contains(a.URI, uh) {
			return
		}
		user, host, _ := strings.Cut(uh, "@")
		if !strings.Contains(a.URI, user) || !strings.Contains(a.URI, host) {
			t.Fatalf("UserHost of %q = %q: not made of parts of the URI", a.URI, uh)
		}
	})
}
