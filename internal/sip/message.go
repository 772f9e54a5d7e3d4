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

	var hs knownHeaders
	r := headerReader{b: b, pos: next, line: 2}
	if err := hs.read(&r); err != nil {
		return nil, err
	}
	if err := hs.checkRequired(); err != nil {
		return nil, err
	}
	m, err := newMessage(sl, &hs)
	if err != nil {
		return nil, err
	}
	m.setBody(b[r.body:])
	return m, nil
}

// knownHeaders holds the first occurrence of each header field Parse
// reads. Its values alias the parsed bytes.
type knownHeaders struct {
	h    [numFields]header
	seen [numFields]bool
}

// read reads the header section from r to its end, keeping the first
// occurrence of each field. It returns the error of a broken header line.
func (hs *knownHeaders) read(r *headerReader) error {
	for {
		h, ok, err := r.next()
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		if f := lookupField(h.name); f != fieldOther && !hs.seen[f] {
			hs.h[f], hs.seen[f] = h, true
		}
	}
}

// checkRequired returns an error wrapping ErrMalformed when Call-ID is
// missing or empty or CSeq is missing.
func (hs *knownHeaders) checkRequired() error {
	if !hs.seen[fieldCallID] {
		return malformed("sip: missing Call-ID header")
	}
	if len(hs.h[fieldCallID].value) == 0 {
		return malformed("sip: empty Call-ID header")
	}
	if !hs.seen[fieldCSeq] {
		return malformed("sip: missing CSeq header")
	}
	return nil
}

// contentLength returns the value of Content-Length, or -1 when it is
// absent or not a number in range.
func (hs *knownHeaders) contentLength() int {
	if !hs.seen[fieldContentLength] {
		return -1
	}
	// An unreadable value is taken as absent: the caller has already
	// bounded the message (a UDP datagram; over TCP, Frame rejects it).
	n, err := parseContentLength(hs.h[fieldContentLength].value)
	if err != nil {
		return -1
	}
	return n
}

// contentType returns the media type of Content-Type, as written, and its
// boundary parameter; both nil when the header is absent.
func (hs *knownHeaders) contentType() (mediaType, boundary []byte) {
	if !hs.seen[fieldContentType] {
		return nil, nil
	}
	mediaType, params := splitMediaType(hs.h[fieldContentType].value)
	return mediaType, param(params, "boundary")
}

// newMessage builds the Message of start line sl and headers hs, without
// its body, copying every string into one block. It returns an error
// wrapping ErrMalformed when CSeq has an invalid value.
func newMessage(sl startLine, hs *knownHeaders) (*Message, error) {
	contentLength := hs.contentLength()
	mediaType, boundary := hs.contentType()

	// Copy every string into one block.
	var a arena
	a.grow(len(sl.method) + len(sl.uri) + len(sl.reason) + len(mediaType) + len(boundary) +
		len(hs.h[fieldCallID].value) + len(hs.h[fieldFrom].value) + len(hs.h[fieldTo].value) + len(hs.h[fieldCSeq].value))
	method, uri, reason := a.add(sl.method, false), a.add(sl.uri, false), a.add(sl.reason, false)
	callID := a.add(hs.h[fieldCallID].value, hs.h[fieldCallID].folded)
	from := a.add(hs.h[fieldFrom].value, hs.h[fieldFrom].folded)
	to := a.add(hs.h[fieldTo].value, hs.h[fieldTo].folded)
	cseq := a.add(hs.h[fieldCSeq].value, hs.h[fieldCSeq].folded)
	ctype := a.addLower(mediaType)
	bound := a.add(boundary, false)
	s := a.String()
	cseqNum, cseqMethod, err := parseCSeq(cseq.in(s))
	if err != nil {
		return nil, err
	}

	return &Message{
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
	}, nil
}

// setBody sets Body and Truncated from body, the bytes after the header
// section, as ContentLength bounds them.
func (m *Message) setBody(body []byte) {
	if m.ContentLength >= 0 {
		if m.ContentLength > len(body) {
			m.Truncated = true
		} else {
			body = body[:m.ContentLength]
		}
	}
	if len(body) > 0 {
		m.Body = body[:len(body):len(body)]
	}
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
