package sip

import "strings"

// Address is the value of a From or To header: a name-addr
// (`"Bob" <sip:bob@b.example>;tag=x`) or an addr-spec
// (`sip:bob@b.example;tag=x`). The zero Address stands for a missing header.
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
	if strings.HasPrefix(rest, `"`) {
		end := closingQuote(rest)
		a.Display = unquote(rest[1:end])
		rest = trimLWS(rest[min(end+1, len(rest)):])
		if strings.HasPrefix(rest, "<") {
			a.URI, rest = angleURI(rest[1:])
		} else {
			a.URI, rest = addrSpec(rest)
		}
	} else if i := strings.IndexAny(rest, "<;,"); i >= 0 && rest[i] == '<' {
		// A display name cannot contain ';' or ',' and an addr-spec
		// cannot contain '<': whichever comes first tells the form.
		a.Display = trimLWS(rest[:i])
		a.URI, rest = angleURI(rest[i+1:])
	} else {
		a.URI, rest = addrSpec(rest)
	}
	a.Tag = tagParam(rest)
	return a
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

// UserHost returns "user@host" of the URI: the scheme, password, port, URI
// parameters and headers are dropped, and IPv6 hosts keep their brackets.
// It returns just the host when the URI has no user part; for a tel URI
// that is the number ("tel:+123;phone-context=x" gives "+123").
func (a Address) UserHost() string {
	s := a.URI
	if i := schemeEnd(s); i > 0 {
		s = s[i+1:]
	}
	var user string
	if i := strings.IndexByte(s, '@'); i >= 0 {
		user, s = s[:i], s[i+1:]
		if j := strings.IndexByte(user, ':'); j >= 0 {
			user = user[:j]
		}
	}
	host := s
	if strings.HasPrefix(s, "[") {
		if i := strings.IndexByte(s, ']'); i >= 0 {
			host = s[:i+1]
		}
	} else if i := strings.IndexAny(s, ":;?>, \t"); i >= 0 {
		host = s[:i]
	}
	if user == "" {
		return host
	}
	return user + "@" + host
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
