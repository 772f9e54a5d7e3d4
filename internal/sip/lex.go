package sip

import "bytes"

// text is what the lexical helpers accept: message bytes or strings copied
// from them.
type text interface {
	~string | ~[]byte
}

// isTokenChar reports whether c may appear in an RFC 3261 token.
func isTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	switch c {
	case '-', '.', '!', '%', '*', '_', '+', '`', '\'', '~':
		return true
	}
	return false
}

// isDigit reports whether c is an ASCII decimal digit.
func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// isLWS reports whether c is linear white space, including the line breaks
// of a folded header value.
func isLWS(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// isCTL reports whether c is an ASCII control character other than HT.
func isCTL(c byte) bool { return (c < 0x20 && c != '\t') || c == 0x7f }

// trimLWS returns s without leading and trailing linear white space.
func trimLWS[T text](s T) T {
	i, j := 0, len(s)
	for i < j && isLWS(s[i]) {
		i++
	}
	for j > i && isLWS(s[j-1]) {
		j--
	}
	return s[i:j]
}

// lower returns the ASCII lower case of c.
func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// equalFold reports whether s equals t under ASCII case folding.
func equalFold[T text](s T, t string) bool {
	if len(s) != len(t) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] != t[i] && lower(s[i]) != lower(t[i]) {
			return false
		}
	}
	return true
}

// hasPrefixFold reports whether s begins with prefix under ASCII case
// folding.
func hasPrefixFold[T text](s T, prefix string) bool {
	return len(s) >= len(prefix) && equalFold(s[:len(prefix)], prefix)
}

// skipCRLF returns the number of CR and LF bytes at the start of b.
func skipCRLF(b []byte) int {
	i := 0
	for i < len(b) && (b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}

// lineEnd finds the line of b that starts at pos. It returns the end of the
// line's content (before CRLF or a bare LF) and the start of the next line.
// A line without LF runs to the end of b, and then next is len(b).
func lineEnd(b []byte, pos int) (end, next int) {
	i := bytes.IndexByte(b[pos:], '\n')
	if i < 0 {
		return len(b), len(b)
	}
	end, next = pos+i, pos+i+1
	if end > pos && b[end-1] == '\r' {
		end--
	}
	return end, next
}

// trimCR returns b without one trailing CR.
func trimCR(b []byte) []byte {
	if len(b) > 0 && b[len(b)-1] == '\r' {
		return b[:len(b)-1]
	}
	return b
}
