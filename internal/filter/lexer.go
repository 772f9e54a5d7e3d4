package filter

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// tokKind is the class of a token.
type tokKind int

const (
	tEOF tokKind = iota
	tLParen
	tRParen
	tSlash
	tAnd
	tOr
	tNot
	tKeyword
	tNum  // a number: decimal, 0x hex or 0-prefixed octal
	tIPv4 // two to four dotted decimal parts
	tIPv6
	tMAC
	tName // any other word, or a backslash-escaped one
	tBad  // a lexical error; msg says what
)

// token is one lexical element of an expression.
type token struct {
	kind tokKind
	pos  int    // byte offset in the expression
	text string // as written; for an escaped name, without the backslash
	kw   keyword
	num  uint32 // tNum; tIPv4: the parts packed into the low bits
	bits int    // tIPv4: 8 bits per part given
	ip6  netip.Addr
	mac  [6]byte
	msg  string // tBad
}

// isValue reports whether t can stand where a qualifier expects its value.
func (t token) isValue() bool {
	switch t.kind {
	case tNum, tIPv4, tIPv6, tMAC, tName:
		return true
	}
	return false
}

// describe names t for error messages.
func (t token) describe() string {
	if t.kind == tEOF {
		return "end of expression"
	}
	return fmt.Sprintf("%q", t.text)
}

// lex splits src into tokens, ending with tEOF. It never fails: malformed
// input becomes a tBad token that the parser reports if it gets there.
func lex(src string) []token {
	var toks []token
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
			continue
		case isWordByte(c):
			j := i
			for j < len(src) && isWordByte(src[j]) {
				j++
			}
			toks = append(toks, word(src[i:j], i))
			i = j
			continue
		}
		t := token{pos: i, text: src[i : i+1]}
		switch {
		case c == '(':
			t.kind = tLParen
		case c == ')':
			t.kind = tRParen
		case c == '/':
			t.kind = tSlash
		case c == '!' && !strings.HasPrefix(src[i:], "!="):
			t.kind = tNot
		case strings.HasPrefix(src[i:], "&&"):
			t.kind, t.text = tAnd, "&&"
		case strings.HasPrefix(src[i:], "||"):
			t.kind, t.text = tOr, "||"
		case c == '\\':
			j := i + 1
			for j < len(src) && !strings.ContainsRune(" !()\n\t", rune(src[j])) {
				j++
			}
			if j == i+1 {
				t.kind, t.msg = tBad, `a backslash must be followed by a name`
				break
			}
			t.kind, t.text = tName, src[i+1:j]
			toks = append(toks, t)
			i = j
			continue
		case strings.IndexByte("[]<>=+*%&|^!", c) >= 0:
			t.kind = tBad
			t.msg = fmt.Sprintf("unexpected %q: arithmetic and packet-data accessors are not supported", c)
		default:
			t.kind = tBad
			t.msg = fmt.Sprintf("unexpected %q", c)
		}
		toks = append(toks, t)
		i += len(t.text)
	}
	return append(toks, token{kind: tEOF, pos: len(src)})
}

// isWordByte reports whether c can be part of a word: a keyword, number,
// address or name.
func isWordByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '.' || c == '_' || c == ':' || c == '-'
}

// word classifies w, a maximal run of word bytes starting at pos. The order
// follows libpcap's scanner: keywords, then MAC addresses (so 12 hex digits
// are a MAC, not a number), numbers, dotted IPv4, IPv6 and names.
func word(w string, pos int) token {
	t := token{pos: pos, text: w}
	if kw, ok := keywords[w]; ok {
		t.kind, t.kw = tKeyword, kw
		return t
	}
	switch w {
	case "and":
		t.kind = tAnd
		return t
	case "or":
		t.kind = tOr
		return t
	case "not":
		t.kind = tNot
		return t
	}
	if mac, ok := parseMAC(w); ok {
		t.kind, t.mac = tMAC, mac
		return t
	}
	if isNumber(w) {
		n, err := parseNumber(w)
		if err != nil {
			t.kind, t.msg = tBad, err.Error()
			return t
		}
		t.kind, t.num = tNum, n
		return t
	}
	if parts := strings.Split(w, "."); len(parts) >= 2 && len(parts) <= 4 && allNumbers(parts) {
		v, ok := parseDotted(parts)
		if !ok {
			t.kind, t.msg = tBad, fmt.Sprintf("invalid IPv4 address %q", w)
			return t
		}
		t.kind, t.num, t.bits = tIPv4, v, 8*len(parts)
		return t
	}
	if strings.Contains(w, ":") {
		a, err := netip.ParseAddr(w)
		if err != nil || !a.Is6() {
			t.kind, t.msg = tBad, fmt.Sprintf("invalid address %q", w)
			return t
		}
		t.kind, t.ip6 = tIPv6, a
		return t
	}
	if isName(w) {
		t.kind = tName
		return t
	}
	t.kind, t.msg = tBad, fmt.Sprintf("unexpected %q", w)
	return t
}

// isNumber reports whether w has the shape of a number: decimal digits, or
// 0x followed by hex digits.
func isNumber(w string) bool {
	if len(w) > 2 && (w[:2] == "0x" || w[:2] == "0X") {
		return strings.Trim(w[2:], "0123456789abcdefABCDEF") == ""
	}
	return w != "" && strings.Trim(w, "0123456789") == ""
}

func allNumbers(parts []string) bool {
	for _, p := range parts {
		if !isNumber(p) {
			return false
		}
	}
	return true
}

// parseNumber converts a word of number shape, reading a leading 0x as hex
// and a leading 0 as octal, like libpcap.
func parseNumber(w string) (uint32, error) {
	base, digits := 10, w
	switch {
	case len(w) > 2 && (w[:2] == "0x" || w[:2] == "0X"):
		base, digits = 16, w[2:]
	case len(w) > 1 && w[0] == '0':
		base, digits = 8, w[1:]
	}
	n, err := strconv.ParseUint(digits, base, 32)
	if errors.Is(err, strconv.ErrRange) {
		return 0, fmt.Errorf("number %s overflows 32 bits", w)
	}
	if err != nil {
		return 0, fmt.Errorf("number %s contains a non-octal digit", w)
	}
	return uint32(n), nil
}

// isName reports whether w has the shape of a host or protocol name: a
// letter or digit, then letters, digits, '-', '_' or '.', not ending in
// '-' or '_'.
func isName(w string) bool {
	if w == "" || !isAlnum(w[0]) {
		return false
	}
	last := w[len(w)-1]
	if !isAlnum(last) && last != '.' {
		return false
	}
	return !strings.Contains(w, ":")
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}
