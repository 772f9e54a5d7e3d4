package decode

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/lc-voip/lc/internal/capture"
)

// Builders of test packets, field by field, without checksums (the Decoder
// does not verify them).

var t0 = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

func be16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }
func be32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

var (
	macA = []byte{0x02, 0, 0, 0, 0, 0xa}
	macB = []byte{0x02, 0, 0, 0, 0, 0xb}
)

func eth(etype uint16, payload []byte) []byte {
	return cat(macB, macA, be16(etype), payload)
}

// vlan returns a tag: TPID, TCI; the inner EtherType follows in the caller.
func vlanTag(tpid, id uint16) []byte { return cat(be16(tpid), be16(id)) }

type ip4opts struct {
	id      uint16
	fragOff int  // bytes, multiple of 8
	more    bool // more fragments
	options []byte
	total   int  // overrides the total length field when non-zero
	noTotal bool // writes 0 in the total length field (segmentation offload)
}

func ipv4(src, dst string, proto uint8, payload []byte, o ip4opts) []byte {
	hl := 20 + len(o.options)
	h := make([]byte, 20)
	h[0] = 0x40 | byte(hl/4)
	total := hl + len(payload)
	if o.total != 0 {
		total = o.total
	}
	if o.noTotal {
		total = 0
	}
	binary.BigEndian.PutUint16(h[2:], uint16(total))
	binary.BigEndian.PutUint16(h[4:], o.id)
	frag := uint16(o.fragOff / 8)
	if o.more {
		frag |= 0x2000
	}
	binary.BigEndian.PutUint16(h[6:], frag)
	h[8] = 64
	h[9] = proto
	a, b := netip.MustParseAddr(src).As4(), netip.MustParseAddr(dst).As4()
	copy(h[12:], a[:])
	copy(h[16:], b[:])
	return cat(h, o.options, payload)
}

// ipv6 builds an IPv6 header; exts are complete extension headers whose
// first byte is their next header, nh is the first next header.
func ipv6(src, dst string, nh uint8, payload []byte, exts ...[]byte) []byte {
	body := cat(cat(exts...), payload)
	h := make([]byte, 40)
	h[0] = 0x60
	binary.BigEndian.PutUint16(h[4:], uint16(len(body)))
	h[6] = nh
	h[7] = 64
	a, b := netip.MustParseAddr(src).As16(), netip.MustParseAddr(dst).As16()
	copy(h[8:], a[:])
	copy(h[24:], b[:])
	return cat(h, body)
}

// ext6 builds an 8-byte-multiple options-style extension header.
func ext6(nh uint8, size int) []byte {
	h := make([]byte, size)
	h[0] = nh
	h[1] = byte(size/8 - 1)
	return h
}

func frag6(nh uint8, off int, more bool, id uint32) []byte {
	v := uint16(off)
	if more {
		v |= 1
	}
	return cat([]byte{nh, 0}, be16(v), be32(id))
}

func udp(sport, dport uint16, payload []byte) []byte {
	return cat(be16(sport), be16(dport), be16(uint16(8+len(payload))), be16(0), payload)
}

func tcpSeg(sport, dport uint16, seq uint32, flags uint8, payload []byte) []byte {
	h := make([]byte, 20)
	binary.BigEndian.PutUint16(h[0:], sport)
	binary.BigEndian.PutUint16(h[2:], dport)
	binary.BigEndian.PutUint32(h[4:], seq)
	h[12] = 5 << 4
	h[13] = flags | 0x10 // ACK
	binary.BigEndian.PutUint16(h[14:], 65535)
	return cat(h, payload)
}

func greHdr(flags, proto uint16, opt ...[]byte) []byte {
	return cat(be16(flags), be16(proto), cat(opt...))
}

func erspan2(frame []byte) []byte {
	return cat([]byte{0x10, 0x01, 0x00, 0x05, 0, 0, 0, 0}, frame)
}

func erspan3(ft byte, obit bool, payload []byte) []byte {
	h := make([]byte, 12)
	h[0] = 0x20 // version 2 (type III)
	h[10] = ft << 2
	if obit {
		h[11] = 1
		h = append(h, make([]byte, 8)...)
	}
	return cat(h, payload)
}

func sll(proto uint16, payload []byte) []byte {
	return cat(be16(0), be16(1), be16(6), macA, []byte{0, 0}, be16(proto), payload)
}

func sll2(proto uint16, payload []byte) []byte {
	return cat(be16(proto), be16(0), be32(2), be16(1), []byte{0, 6}, macA, []byte{0, 0}, payload)
}

func pkt(lt uint16, data []byte, at time.Time) *capture.Packet {
	return &capture.Packet{
		Data:     data,
		LinkType: lt,
		Info:     gopacket.CaptureInfo{Timestamp: at, CaptureLength: len(data), Length: len(data)},
	}
}

// ethUDP4 is a plain Ethernet/IPv4/UDP packet.
func ethUDP4(src, dst string, sport, dport uint16, payload []byte) []byte {
	return eth(etherIPv4, ipv4(src, dst, protoUDP, udp(sport, dport, payload), ip4opts{}))
}

// got is an emitted Unit with its slices copied.
type got struct {
	Kind     Kind
	Note     Note
	Src, Dst netip.AddrPort
	Payload  string
	Packets  []*capture.Packet
}

type collector struct{ units []got }

func (c *collector) emit(u Unit) {
	c.units = append(c.units, got{
		Kind: u.Kind, Note: u.Note, Src: u.Src, Dst: u.Dst,
		Payload: string(u.Payload), Packets: slices.Clone(u.Packets),
	})
}

func (c *collector) reset() { c.units = nil }

// payloads returns the payloads of the units of kind k.
func (c *collector) payloads(k Kind) []string {
	var out []string
	for _, u := range c.units {
		if u.Kind == k {
			out = append(out, u.Payload)
		}
	}
	return out
}

// checkInvariant verifies the package contract over all input packets in
// and all units emitted until Flush: each packet is in a unit; a packet in a
// KindOther unit is in no other unit; each unit lists distinct packets in
// capture order.
func checkInvariant(tb testing.TB, in []*capture.Packet, units []got) {
	tb.Helper()
	arrival := make(map[*capture.Packet]int, len(in))
	for i, p := range in {
		arrival[p] = i
	}
	count := make(map[*capture.Packet]int, len(in))
	other := make(map[*capture.Packet]bool)
	for ui, u := range units {
		if len(u.Packets) == 0 {
			tb.Fatalf("unit %d (%v/%v) has no packets", ui, u.Kind, u.Note)
		}
		last := -1
		for _, p := range u.Packets {
			a, known := arrival[p]
			if !known {
				tb.Fatalf("unit %d lists a packet never decoded", ui)
			}
			if a <= last {
				tb.Fatalf("unit %d (%v/%v): packets not in capture order or repeated", ui, u.Kind, u.Note)
			}
			last = a
			count[p]++
			if u.Kind == KindOther {
				other[p] = true
			}
		}
	}
	for i, p := range in {
		switch {
		case count[p] == 0:
			tb.Fatalf("packet %d (%d bytes, link %d) was never emitted", i, len(p.Data), p.LinkType)
		case other[p] && count[p] != 1:
			tb.Fatalf("packet %d is in a KindOther unit and in %d units in all", i, count[p])
		}
	}
}

var errNotMsg = errors.New("not a toy message")

// toyFramer frames messages "MSG <len>\n<body>" and skips CR and LF bytes
// between them as keep-alives.
func toyFramer(b []byte) (skip, n int, err error) {
	for skip < len(b) && (b[skip] == '\r' || b[skip] == '\n') {
		skip++
	}
	r := b[skip:]
	const prefix = "MSG "
	if len(r) < len(prefix) {
		if bytes.HasPrefix([]byte(prefix), r) {
			return skip, 0, ErrNeedMore
		}
		return 0, 0, errNotMsg
	}
	if !bytes.HasPrefix(r, []byte(prefix)) {
		return 0, 0, errNotMsg
	}
	nl := bytes.IndexByte(r, '\n')
	if nl < 0 {
		if len(r) > 12 {
			return 0, 0, errNotMsg
		}
		return skip, 0, ErrNeedMore
	}
	l, err := strconv.Atoi(string(r[len(prefix):nl]))
	if err != nil || l < 0 || l > 1<<20 {
		return 0, 0, errNotMsg
	}
	if len(r) < nl+1+l {
		return skip, 0, ErrNeedMore
	}
	return skip, nl + 1 + l, nil
}

func msg(body string) string { return "MSG " + strconv.Itoa(len(body)) + "\n" + body }
