package sip

import (
	"bytes"
	"strings"
)

// maxMultipartDepth bounds how deeply SDPBody looks into nested multipart
// bodies.
const maxMultipartDepth = 3

// SDPBody returns the session description the message carries, aliasing
// Body: Body itself when ContentType is application/sdp, or when there is
// no Content-Type and the body starts with "v=0"; the first application/sdp
// part of a multipart body (nested multiparts included); nil otherwise.
func (m *Message) SDPBody() []byte {
	switch {
	case m.ContentType == "application/sdp":
		return m.Body
	case m.ContentType == "" && bytes.HasPrefix(m.Body, []byte("v=0")):
		return m.Body
	case strings.HasPrefix(m.ContentType, "multipart/") && m.Boundary != "":
		return multipartSDP(m.Body, readOnly(m.Boundary), maxMultipartDepth)
	}
	return nil
}

// multipartSDP returns the body of the first application/sdp part of a
// multipart body (RFC 2046 §5.1), looking into nested multipart parts while
// depth allows.
func multipartSDP(body, boundary []byte, depth int) []byte {
	if depth == 0 || len(boundary) == 0 {
		return nil
	}
	d := delimiter(body, 0, boundary)
	for d >= 0 {
		// The delimiter line: "--boundary", then "--" for the last one,
		// then optional padding up to the line end.
		after := d + 2 + len(boundary)
		if bytes.HasPrefix(body[after:], []byte("--")) {
			return nil
		}
		_, start := lineEnd(body, after)
		next := delimiter(body, start, boundary)
		end := len(body)
		if next >= 0 {
			// The line break before a delimiter belongs to it.
			end = next
			if end > start && body[end-1] == '\n' {
				end--
			}
			if end > start && body[end-1] == '\r' {
				end--
			}
		}
		if sdp := partSDP(body[start:end], depth); sdp != nil {
			return sdp
		}
		d = next
	}
	return nil
}

// partSDP returns the body of part when it is application/sdp, or the SDP
// inside it when it is a nested multipart.
func partSDP(part []byte, depth int) []byte {
	r := headerReader{b: part, line: 1}
	var mediaType, params []byte
	found := false
	for {
		h, ok, err := r.next()
		if err != nil {
			return nil
		}
		if !ok {
			break
		}
		if !found && lookupField(h.name) == fieldContentType {
			mediaType, params = splitMediaType(h.value)
			found = true
		}
	}
	body := part[r.body:]
	switch {
	case equalFold(mediaType, "application/sdp"):
		if len(body) == 0 {
			return nil
		}
		return body[:len(body):len(body)]
	case hasPrefixFold(mediaType, "multipart/"):
		return multipartSDP(body, param(params, "boundary"), depth-1)
	}
	return nil
}

// delimiter returns the offset of the first delimiter line ("--" boundary
// at the start of a line) in body at or after from, or -1.
func delimiter(body []byte, from int, boundary []byte) int {
	for from <= len(body) {
		i := bytes.Index(body[from:], boundary)
		if i < 0 {
			return -1
		}
		at := from + i - 2
		if at >= from && body[at] == '-' && body[at+1] == '-' && (at == 0 || body[at-1] == '\n') {
			return at
		}
		from += i + 1
	}
	return -1
}
