package sip

import (
	"net/netip"
	"strings"
)

// Address is the value of a From or To header: a name-addr
// (`"Bob" <sip:bob@b.example>;tag=x`) or an addr-spec
// (`sip:bob@b.example;tag=x`), RFC 3261 §20.10 and §25.1. The zero Address
// stands for a missing header.
//
// Values seen on the wire often break the grammar, and the parser takes
// what Wireshark's SIP dissector takes from them:
//
//   - A quoted display name is closed by the first quote that is not part
//     of a quoted-pair; the URI is in the first '<' after it, whatever lies
//     between (`"Al"ice" <sip:alice@a.example>` is alice@a.example).
//   - A display name that is not quoted ends at the first '<', even when it
//     holds ';' or ',' (`Smith, Bob <sip:bob@b.example>`).
//   - A value that starts with a URI scheme is an addr-spec: its URI ends at
//     the first ';', ',' or white space, and the parameters after it, tag
//     included, are header parameters.
//
// It also recovers what Wireshark gives up on: the URI after a quote that
// is never closed (`"Al\" <sip:alice@a.example>`), after a '<' that is never
// closed, and after a quoted display name without angle brackets.
type Address struct {
	Display string // display name, without quotes and with quoted-pairs resolved; empty when absent
	URI     string // URI as written, without the angle brackets
	Tag     string // value of the tag parameter; empty when absent
}

// parseAddress parses a From or To header value. It never fails: what it
// cannot make sense of ends up in URI or is dropped. The result's strings
// are substrings of v unless the display name has quoted-pairs.
func parseAddress(v string) Address {
	var a Address
	rest := trimLWS(v)
	switch {
	case strings.HasPrefix(rest, `"`):
		a.Display, a.URI, rest = quotedNameAddr(rest)
	case strings.HasPrefix(rest, "<"):
		a.URI, rest = angleURI(rest[1:])
	case startsWithScheme(rest):
		a.URI, rest = addrSpec(rest)
	default:
		if i := strings.IndexByte(rest, '<'); i >= 0 {
			a.Display = trimLWS(rest[:i])
			a.URI, rest = angleURI(rest[i+1:])
		} else {
			a.URI, rest = addrSpec(rest)
		}
	}
	a.Tag = tagParam(rest)
	return a
}

// quotedNameAddr parses a value s that starts with a quote: a quoted
// display name, then the URI in angle brackets. It returns the display
// name, the URI and what follows the URI.
//
// When other text comes between the closing quote and the '<', or the
// quote is never closed, the display name is all the text before the '<'
// without its outer quotes, quoted-pairs left as they are. Without any
// '<', what follows a closed quoted string is taken as an addr-spec, and an
// unclosed one is all display name.
func quotedNameAddr(s string) (display, uri, rest string) {
	end := closingQuote(s)
	if end == len(s) {
		lt := strings.IndexByte(s, '<')
		if lt < 0 {
			return unquote(s[1:]), "", ""
		}
		uri, rest = angleURI(s[lt+1:])
		return looseDisplay(s[:lt]), uri, rest
	}
	after := s[end+1:]
	lt := strings.IndexByte(after, '<')
	if lt < 0 {
		uri, rest = addrSpec(trimLWS(after))
		return unquote(s[1:end]), uri, rest
	}
	uri, rest = angleURI(after[lt+1:])
	if trimLWS(after[:lt]) == "" {
		return unquote(s[1:end]), uri, rest
	}
	return looseDisplay(s[:end+1+lt]), uri, rest
}

// looseDisplay returns a display name that is not one well-formed quoted
// string: s trimmed, without its opening quote and, if it has one, its
// final quote.
func looseDisplay(s string) string {
	s = strings.TrimPrefix(trimLWS(s), `"`)
	return strings.TrimSuffix(s, `"`)
}

// closingQuote returns the index of the quote that ends the quoted string
// at the start of s, or len(s) when it is not closed.
func closingQuote(s string) int {
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return len(s)
}

// unquote resolves the quoted-pairs (backslash escapes) of the inside of a
// quoted string.
func unquote(s string) string {
	if strings.IndexByte(s, '\\') < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// angleURI returns the URI of a name-addr, s starting just after its '<',
// and what follows the closing '>'. Without a '>' the URI runs to the end.
func angleURI(s string) (uri, rest string) {
	i := strings.IndexByte(s, '>')
	if i < 0 {
		return trimLWS(s), ""
	}
	return trimLWS(s[:i]), s[i+1:]
}

// addrSpec returns the URI of an addr-spec and what follows it. Such a URI
// cannot contain ';' or ',', so either one, or white space, ends it.
func addrSpec(s string) (uri, rest string) {
	i := strings.IndexAny(s, ";, \t\r\n")
	if i < 0 {
		return s, ""
	}
	return s[:i], s[i:]
}

// startsWithScheme reports whether s starts with a URI scheme, its colon
// and something other than white space: the start of an addr-spec rather
// than of a display name.
func startsWithScheme(s string) bool {
	i := schemeEnd(s)
	return i > 0 && i+1 < len(s) && !isLWS(s[i+1])
}

// tagParam returns the tag parameter from the header parameters that follow
// the address in s (";tag=x;other=y"). It stops at a comma, which starts a
// second header value.
func tagParam(s string) string {
	for {
		s = trimLWS(s)
		if !strings.HasPrefix(s, ";") {
			return ""
		}
		s = s[1:]
		end := strings.IndexAny(s, ";,")
		if end < 0 {
			end = len(s)
		}
		name, value, _ := strings.Cut(s[:end], "=")
		if equalFold(trimLWS(name), "tag") {
			return trimLWS(value)
		}
		s = s[end:]
	}
}

// UserHost returns "user@host" of the URI, the caller or callee of a call.
// For sip and sips URIs (the scheme in any case) it is what Wireshark shows
// as sip.from.user "@" sip.from.host (sip.to.* for To): the password, the
// port, the URI parameters and headers are dropped, an IPv6 host keeps its
// brackets ("sip:bob@[2001:db8::1]:5060" gives "bob@[2001:db8::1]"), and
// without a user part, or with an empty one, it is just the host. It
// differs from Wireshark 4.0 on purpose where Wireshark is wrong:
//
//   - An IPv6 host written without brackets is kept whole:
//     "sip:9876@fe80:0:0:0:21a:a0ff:fe07:32e0" gives
//     "9876@fe80:0:0:0:21a:a0ff:fe07:32e0", where Wireshark stops the host
//     at the first colon ("fe80") and takes the rest for the port. A
//     trailing port is dropped when what precedes it is an IPv6 address
//     and the whole is not.
//   - A password is dropped: "sip:alice:secret@a.example" gives
//     "alice@a.example" (Wireshark's user is "alice:secret").
//   - A one-character user is kept: "sip:1@a.example" gives
//     "1@a.example" (Wireshark shows no user).
//   - The scheme is matched in any case (RFC 3261 §19.1.4): Wireshark
//     shows no user or host for "SIP:alice@a.example".
//
// A tel URI gives its number ("tel:+1-201-555-0123;phone-context=x" gives
// "+1-201-555-0123"); any other URI, or one without a scheme, is returned
// as written. Wireshark shows neither user nor host for them.
//
// The result may be a part of a.URI, sharing its memory: of the parsed
// bytes when the Address comes from ParseInto (see Message).
func (a Address) UserHost() string {
	i := schemeEnd(a.URI)
	if i < 0 {
		return a.URI
	}
	scheme, s := a.URI[:i], a.URI[i+1:]
	switch {
	case equalFold(scheme, "sip"), equalFold(scheme, "sips"):
	case equalFold(scheme, "tel"):
		if j := strings.IndexAny(s, ";?"); j >= 0 {
			return s[:j]
		}
		return s
	default:
		return a.URI
	}
	var user string
	if j := strings.IndexByte(s, '@'); j >= 0 {
		user, s = s[:j], s[j+1:]
		if k := strings.IndexByte(user, ':'); k >= 0 {
			user = user[:k]
		}
	}
	host := uriHost(s)
	if user == "" {
		return host
	}
	return user + "@" + host
}

// uriHost returns the host of s, the hostport of a SIP URI and what follows
// it: URI parameters, headers.
func uriHost(s string) string {
	if strings.HasPrefix(s, "[") {
		if i := strings.IndexByte(s, ']'); i >= 0 {
			return s[:i+1]
		}
	}
	if i := strings.IndexAny(s, ";?>, \t"); i >= 0 {
		s = s[:i]
	}
	if strings.HasPrefix(s, "[") { // an unclosed bracket
		return s
	}
	switch strings.Count(s, ":") {
	case 0:
		return s
	case 1:
		return s[:strings.IndexByte(s, ':')]
	}
	return bareIPv6Host(s)
}

// bareIPv6Host returns the host of a hostport with several colons: an IPv6
// address without brackets, possibly followed by a port. Being ambiguous,
// "fe80::1:5060" is taken for an address; so is anything unparsable.
func bareIPv6Host(s string) string {
	if _, err := netip.ParseAddr(s); err == nil {
		return s
	}
	i := strings.LastIndexByte(s, ':')
	if port := s[i+1:]; port != "" && strings.Trim(port, "0123456789") == "" {
		if _, err := netip.ParseAddr(s[:i]); err == nil {
			return s[:i]
		}
	}
	return s
}

// schemeEnd returns the index of the colon that ends the URI scheme at the
// start of s (ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )), or -1.
func schemeEnd(s string) int {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= lower(c) && lower(c) <= 'z':
		case i > 0 && (isDigit(c) || c == '+' || c == '-' || c == '.'):
		case i > 0 && c == ':':
			return i
		default:
			return -1
		}
	}
	return -1
}
