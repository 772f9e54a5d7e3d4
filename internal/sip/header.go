package sip

import "bytes"

// field names the header fields this package reads. Every other header is
// fieldOther and skipped.
type field uint8

const (
	fieldOther field = iota
	fieldCallID
	fieldFrom
	fieldTo
	fieldCSeq
	fieldContentLength
	fieldContentType
	numFields
)

// lookupField returns the field a header name stands for, matching long
// and compact forms without regard to case.
func lookupField(name []byte) field {
	if len(name) == 1 {
		switch lower(name[0]) {
		case 'i':
			return fieldCallID
		case 'f':
			return fieldFrom
		case 't':
			return fieldTo
		case 'l':
			return fieldContentLength
		case 'c':
			return fieldContentType
		}
		return fieldOther
	}
	switch {
	case equalFold(name, "Call-ID"):
		return fieldCallID
	case equalFold(name, "From"):
		return fieldFrom
	case equalFold(name, "To"):
		return fieldTo
	case equalFold(name, "CSeq"):
		return fieldCSeq
	case equalFold(name, "Content-Length"):
		return fieldContentLength
	case equalFold(name, "Content-Type"):
		return fieldContentType
	}
	return fieldOther
}

// header is one header field of a message.
type header struct {
	name []byte
	// value is the field value without leading and trailing white space.
	// When folded is set it still holds the line breaks of its
	// continuation lines.
	value  []byte
	folded bool
}

// headerReader reads the header fields of a message, one per call to next,
// joining continuation lines to the field they continue.
type headerReader struct {
	b    []byte
	pos  int // start of the next line
	line int // 1-based number of the line at pos, for error messages
	// body is where the body starts once next has reported the end of the
	// header section: after the empty line, or len(b) when there was none.
	body int
}

// next returns the next header field. It returns false at the end of the
// header section, and an error wrapping ErrMalformed for a line that is not
// a header field.
func (r *headerReader) next() (header, bool, error) {
	if r.pos >= len(r.b) {
		r.body = len(r.b)
		return header{}, false, nil
	}
	end, next := lineEnd(r.b, r.pos)
	if end == r.pos {
		r.body = next
		return header{}, false, nil
	}
	line := r.b[r.pos:end]
	if line[0] == ' ' || line[0] == '\t' {
		return header{}, false, malformed("sip: line %d: continuation line without a header", r.line)
	}
	colon := bytes.IndexByte(line, ':')
	if colon < 0 {
		return header{}, false, malformed("sip: line %d: header %q has no colon", r.line, snippet(line))
	}
	name := line[:colon]
	for len(name) > 0 && (name[len(name)-1] == ' ' || name[len(name)-1] == '\t') {
		name = name[:len(name)-1]
	}
	if len(name) == 0 {
		return header{}, false, malformed("sip: line %d: empty header name", r.line)
	}
	h := header{name: name}
	start := r.pos + colon + 1
	r.pos, r.line = next, r.line+1
	for r.pos < len(r.b) && (r.b[r.pos] == ' ' || r.b[r.pos] == '\t') {
		end, next = lineEnd(r.b, r.pos)
		r.pos, r.line = next, r.line+1
		h.folded = true
	}
	h.value = trimLWS(r.b[start:end])
	return h, true, nil
}

// maxContentLength is the largest Content-Length accepted: 2^31-1.
const maxContentLength = 1<<31 - 1

// parseContentLength parses a Content-Length value.
func parseContentLength(v []byte) (int, error) {
	v = trimLWS(v)
	if len(v) > 0 && v[0] == '-' {
		return 0, malformed("sip: negative Content-Length %q", snippet(v))
	}
	n, ok := parseDecimal(v, maxContentLength)
	if !ok {
		return 0, malformed("sip: bad Content-Length %q", snippet(v))
	}
	return int(n), nil
}

// parseDecimal parses v as a non-empty string of decimal digits no greater
// than limit.
func parseDecimal[T text](v T, limit uint64) (uint64, bool) {
	if len(v) == 0 {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !isDigit(c) {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
		if n > limit {
			return 0, false
		}
	}
	return n, true
}

// parseCSeq parses a CSeq value, "1*DIGIT LWS Method". Anything after the
// method is ignored.
func parseCSeq(v string) (uint32, string, error) {
	i := 0
	for i < len(v) && isDigit(v[i]) {
		i++
	}
	n, ok := parseDecimal(v[:i], 1<<32-1)
	j := i
	for j < len(v) && isLWS(v[j]) {
		j++
	}
	k := j
	for k < len(v) && isTokenChar(v[k]) {
		k++
	}
	if !ok || j == i || k == j {
		return 0, "", malformed("sip: bad CSeq %q", snippet([]byte(v)))
	}
	return uint32(n), v[j:k], nil
}

// splitMediaType splits a Content-Type value into the media type, without
// surrounding white space, and its parameters, starting after the first
// semicolon.
func splitMediaType(v []byte) (mediaType, params []byte) {
	if i := bytes.IndexByte(v, ';'); i >= 0 {
		return trimLWS(v[:i]), v[i+1:]
	}
	return trimLWS(v), nil
}

// param returns the value of the parameter name, matched without regard to
// case, in a list of "name=value" parameters separated by semicolons. A
// quoted value is returned without its quotes. It returns nil when the
// parameter is absent.
func param(params []byte, name string) []byte {
	for len(params) > 0 {
		end := paramEnd(params)
		p := params[:end]
		params = params[min(end+1, len(params)):]
		k, v, _ := bytes.Cut(p, []byte("="))
		if !equalFold(trimLWS(k), name) {
			continue
		}
		v = trimLWS(v)
		if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			v = v[1 : len(v)-1]
		}
		return v
	}
	return nil
}

// paramEnd returns the index of the first semicolon in params that is not
// inside a quoted string, or len(params).
func paramEnd(params []byte) int {
	quoted := false
	for i := 0; i < len(params); i++ {
		switch c := params[i]; {
		case quoted && c == '\\':
			i++
		case c == '"':
			quoted = !quoted
		case !quoted && c == ';':
			return i
		}
	}
	return len(params)
}
