package sip

import (
	"bytes"
	"net/netip"
)

// maxMedia bounds how many media descriptions ParseSDP returns; later m=
// lines are ignored.
const maxMedia = 128

// Session is what ParseSDP reads from a session description.
type Session struct {
	Origin string  // the o= line's value as written; empty when absent
	Media  []Media // one per m= line, in order
}

// Media is one media description (m= section) of a session description.
type Media struct {
	Type     string // media type: audio, video, image, application, text, message, ...
	Port     uint16 // transport port; 0 means the stream is disabled
	NumPorts int    // number of ports, from "m=audio 49170/2"; 1 when not given
	Proto    string // transport protocol: RTP/AVP, RTP/SAVP, udptl, UDP/TLS/RTP/SAVPF, TCP/MSRP, ...
	// Addr is the connection address: from the media-level c= line if
	// there is one, else from the session-level c= line. Invalid (zero)
	// when there is neither or when the applicable c= names a host rather
	// than an IP address. A multicast TTL or address count is dropped and
	// IPv4-mapped IPv6 addresses are unmapped.
	Addr netip.Addr
	// RTCP is the RTCP address from an a=rtcp attribute, with Addr as its
	// address when the attribute gives none (so the address is invalid
	// when neither gives one). Zero when there is no a=rtcp; RTCP then
	// goes to Port+1, or to Port with RTCPMux.
	RTCP    netip.AddrPort
	RTCPMux bool // a=rtcp-mux: RTP and RTCP share Port
}

// ParseSDP parses a session description (RFC 8866). It is lenient: lines
// it does not use, lines that are not "x=value" and trailing garbage are
// ignored, and lines may end in CRLF or LF. It returns an error wrapping
// ErrMalformed when b has neither a v= line nor an m= line, or when an m=
// line is malformed; the error names the line.
//
// At most 128 media descriptions are returned; later m= lines are ignored.
func ParseSDP(b []byte) (*Session, error) {
	p := sdpParser{s: &Session{}}
	if n := min(bytes.Count(b, []byte("\nm=")), maxMedia); n > 0 {
		p.s.Media = make([]Media, 0, n+1)
	}
	var sawV, sawM bool
	for pos, lineNo := 0, 1; pos < len(b); lineNo++ {
		end, next := lineEnd(b, pos)
		line := b[pos:end]
		pos = next
		if len(line) < 2 || line[1] != '=' {
			continue
		}
		value := line[2:]
		switch line[0] {
		case 'v':
			sawV = true
		case 'o':
			if !p.inMedia && p.s.Origin == "" {
				p.s.Origin = string(trimLWS(value))
			}
		case 'c':
			p.connection(value)
		case 'm':
			sawM = true
			m, err := parseMediaLine(value, lineNo)
			if err != nil {
				return nil, err
			}
			p.flush()
			p.cur, p.inMedia = mediaDesc{Media: m}, true
		case 'a':
			if p.inMedia {
				p.cur.attribute(value)
			}
		}
	}
	if !sawV && !sawM {
		return nil, malformed("sdp: no v= or m= line")
	}
	p.flush()
	return p.s, nil
}

// sdpParser holds what ParseSDP has read so far.
type sdpParser struct {
	s           *Session
	sessAddr    netip.Addr // from the session-level c= line
	sessHasAddr bool       // there was a session-level c= line
	cur         mediaDesc  // the media section being read
	inMedia     bool       // past the first m= line: cur is in use
}

// connection records a c= line for the session or the current media.
func (p *sdpParser) connection(value []byte) {
	switch {
	case !p.inMedia && !p.sessHasAddr:
		p.sessAddr, p.sessHasAddr = parseConnection(value), true
	case !p.cur.hasAddr:
		p.cur.addr, p.cur.hasAddr = parseConnection(value), true
	}
}

// flush appends the current media section to the session, unless it would
// be one too many.
func (p *sdpParser) flush() {
	if p.inMedia && len(p.s.Media) < maxMedia {
		p.s.Media = append(p.s.Media, p.cur.finish(p.sessAddr))
	}
	p.inMedia = false
}

// mediaDesc is a media section while it is being read.
type mediaDesc struct {
	Media
	addr     netip.Addr // from the media-level c= line
	hasAddr  bool       // there was a media-level c= line
	rtcpPort uint16     // from a=rtcp; 0 when absent
	rtcpAddr netip.Addr // from a=rtcp; invalid when it gave none
}

// attribute records an a= line of the media section.
func (d *mediaDesc) attribute(value []byte) {
	value = trimLWS(value)
	switch {
	case equalFold(value, "rtcp-mux"):
		d.RTCPMux = true
	case hasPrefixFold(value, "rtcp:") && d.rtcpPort == 0:
		port, rest := nextField(value[len("rtcp:"):])
		n, ok := parseDecimal(port, 65535)
		if !ok || n == 0 {
			return
		}
		d.rtcpPort = uint16(n)
		if len(trimLWS(rest)) > 0 {
			d.rtcpAddr = parseConnection(rest)
		}
	}
}

// finish resolves the connection addresses of the media section.
func (d *mediaDesc) finish(sessAddr netip.Addr) Media {
	m := d.Media
	m.Addr = sessAddr
	if d.hasAddr {
		m.Addr = d.addr
	}
	if d.rtcpPort != 0 {
		addr := d.rtcpAddr
		if !addr.IsValid() {
			addr = m.Addr
		}
		m.RTCP = netip.AddrPortFrom(addr, d.rtcpPort)
	}
	return m
}

// parseMediaLine parses the value of an m= line:
// "<media> <port>[/<number of ports>] <proto> <fmt> ...".
func parseMediaLine(value []byte, lineNo int) (Media, error) {
	typ, rest := nextField(value)
	portField, rest := nextField(rest)
	proto, _ := nextField(rest)
	if len(proto) == 0 {
		return Media{}, malformed("sdp: line %d: m= line %q has too few fields", lineNo, snippet(value))
	}
	port, count, _ := bytes.Cut(portField, []byte("/"))
	n, ok := parseDecimal(port, 65535)
	if !ok {
		return Media{}, malformed("sdp: line %d: bad m= port %q", lineNo, snippet(port))
	}
	m := Media{Type: mediaTypeName(typ), Port: uint16(n), NumPorts: 1, Proto: protoName(proto)}
	if len(count) > 0 || len(port) < len(portField) {
		c, ok := parseDecimal(count, 65535)
		if !ok || c == 0 {
			return Media{}, malformed("sdp: line %d: bad m= port count %q", lineNo, snippet(count))
		}
		m.NumPorts = int(c)
	}
	return m, nil
}

// parseConnection returns the address of a c= line value,
// "IN IP4 192.0.2.1", or of the address part of an a=rtcp value. A
// multicast "/ttl/count" suffix is dropped, an IPv4-mapped IPv6 address
// unmapped, and a zone removed. It returns the zero Addr when the value
// names a host or is not an IN address.
func parseConnection(value []byte) netip.Addr {
	netType, rest := nextField(value)
	_, rest = nextField(rest)
	addr, _ := nextField(rest)
	if !equalFold(netType, "IN") {
		return netip.Addr{}
	}
	if i := bytes.IndexByte(addr, '/'); i >= 0 {
		addr = addr[:i]
	}
	a, err := netip.ParseAddr(string(addr))
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap().WithZone("")
}

// nextField returns the first field of b, fields being separated by spaces
// or tabs, and what follows it.
func nextField(b []byte) (field, rest []byte) {
	i := 0
	for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
		i++
	}
	j := i
	for j < len(b) && b[j] != ' ' && b[j] != '\t' {
		j++
	}
	return b[i:j], b[j:]
}

// mediaTypeName returns b as a string, without allocating for the media
// types of RFC 8866.
func mediaTypeName(b []byte) string {
	switch string(b) {
	case "audio":
		return "audio"
	case "video":
		return "video"
	case "image":
		return "image"
	case "application":
		return "application"
	case "text":
		return "text"
	case "message":
		return "message"
	}
	return string(b)
}

// protoName returns b as a string, without allocating for common
// transport protocols.
func protoName(b []byte) string {
	switch string(b) {
	case "RTP/AVP":
		return "RTP/AVP"
	case "RTP/SAVP":
		return "RTP/SAVP"
	case "RTP/AVPF":
		return "RTP/AVPF"
	case "RTP/SAVPF":
		return "RTP/SAVPF"
	case "UDP/TLS/RTP/SAVP":
		return "UDP/TLS/RTP/SAVP"
	case "UDP/TLS/RTP/SAVPF":
		return "UDP/TLS/RTP/SAVPF"
	case "udptl":
		return "udptl"
	case "TCP/MSRP":
		return "TCP/MSRP"
	case "TCP/TLS/MSRP":
		return "TCP/TLS/MSRP"
	}
	return string(b)
}
