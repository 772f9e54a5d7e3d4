package sip

// sipVersion is the protocol version of every SIP start line. It is matched
// without regard to case.
const sipVersion = "SIP/2.0"

// startLine is a parsed request line or status line. Its slices alias the
// line it was parsed from.
type startLine struct {
	request bool
	method  []byte // request method
	uri     []byte // Request-URI
	code    int    // status code of a response
	reason  []byte // reason phrase of a response
}

// LooksLikeSIP reports whether b starts, after optional CR and LF bytes,
// with a SIP request line ("METHOD SP Request-URI SP SIP/2.0") or status
// line ("SIP/2.0 SP 3DIGIT SP Reason-Phrase"). It looks at the first line
// only, so it is cheap enough to try on every datagram.
func LooksLikeSIP(b []byte) bool {
	b = b[skipCRLF(b):]
	if len(b) == 0 || !isTokenChar(b[0]) {
		return false // RTP, TLS and most binary protocols stop here
	}
	end, _ := lineEnd(b, 0)
	_, ok := parseStartLine(b[:end])
	return ok
}

// parseStartLine parses line, the first line of a message without its line
// end.
func parseStartLine(line []byte) (startLine, bool) {
	if hasPrefixFold(line, sipVersion+" ") {
		return parseStatusLine(line[len(sipVersion)+1:])
	}
	return parseRequestLine(line)
}

// parseStatusLine parses what follows "SIP/2.0 " in a status line: a status
// code from 100 to 699 and an optional reason phrase.
func parseStatusLine(rest []byte) (startLine, bool) {
	if len(rest) < 3 || !validCode(rest[:3]) {
		return startLine{}, false
	}
	code := int(rest[0]-'0')*100 + int(rest[1]-'0')*10 + int(rest[2]-'0')
	rest = rest[3:]
	if len(rest) > 0 && rest[0] != ' ' {
		return startLine{}, false
	}
	for _, c := range rest {
		if isCTL(c) {
			return startLine{}, false
		}
	}
	return startLine{code: code, reason: trimLWS(rest)}, true
}

// validCode reports whether d, at most three bytes, can begin a status
// code from 100 to 699.
func validCode(d []byte) bool {
	for i, c := range d {
		if !isDigit(c) || (i == 0 && (c < '1' || c > '6')) {
			return false
		}
	}
	return true
}

// parseRequestLine parses "METHOD SP Request-URI SP SIP/2.0", allowing
// trailing white space.
func parseRequestLine(line []byte) (startLine, bool) {
	m := tokenEnd(line, 0)
	if m == 0 || m == len(line) || line[m] != ' ' {
		return startLine{}, false
	}
	u := uriEnd(line, m+1)
	if u == m+1 || u == len(line) || line[u] != ' ' {
		return startLine{}, false
	}
	v := line[u+1:]
	for len(v) > 0 && (v[len(v)-1] == ' ' || v[len(v)-1] == '\t') {
		v = v[:len(v)-1]
	}
	if !equalFold(v, sipVersion) {
		return startLine{}, false
	}
	return startLine{request: true, method: line[:m], uri: line[m+1 : u]}, true
}

// tokenEnd returns the index of the first byte at or after i that is not a
// token character.
func tokenEnd(b []byte, i int) int {
	for i < len(b) && isTokenChar(b[i]) {
		i++
	}
	return i
}

// uriEnd returns the index of the first byte at or after i that cannot be
// part of a Request-URI: a space or a control character. Bytes above 0x7f
// are accepted; they are invalid but seen in the wild.
func uriEnd(b []byte, i int) int {
	for i < len(b) && b[i] != ' ' && !isCTL(b[i]) {
		i++
	}
	return i
}

// startLinePrefix reports whether p, the beginning of a first line without
// a line end, can still grow into a SIP start line.
func startLinePrefix(p []byte) bool {
	return statusLinePrefix(p) || requestLinePrefix(p)
}

// statusLinePrefix reports whether p can still grow into a status line.
func statusLinePrefix(p []byte) bool {
	const v = sipVersion + " "
	if len(p) <= len(v) {
		return equalFold(p, v[:len(p)])
	}
	if !equalFold(p[:len(v)], v) {
		return false
	}
	p = p[len(v):]
	if !validCode(p[:min(len(p), 3)]) {
		return false
	}
	if len(p) <= 3 {
		return true
	}
	if p[3] != ' ' {
		return false
	}
	for _, c := range p[4:] {
		if isCTL(c) {
			return false
		}
	}
	return true
}

// requestLinePrefix reports whether p can still grow into a request line.
func requestLinePrefix(p []byte) bool {
	m := tokenEnd(p, 0)
	if m == len(p) {
		return true
	}
	if m == 0 || p[m] != ' ' {
		return false
	}
	u := uriEnd(p, m+1)
	if u == len(p) {
		return true
	}
	if u == m+1 || p[u] != ' ' {
		return false
	}
	v := p[u+1:]
	if len(v) <= len(sipVersion) {
		return equalFold(v, sipVersion[:len(v)])
	}
	if !equalFold(v[:len(sipVersion)], sipVersion) {
		return false
	}
	for _, c := range v[len(sipVersion):] {
		if c != ' ' && c != '\t' {
			return false
		}
	}
	return true
}
