package sip

import (
	"bytes"
	"strings"
)

// Message is what Parse and ParseInto read from one SIP message: the start
// line and the header fields that tie a message to a call and locate its
// body.
//
// Who owns its memory depends on how it was filled:
//
//   - Parse returns a Message whose strings are copies sharing one
//     allocation; they stay valid whatever becomes of the parsed bytes.
//   - ParseInto fills a Message whose strings alias the parsed bytes (a few
//     rare values excepted, see ParseInto), so that a message costs no
//     allocation. The parsed bytes must not change while any of those
//     strings is held: what must outlive them is copied where it is kept,
//     with strings.Clone for a field or Clone for the whole Message.
//
// In both cases Body aliases the parsed bytes. The zero Message is empty;
// a Message may be filled again by ParseInto, which leaves nothing of what
// it held before.
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
// The strings of the Message are copies; Body aliases b. A message costs
// two allocations, the Message and its strings; ParseInto costs none.
func Parse(b []byte) (*Message, error) {
	var m Message
	if err := ParseInto(&m, b); err != nil {
		return nil, err
	}
	return m.Clone(), nil
}

// ParseInto parses one SIP message into m as Parse does, without copying:
// the strings of m alias b, and b must not change while any of them is
// held. A caller that keeps one longer copies it (see Message).
// Whatever m held before is overwritten; on error m is left zero.
//
// ParseInto does not allocate for a well-formed message unless one of its
// values is not written in b as m holds it, which is rare; such a value is
// built in an allocation of its own: a folded Call-ID, From, To or CSeq, a
// display name with quoted-pairs, a Content-Type media type with upper-case
// letters other than the common ones (application/sdp, multipart/mixed,
// multipart/alternative, multipart/related). Errors allocate.
func ParseInto(m *Message, b []byte) error {
	*m = Message{}
	start := skipCRLF(b)
	end, next := lineEnd(b, start)
	sl, ok := parseStartLine(b[start:end])
	if !ok {
		return ErrNotSIP
	}

	var hs knownHeaders
	r := headerReader{b: b, pos: next, line: 2}
	if err := hs.read(&r); err != nil {
		return err
	}
	if err := hs.checkRequired(); err != nil {
		return err
	}
	if err := m.fill(sl, &hs); err != nil {
		return err
	}
	m.setBody(b[r.body:])
	return nil
}

// knownHeaders holds the first occurrence of each header field ParseInto
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

// value returns the value of field f, empty when it is absent. It aliases
// the parsed bytes unless the value is folded: then it is unfolded into a
// copy.
func (hs *knownHeaders) value(f field) string {
	if hs.h[f].folded {
		return unfold(hs.h[f].value)
	}
	return view(hs.h[f].value)
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

// fill sets the fields of m, a zero Message, from start line sl and
// headers hs, aliasing their bytes. It returns an error wrapping
// ErrMalformed, and leaves m zero, when CSeq has an invalid value.
func (m *Message) fill(sl startLine, hs *knownHeaders) error {
	cseq, cseqMethod, err := parseCSeq(hs.value(fieldCSeq))
	if err != nil {
		return err
	}
	mediaType, boundary := hs.contentType()
	*m = Message{
		Request:       sl.request,
		Method:        view(sl.method),
		RequestURI:    view(sl.uri),
		StatusCode:    sl.code,
		Reason:        view(sl.reason),
		CallID:        hs.value(fieldCallID),
		From:          parseAddress(hs.value(fieldFrom)),
		To:            parseAddress(hs.value(fieldTo)),
		CSeq:          cseq,
		CSeqMethod:    cseqMethod,
		ContentType:   lowerMediaType(mediaType),
		Boundary:      view(boundary),
		ContentLength: hs.contentLength(),
	}
	return nil
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

// Clone returns a copy of m that does not depend on the bytes m was parsed
// from: its strings are copies sharing one allocation, so keeping any one
// of them keeps that block alive. Body is not copied; the copy shares it.
func (m *Message) Clone() *Message {
	c := new(Message)
	*c = *m
	strs := [...]*string{
		&c.Method, &c.RequestURI, &c.Reason, &c.CallID,
		&c.From.Display, &c.From.URI, &c.From.Tag,
		&c.To.Display, &c.To.URI, &c.To.Tag,
		&c.CSeqMethod, &c.ContentType, &c.Boundary,
	}
	n := 0
	for _, s := range strs {
		n += len(*s)
	}
	var sb strings.Builder
	sb.Grow(n)
	for _, s := range strs {
		sb.WriteString(*s)
	}
	block := sb.String()
	for _, s := range strs {
		*s, block = block[:len(*s)], block[len(*s):]
	}
	return c
}

// unfold returns a folded header value, which spans several lines, with
// each line break and the white space around it made a single space. The
// result is a copy.
func unfold(p []byte) string {
	var sb strings.Builder
	sb.Grow(len(p))
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			i = len(p)
		}
		line := trimLWS(p[:i])
		if len(line) > 0 {
			if sb.Len() > 0 {
				sb.WriteByte(' ')
			}
			sb.Write(line)
		}
		p = p[min(i+1, len(p)):]
	}
	return sb.String()
}

// lowerMediaType returns media type p in ASCII lower case: p itself when it
// has no upper-case letter, a constant for the common media types, and a
// copy otherwise.
func lowerMediaType(p []byte) string {
	if !hasUpper(p) {
		return view(p)
	}
	switch {
	case equalFold(p, "application/sdp"):
		return "application/sdp"
	case equalFold(p, "multipart/mixed"):
		return "multipart/mixed"
	case equalFold(p, "multipart/alternative"):
		return "multipart/alternative"
	case equalFold(p, "multipart/related"):
		return "multipart/related"
	}
	var sb strings.Builder
	sb.Grow(len(p))
	for _, c := range p {
		sb.WriteByte(lower(c))
	}
	return sb.String()
}

// hasUpper reports whether p holds an ASCII upper-case letter.
func hasUpper(p []byte) bool {
	for _, c := range p {
		if 'A' <= c && c <= 'Z' {
			return true
		}
	}
	return false
}
