package sip

import "testing"

func TestParseAddress(t *testing.T) {
	tests := []struct {
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
		{"quoted-pairs in display name", `"a \"quoted\" \\ name" <sip:a@b>`, Address{Display: `a "quoted" \ name`, URI: "sip:a@b"}},
		{"display name with <, ; and ,", `"x<y;z,w" <sip:a@b>;tag=t`, Address{Display: "x<y;z,w", URI: "sip:a@b", Tag: "t"}},
		{"tag before a second value", `<sip:a@b>;tag=1, <sip:c@d>;tag=2`, Address{URI: "sip:a@b", Tag: "1"}},
		{"no tag, second value has one", `<sip:a@b>, <sip:c@d>;tag=2`, Address{URI: "sip:a@b"}},
		{"tel uri", `<tel:+15555550100;phone-context=example.com>;tag=9`, Address{URI: "tel:+15555550100;phone-context=example.com", Tag: "9"}},
		{"unclosed angle bracket", `"A" <sip:a@b;tag=1`, Address{Display: "A", URI: "sip:a@b;tag=1"}},
		{"unclosed quote", `"A <sip:a@b>`, Address{Display: "A <sip:a@b>"}},
		{"quoted display without brackets", `"A" sip:a@b;tag=3`, Address{Display: "A", URI: "sip:a@b", Tag: "3"}},
		{"wildcard", `*`, Address{URI: "*"}},
		{"empty", ``, Address{}},
		{"escaped quotes without a quoted string", `\"arik\" <sip:816666@voip.example.net>;tag=6433ef9`,
			Address{Display: `\"arik\"`, URI: "sip:816666@voip.example.net", Tag: "6433ef9"}},
	}
	for _, tt := range tests {
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
		{"sip:192.0.2.1;lr", "192.0.2.1"},
		{"tel:+123", "+123"},
		{"tel:+1-201-555-0123;phone-context=example.com", "+1-201-555-0123"},
		{"bob@b.example", "bob@b.example"},
		{"sip:[2001:db8::1", "[2001:db8::1"},
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
