package processor

import (
	"net/netip"

	"github.com/lc-voip/lc/internal/event"
	"github.com/lc-voip/lc/internal/sip"
)

// mediaIndex maps RTP/RTCP endpoints announced in SDP to the call that
// announced them. An endpoint belongs to one call at a time: the latest SDP
// that names it wins, so a port reused by a later call follows that call.
type mediaIndex map[endpoint]mediaOwner

// endpoint is an address and port as the media index keys them: plain
// bytes hash and compare faster than a netip.AddrPort, whose zone is a
// pointer, and every RTP packet is looked up by two of them. An IPv4
// address and its IPv4-mapped IPv6 form are the same endpoint; zones are
// not part of it.
type endpoint struct {
	addr [16]byte
	port uint16
}

func endpointOf(ap netip.AddrPort) endpoint { return endpoint{ap.Addr().As16(), ap.Port()} }

type mediaOwner struct {
	c      *call
	stream int // index into c.streams
}

// learn records the endpoints of an SDP body for c.
func (mi mediaIndex) learn(c *call, sess *sip.Session) {
	for _, m := range sess.Media {
		if m.Port == 0 || !m.Addr.IsValid() || m.Addr.IsUnspecified() {
			continue
		}
		rtp := netip.AddrPortFrom(m.Addr, m.Port)
		rtcp := m.RTCP
		if m.RTCPMux {
			rtcp = netip.AddrPort{}
		} else if !rtcp.IsValid() {
			rtcp = netip.AddrPortFrom(m.Addr, m.Port+1)
		}
		idx := c.stream(m.Type, rtp, rtcp)
		for _, ap := range [2]netip.AddrPort{rtp, rtcp} {
			if !ap.IsValid() {
				continue
			}
			ep := endpointOf(ap)
			if old, ok := mi[ep]; ok && old.c == c && old.stream == idx {
				continue
			}
			mi[ep] = mediaOwner{c: c, stream: idx}
			c.endpoints = append(c.endpoints, ep)
		}
	}
}

// lookup finds the owner of a datagram from src to dst: the destination
// first, then the source.
func (mi mediaIndex) lookup(src, dst netip.AddrPort) (mediaOwner, bool) {
	if o, ok := mi[endpointOf(dst)]; ok {
		return o, true
	}
	o, ok := mi[endpointOf(src)]
	return o, ok
}

// forget removes c's endpoints that still point at c.
func (mi mediaIndex) forget(c *call) {
	for _, ep := range c.endpoints {
		if mi[ep].c == c {
			delete(mi, ep)
		}
	}
	c.endpoints = nil
}

// stream returns the index of c's stream with these endpoints, adding it
// when new.
func (c *call) stream(media string, rtp, rtcp netip.AddrPort) int {
	addr, rtcpAddr := rtp.String(), ""
	if rtcp.IsValid() {
		rtcpAddr = rtcp.String()
	}
	for i, s := range c.streams {
		if s.Media == media && s.Addr == addr && s.RTCP == rtcpAddr {
			return i
		}
	}
	c.streams = append(c.streams, event.Stream{Media: media, Addr: addr, RTCP: rtcpAddr})
	return len(c.streams) - 1
}
