package sip

import (
	"bytes"
	"strings"
)

// Message is what Parse reads from one SIP message: the start line and the
// header fields that tie a message to a call and locate its body.
//
// Its strings are copies that share one allocation and never alias the
// parsed bytes; Body aliases them.
type Message struct {
	Request    bool   // a request; false for a response
	Method     string // request method; empty for a response
	RequestURI string // request target as written; empty for a response
	StatusCode int    // response status code, 100 to 699; 0 for a request
	Reason     string // response reason phrase; may be empty

	CallID     string  // Call-ID (compact form i)
	From, To   Address // From (f) and To (t); zero when the header is absent
	CSeq       uint32  // sequence number of the CSeq header
	CSeqMethod string  // method of the CSeq header

	// ContentType is the media type of the Content-Type header (compact
	// form c), lower-cased and without parameters: "application/sdp",
	// "multipart/mixed". Empty when the header is absent.
	ContentType string
	// Boundary is the boundary parameter of the Content-Type header,
	// without quotes; empty when absent. Multipart bodies need it.
	Boundary string
	// ContentLength is the value of the Content-Length header (compact
	// form l), or -1 when the header is absent or not a valid number.
	ContentLength int

	// Body is the message body. When ContentLength is present it is that
	// many bytes, or all that there is and Truncated is set when the input
	// ends earlier; bytes after it are ignored. Without Content-Length it
	// is the rest of the input. Nil when empty.
	Body      []byte
	Truncated bool // the input ended before Content-Length bytes of body
}

// Parse parses one SIP message, ignoring CR and LF bytes before the start
// line. Header names are matched without regard to case, in long and
// compact form; folded header values are unfolded; when a header occurs
// more than once the first one counts. Lines may end in CRLF or a bare LF.
// A message without the empty line that ends the header section is taken
// to have no body.
//
// Parse returns ErrNotSIP when the first line is not a SIP start line, and
// an error wrapping ErrMalformed when a header line is broken, Call-ID or
// CSeq is missing, or CSeq or Call-ID has an invalid value. A Content-Length
// that is not a number in range is treated as absent (-1), so a datagram
// with a broken Content-Length still yields its Call-ID; Frame, which needs
// the length, rejects it.
// A missing From or To is not an error; it leaves the Address zero.
//
// The strings of the Message are copies; Body aliases b.
func Parse(b []byte) (*Message, error) {
	start := skipCRLF(b)
	end, next := lineEnd(b, start)
	sl, ok := parseStartLine(b[start:end])
	if !ok {
		return nil, ErrNotSIP
	}

	var hs [numFields]header
	var seen [numFields]bool
	r := headerReader{b: b, pos: next, line: 2}
	for {
		h, ok, err := r.next()
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		if f := lookupField(h.name); f != fieldOther && !seen[f] {
			hs[f], seen[f] = h, true
		}
	}
	if !seen[fieldCallID] {
		return nil, malformed("sip: missing Call-ID header")
	}
	if len(hs[fieldCallID].value) == 0 {
		return nil, malformed("sip: empty Call-ID header")
	}
	if !seen[fieldCSeq] {
		return nil, malformed("sip: missing CSeq header")
	}
	contentLength := -1
	if seen[fieldContentLength] {
		// An unreadable value is taken as absent: the caller has already
		// bounded the message (a UDP datagram; over TCP, Frame rejects it).
		if n, err := parseContentLength(hs[fieldContentLength].value); err == nil {
			contentLength = n
		}
	}
	var mediaType, boundary []byte
	if seen[fieldContentType] {
		var params []byte
		mediaType, params = splitMediaType(hs[fieldContentType].value)
		boundary = param(params, "boundary")
	}

	// Copy every string into one block.
	var a arena
	a.grow(len(sl.method) + len(sl.uri) + len(sl.reason) + len(mediaType) + len(boundary) +
		len(hs[fieldCallID].value) + len(hs[fieldFrom].value) + len(hs[fieldTo].value) + len(hs[fieldCSeq].value))
	method, uri, reason := a.add(sl.method, false), a.add(sl.uri, false), a.add(sl.reason, false)
	callID := a.add(hs[fieldCallID].value, hs[fieldCallID].folded)
	from := a.add(hs[fieldFrom].value, hs[fieldFrom].folded)
	to := a.add(hs[fieldTo].value, hs[fieldTo].folded)
	cseq := a.add(hs[fieldCSeq].value, hs[fieldCSeq].folded)
	ctype := a.addLower(mediaType)
	bound := a.add(boundary, false)
	s := a.String()
	cseqNum, cseqMethod, err := parseCSeq(cseq.in(s))
	if err != nil {
		return nil, err
	}

	m := &Message{
		Request:       sl.request,
		Method:        method.in(s),
		RequestURI:    uri.in(s),
		StatusCode:    sl.code,
		Reason:        reason.in(s),
		CallID:        callID.in(s),
		CSeq:          cseqNum,
		CSeqMethod:    cseqMethod,
		From:          parseAddress(from.in(s)),
		To:            parseAddress(to.in(s)),
		ContentType:   ctype.in(s),
		Boundary:      bound.in(s),
		ContentLength: contentLength,
	}

	body := b[r.body:]
	if contentLength >= 0 {
		if contentLength > len(body) {
			m.Truncated = true
		} else {
			body = body[:contentLength]
		}
	}
	if len(body) > 0 {
		m.Body = body[:len(body):len(body)]
	}
	return m, nil
}

// arena copies byte ranges of a message into one string, so that all the
// strings of a Message cost a single allocation.
type arena struct {
	sb strings.Builder
}

// ref locates a string within the arena.
type ref struct {
	start, end int
}

// in returns the string r refers to in s, the arena's final string.
func (r ref) in(s string) string { return s[r.start:r.end] }

// grow makes room for n bytes.
func (a *arena) grow(n int) { a.sb.Grow(n) }

// add copies p. When folded is set, p is a header value that spans several
// lines and each line break with the white space around it becomes a
// single space.
func (a *arena) add(p []byte, folded bool) ref {
	start := a.sb.Len()
	if !folded {
		a.sb.Write(p)
		return ref{start, a.sb.Len()}
	}
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			i = len(p)
		}
		line := trimLWS(p[:i])
		if len(line) > 0 {
			if a.sb.Len() > start {
				a.sb.WriteByte(' ')
			}
			a.sb.Write(line)
		}
		p = p[min(i+1, len(p)):]
	}
	return ref{start, a.sb.Len()}
}

// addLower copies p in ASCII lower case.
func (a *arena) addLower(p []byte) ref {
	start := a.sb.Len()
	for _, c := range p {
		a.sb.WriteByte(lower(c))
	}
	return ref{start, a.sb.Len()}
}

// String returns the arena's contents. Nothing may be added after.
func (a *arena) String() string { return a.sb.String() }
