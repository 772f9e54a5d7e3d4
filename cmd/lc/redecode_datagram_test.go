package main

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// The datagrams of a call's files, as gopacket decodes them: the innermost
// UDP or TCP of each record, with IP fragments put back together.

// datagram is the innermost UDP or TCP of one record, or of the IP
// fragments that make it up.
type datagram struct {
	records  []*writtenRecord
	tcp      bool
	src, dst netip.AddrPort
	payload  []byte
}

func (d *datagram) String() string {
	s := d.records[0].String()
	if n := len(d.records); n > 1 {
		s += fmt.Sprintf(" (fragments %d to %d)", d.records[0].index, d.records[n-1].index)
	}
	return s
}

// fragmentKey names an IP datagram cut into fragments.
type fragmentKey struct {
	src, dst netip.Addr
	id       uint32
	proto    layers.IPProtocol
}

// fragment is one IP fragment: its datagram, where its bytes go, and
// whether more follow.
type fragment struct {
	key    fragmentKey
	offset int
	more   bool
	data   []byte
}

// datagrams turns a call's records into datagrams, reassembling IP
// fragments (in any order, across parts). A record that is neither UDP,
// TCP nor a fragment, and fragments of a datagram that never completes,
// are errors.
func datagrams(tb testing.TB, callID, kind string, recs []writtenRecord, rep *redecodeReport) []datagram {
	tb.Helper()
	var out []datagram
	pending := map[fragmentKey][]*writtenRecord{}
	frags := map[*writtenRecord]fragment{}
	for i := range recs {
		rec := &recs[i]
		d, frag := transportOf(rec)
		switch {
		case frag != nil:
			rep.Fragments++
			frags[rec] = *frag
			pending[frag.key] = append(pending[frag.key], rec)
			if d, ok := reassemble(pending[frag.key], frags); ok {
				out = append(out, d)
				delete(pending, frag.key)
			}
		case d.records == nil && !rec.truncated():
			tb.Errorf("call %q: %s: in a %s file, but neither UDP nor TCP: %v", callID, rec, kind, rec.pkt.Layers())
		case d.records != nil:
			out = append(out, d)
		}
	}
	for _, recs := range pending {
		tb.Errorf("call %q: %s: IP fragments of a datagram the call's %s files do not hold whole", callID, recs[0], kind)
	}
	return out
}

// transportOf returns the innermost UDP or TCP of a record, or the IP
// fragment it is; neither when it holds no such thing.
func transportOf(rec *writtenRecord) (datagram, *fragment) {
	var d datagram
	var frag *fragment
	var src, dst netip.Addr
	for _, l := range rec.pkt.Layers() {
		switch l := l.(type) {
		case *layers.IPv4:
			src, dst = addrOf(l.SrcIP), addrOf(l.DstIP)
			d, frag = datagram{}, nil
			if l.Flags&layers.IPv4MoreFragments != 0 || l.FragOffset != 0 {
				frag = &fragment{fragmentKey{src, dst, uint32(l.Id), l.Protocol}, int(l.FragOffset) * 8, l.Flags&layers.IPv4MoreFragments != 0, l.Payload}
			}
		case *layers.IPv6:
			src, dst = addrOf(l.SrcIP), addrOf(l.DstIP)
			d, frag = datagram{}, nil
		case *layers.IPv6Fragment:
			frag = &fragment{fragmentKey{src, dst, l.Identification, l.NextHeader}, int(l.FragmentOffset) * 8, l.MoreFragments, l.LayerPayload()}
		case *layers.UDP:
			d = datagram{records: []*writtenRecord{rec}, src: netip.AddrPortFrom(src, uint16(l.SrcPort)), dst: netip.AddrPortFrom(dst, uint16(l.DstPort)), payload: l.Payload}
		case *layers.TCP:
			d = datagram{records: []*writtenRecord{rec}, tcp: true, src: netip.AddrPortFrom(src, uint16(l.SrcPort)), dst: netip.AddrPortFrom(dst, uint16(l.DstPort)), payload: l.Payload}
		}
	}
	if frag != nil {
		return datagram{}, frag
	}
	return d, nil
}

// reassemble returns the datagram the fragments recs make up, once they
// cover it without a gap from its first byte to the end of the fragment
// that has no more after it.
func reassemble(recs []*writtenRecord, frags map[*writtenRecord]fragment) (datagram, bool) {
	sorted := slices.Clone(recs)
	slices.SortStableFunc(sorted, func(a, b *writtenRecord) int { return frags[a].offset - frags[b].offset })
	var buf []byte
	for _, rec := range sorted {
		f := frags[rec]
		if f.offset > len(buf) {
			return datagram{}, false // a gap
		}
		if f.offset+len(f.data) > len(buf) {
			buf = append(buf[:f.offset], f.data...)
		}
		if !f.more {
			return reassembled(recs, f.key, buf), true
		}
	}
	return datagram{}, false
}

// reassembled decodes the UDP or TCP of a reassembled datagram; one that
// is neither, or does not decode, is a datagram without ports.
func reassembled(recs []*writtenRecord, key fragmentKey, buf []byte) datagram {
	d := datagram{records: recs}
	switch key.proto {
	case layers.IPProtocolUDP:
		var u layers.UDP
		if u.DecodeFromBytes(buf, gopacket.NilDecodeFeedback) == nil {
			d.src, d.dst, d.payload = netip.AddrPortFrom(key.src, uint16(u.SrcPort)), netip.AddrPortFrom(key.dst, uint16(u.DstPort)), u.Payload
		}
	case layers.IPProtocolTCP:
		var t layers.TCP
		if t.DecodeFromBytes(buf, gopacket.NilDecodeFeedback) == nil {
			d.tcp = true
			d.src, d.dst, d.payload = netip.AddrPortFrom(key.src, uint16(t.SrcPort)), netip.AddrPortFrom(key.dst, uint16(t.DstPort)), t.Payload
		}
	}
	return d
}

// addrOf returns ip as lc compares addresses: an IPv4-mapped IPv6
// address is its IPv4 address.
func addrOf(ip net.IP) netip.Addr {
	a, _ := netip.AddrFromSlice(ip)
	return a.Unmap()
}

// connection is a TCP connection, its two ends in a fixed order.
type connection [2]netip.AddrPort

func connectionOf(a, b netip.AddrPort) connection {
	if a.Compare(b) > 0 {
		a, b = b, a
	}
	return connection{a, b}
}
