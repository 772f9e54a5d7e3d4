package sip

import "bytes"

// Limits that Frame enforces on a stream.
const (
	// maxStartLine is the longest first line, line end included, that
	// Frame accepts.
	maxStartLine = 512
	// maxHeaderSection is the longest start line and header section,
	// empty line included, that Frame accepts.
	maxHeaderSection = 64 << 10
	// maxBody is the largest Content-Length that Frame accepts.
	maxBody = 16 << 20
)

// Frame finds the first SIP message in b, bytes of a SIP-over-TCP stream,
// framing it by its Content-Length as RFC 3261 §18.3 requires; a missing
// Content-Length counts as 0.
//
// skip is the number of CR and LF bytes (keep-alives) before the message,
// and n the length of the message after them: start line, headers, empty
// line and body. The caller consumes skip+n bytes.
//
// When n is 0, err says why:
//   - ErrIncomplete: b[skip:] is the beginning of a plausible message; call
//     again with more bytes. b made only of CR and LF gives skip = len(b).
//   - ErrNotSIP: the first line is not a SIP start line. This is decided as
//     soon as the first line is complete, as soon as the partial first line
//     can no longer become a start line, or as soon as the first line, line
//     end included, is longer than 512 bytes.
//   - an error wrapping ErrMalformed: a header line is broken, a
//     Content-Length is not a number, or the message exceeds a limit: more
//     than 64 KiB of start line and headers, or a body over 16 MiB.
//
// The first Content-Length header counts, as in Parse.
func Frame(b []byte) (skip, n int, err error) {
	skip = skipCRLF(b)
	rest := b[skip:]
	if len(rest) == 0 {
		return skip, 0, ErrIncomplete
	}
	lf := bytes.IndexByte(rest[:min(len(rest), maxStartLine)], '\n')
	if lf < 0 {
		if len(rest) >= maxStartLine || !startLinePrefix(trimCR(rest)) {
			return skip, 0, ErrNotSIP
		}
		return skip, 0, ErrIncomplete
	}
	if _, ok := parseStartLine(trimCR(rest[:lf])); !ok {
		return skip, 0, ErrNotSIP
	}

	end := headerSectionEnd(rest[:min(len(rest), maxHeaderSection)], lf)
	if end < 0 {
		if len(rest) >= maxHeaderSection {
			return skip, 0, malformed("sip: header section exceeds %d bytes", maxHeaderSection)
		}
		return skip, 0, ErrIncomplete
	}

	length := 0
	r := headerReader{b: rest[:end], pos: lf + 1, line: 2}
	for {
		h, ok, err := r.next()
		if err != nil {
			return skip, 0, err
		}
		if !ok {
			break
		}
		if lookupField(h.name) == fieldContentLength {
			if length, err = parseContentLength(h.value); err != nil {
				return skip, 0, err
			}
			break
		}
	}
	if length > maxBody {
		return skip, 0, malformed("sip: body of %d bytes exceeds %d", length, maxBody)
	}
	if end+length > len(rest) {
		return skip, 0, ErrIncomplete
	}
	return skip, end + length, nil
}

// headerSectionEnd returns the offset just past the empty line that ends
// the header section of b, searching from the line end at lf that ends the
// start line, or -1 when b does not hold it yet.
func headerSectionEnd(b []byte, lf int) int {
	for {
		switch {
		case lf+1 < len(b) && b[lf+1] == '\n':
			return lf + 2
		case lf+2 < len(b) && b[lf+1] == '\r' && b[lf+2] == '\n':
			return lf + 3
		}
		i := bytes.IndexByte(b[lf+1:], '\n')
		if i < 0 {
			return -1
		}
		lf += i + 1
	}
}
