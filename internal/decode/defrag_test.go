package decode

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"github.com/lc-voip/lc/internal/capture"
)

// fragments4 splits an IPv4 payload into fragments of at most size bytes
// (a multiple of 8).
func fragments4(src, dst string, proto uint8, id uint16, payload []byte, size int) [][]byte {
	var out [][]byte
	for off := 0; off < len(payload); off += size {
		end := min(off+size, len(payload))
		out = append(out, ipv4(src, dst, proto, payload[off:end], ip4opts{id: id, fragOff: off, more: end < len(payload)}))
	}
	return out
}

// fragments6 splits an IPv6 fragmentable part into fragments; the
// unfragmentable part is one hop-by-hop header.
func fragments6(src, dst string, nh uint8, id uint32, payload []byte, size int) [][]byte {
	var out [][]byte
	for off := 0; off < len(payload); off += size {
		end := min(off+size, len(payload))
		out = append(out, ipv6(src, dst, protoHopByHop, payload[off:end], ext6(protoFragment, 8), frag6(nh, off, end < len(payload), id)))
	}
	return out
}

func packets(lt uint16, at time.Time, datas ...[]byte) []*capture.Packet {
	var out []*capture.Packet
	for i, b := range datas {
		out = append(out, pkt(lt, b, at.Add(time.Duration(i)*time.Millisecond)))
	}
	return out
}

func bigPayload(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('a' + i%26)
	}
	return b
}

func TestDefragOrders(t *testing.T) {
	body := bigPayload(3000)
	dgram4 := udp(5060, 5060, body)
	f4 := fragments4("10.0.0.1", "10.0.0.2", protoUDP, 77, dgram4, 1024)
	// The fragmentable part starts with a destination options header.
	dgram6 := cat(ext6(protoUDP, 16), udp(5060, 5060, body))
	f6 := fragments6("2001:db8::1", "2001:db8::2", protoDstOpts, 0x10203, dgram6, 1232)
	if len(f4) != 3 || len(f6) != 3 {
		t.Fatalf("setup: %d and %d fragments", len(f4), len(f6))
	}
	tests := []struct {
		name  string
		frags [][]byte
		order []int
	}{
		{"v4 in order", f4, []int{0, 1, 2}},
		{"v4 reversed", f4, []int{2, 1, 0}},
		{"v4 middle first", f4, []int{1, 0, 2}},
		{"v4 duplicated", f4, []int{0, 0, 2, 1}},
		{"v4 duplicate last", f4, []int{2, 0, 2, 1}},
		{"v6 in order", f6, []int{0, 1, 2}},
		{"v6 shuffled", f6, []int{2, 0, 1}},
		{"v6 duplicated", f6, []int{1, 1, 2, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var datas [][]byte
			for _, i := range tt.order {
				datas = append(datas, tt.frags[i])
			}
			in := packets(linkRaw, t0, datas...)
			var c collector
			d := New(Config{})
			for i, p := range in {
				d.Decode(p, c.emit)
				if i < len(in)-1 && len(c.units) != 0 {
					t.Fatalf("unit emitted before the last fragment: %+v", c.units[0])
				}
			}
			if len(c.units) != 1 {
				t.Fatalf("got %d units, want 1", len(c.units))
			}
			u := c.units[0]
			if u.Kind != KindUDP || u.Payload != string(body) {
				t.Fatalf("got %v/%v with %d bytes, want the reassembled datagram", u.Kind, u.Note, len(u.Payload))
			}
			if !slices.Equal(u.Packets, in) {
				t.Fatalf("unit lists %d packets, want all %d fragments in capture order", len(u.Packets), len(in))
			}
			st := d.Stats()
			if st.FragmentsReassembled != 1 || st.Fragments != uint64(len(in)) {
				t.Errorf("stats %+v", st)
			}
			d.Flush(c.emit)
			checkInvariant(t, in, c.units)
		})
	}
}

func TestDefragOverlapFirstWins(t *testing.T) {
	payload := udp(1, 2, bytes.Repeat([]byte("A"), 40))
	alt := udp(1, 2, bytes.Repeat([]byte("B"), 40))
	in := packets(linkRaw, t0,
		ipv4("1.1.1.1", "2.2.2.2", protoUDP, payload[0:24], ip4opts{id: 5, more: true}),
		ipv4("1.1.1.1", "2.2.2.2", protoUDP, alt[16:40], ip4opts{id: 5, fragOff: 16, more: true}), // overlaps 16..24
		ipv4("1.1.1.1", "2.2.2.2", protoUDP, alt[32:48], ip4opts{id: 5, fragOff: 32, more: true}), // overlaps 32..40
		ipv4("1.1.1.1", "2.2.2.2", protoUDP, payload[40:], ip4opts{id: 5, fragOff: 40}),           // overlaps 40..48
	)
	var c collector
	d := New(Config{})
	for _, p := range in {
		d.Decode(p, c.emit)
	}
	if len(c.units) != 1 || c.units[0].Kind != KindUDP {
		t.Fatalf("got %+v", c.units)
	}
	want := string(payload[8:24]) + string(alt[24:48])
	if c.units[0].Payload != want {
		t.Fatalf("payload %q, want %q", c.units[0].Payload, want)
	}
	if d.Stats().FragmentOverlaps != 3 {
		t.Errorf("overlaps = %d, want 3", d.Stats().FragmentOverlaps)
	}
}

func TestDefragTimeout(t *testing.T) {
	f := fragments4("10.0.0.1", "10.0.0.2", protoUDP, 9, udp(1, 2, bigPayload(100)), 64)
	in := packets(linkRaw, t0, f[0])
	var c collector
	d := New(Config{FragmentTimeout: 10 * time.Second})
	d.Decode(in[0], c.emit)
	d.Expire(t0.Add(10*time.Second), c.emit)
	if len(c.units) != 0 {
		t.Fatalf("expired too early: %+v", c.units)
	}
	d.Expire(t0.Add(11*time.Second), c.emit)
	if len(c.units) != 1 || c.units[0].Kind != KindOther || c.units[0].Note != NoteFragmentTimeout || c.units[0].Packets[0] != in[0] {
		t.Fatalf("got %+v, want the fragment as timed out", c.units)
	}
	// The second half arrives too late: it waits alone and is flushed.
	late := pkt(linkRaw, f[1], t0.Add(12*time.Second))
	d.Decode(late, c.emit)
	d.Flush(c.emit)
	if len(c.units) != 2 || c.units[1].Note != NoteFragmentTimeout || c.units[1].Packets[0] != late {
		t.Fatalf("got %+v", c.units)
	}
	if st := d.Stats(); st.FragmentTimeouts != 2 || st.FragmentsReassembled != 0 {
		t.Errorf("stats %+v", st)
	}
	checkInvariant(t, append(in, late), c.units)
}

func TestDefragStaleKeyReused(t *testing.T) {
	f := fragments4("10.0.0.1", "10.0.0.2", protoUDP, 9, udp(1, 2, bigPayload(100)), 64)
	in := []*capture.Packet{
		pkt(linkRaw, f[0], t0),
		pkt(linkRaw, f[0], t0.Add(time.Minute)),
		pkt(linkRaw, f[1], t0.Add(time.Minute)),
	}
	var c collector
	d := New(Config{})
	for _, p := range in {
		d.Decode(p, c.emit)
	}
	if len(c.units) != 2 || c.units[0].Note != NoteFragmentTimeout || c.units[1].Kind != KindUDP || len(c.units[1].Packets) != 2 {
		t.Fatalf("got %+v", c.units)
	}
	checkInvariant(t, in, c.units)
}

func TestDefragOverflow(t *testing.T) {
	// Each datagram's first fragment costs 64 bytes, packetOverhead and
	// datagramOverhead; room for two.
	d := New(Config{MaxFragmentBytes: 2*(64+packetOverhead+datagramOverhead) + 50})
	var c collector
	var in []*capture.Packet
	for id := range uint16(3) {
		f := fragments4("10.0.0.1", "10.0.0.2", protoUDP, id, udp(1, 2, bigPayload(100)), 64)
		p := pkt(linkRaw, f[0], t0)
		in = append(in, p)
		d.Decode(p, c.emit)
	}
	if len(c.units) != 1 || c.units[0].Note != NoteFragmentOverflow || c.units[0].Packets[0] != in[0] {
		t.Fatalf("got %+v, want the oldest datagram given up", c.units)
	}
	// A fragment larger than the whole budget is given up at once.
	big := fragments4("10.0.0.1", "10.0.0.2", protoUDP, 99, udp(1, 2, bigPayload(2000)), 1000)
	p := pkt(linkRaw, big[0], t0)
	in = append(in, p)
	d.Decode(p, c.emit)
	if len(c.units) != 2 || c.units[1].Note != NoteFragmentOverflow || c.units[1].Packets[0] != p {
		t.Fatalf("got %+v", c.units)
	}
	d.Flush(c.emit)
	if st := d.Stats(); st.FragmentOverflows != 2 || st.FragmentTimeouts != 2 {
		t.Errorf("stats %+v", st)
	}
	checkInvariant(t, in, c.units)
}

func TestDefragTooManyFragments(t *testing.T) {
	d := New(Config{})
	var c collector
	var in []*capture.Packet
	for range maxFragmentsPerDatagram + 1 {
		p := pkt(linkRaw, ipv4("1.1.1.1", "2.2.2.2", protoUDP, make([]byte, 8), ip4opts{id: 1, more: true}), t0)
		in = append(in, p)
		d.Decode(p, c.emit)
	}
	if len(c.units) != 1 || c.units[0].Note != NoteFragmentOverflow || len(c.units[0].Packets) != len(in) {
		t.Fatalf("got %d units", len(c.units))
	}
	checkInvariant(t, in, c.units)
}

func TestDefragBad(t *testing.T) {
	p := pkt(linkRaw, ipv4("1.1.1.1", "2.2.2.2", protoUDP, make([]byte, 16), ip4opts{id: 1, fragOff: 65528}), t0)
	var c collector
	New(Config{}).Decode(p, c.emit)
	if len(c.units) != 1 || c.units[0].Note != NoteUndecodable {
		t.Fatalf("got %+v", c.units)
	}
}

func TestDefragKeys(t *testing.T) {
	a := fragments4("10.0.0.1", "10.0.0.2", protoUDP, 1, udp(1, 2, []byte("first datagram, A")), 16)
	b := fragments4("10.0.0.3", "10.0.0.2", protoUDP, 1, udp(1, 2, []byte("second datagram, B")), 16)
	in := packets(linkRaw, t0, a[0], b[0], b[1], a[1])
	var c collector
	d := New(Config{})
	for _, p := range in {
		d.Decode(p, c.emit)
	}
	if got := c.payloads(KindUDP); !slices.Equal(got, []string{"second datagram, B", "first datagram, A"}) {
		t.Fatalf("got %q", got)
	}
	checkInvariant(t, in, c.units)
}

func TestDefragTunnels(t *testing.T) {
	inner := ipv4("192.168.0.1", "192.168.0.2", protoUDP, udp(5060, 5060, bigPayload(600)), ip4opts{})
	// The outer IP-in-IP datagram is fragmented.
	outer := fragments4("10.0.0.1", "10.0.0.2", protoIPIP, 3, inner, 256)
	in := packets(linkRaw, t0, outer[2], outer[0], outer[1])
	var c collector
	d := New(Config{})
	for _, p := range in {
		d.Decode(p, c.emit)
	}
	if len(c.units) != 1 || c.units[0].Kind != KindUDP || c.units[0].Payload != string(bigPayload(600)) || len(c.units[0].Packets) != 3 {
		t.Fatalf("outer fragments: got %+v", c.units)
	}
	if c.units[0].Src.Addr().String() != "192.168.0.1" {
		t.Errorf("src %v, want the inner address", c.units[0].Src)
	}

	// The inner datagram is fragmented inside whole GRE packets.
	c.reset()
	innerFrags := fragments4("192.168.0.1", "192.168.0.2", protoUDP, 4, udp(5060, 5060, bigPayload(600)), 512)
	var datas [][]byte
	for _, f := range innerFrags {
		datas = append(datas, ipv4("10.0.0.1", "10.0.0.2", protoGRE, greHdr(0, etherIPv4, f), ip4opts{id: 1}))
	}
	in2 := packets(linkRaw, t0, datas...)
	for _, p := range in2 {
		d.Decode(p, c.emit)
	}
	if len(c.units) != 1 || c.units[0].Kind != KindUDP || len(c.units[0].Packets) != 2 {
		t.Fatalf("inner fragments: got %+v", c.units)
	}
	checkInvariant(t, in2, c.units)
}

func TestDefragNested(t *testing.T) {
	// Inner fragments whose outer packets are fragmented too.
	innerFrags := fragments4("192.168.0.1", "192.168.0.2", protoUDP, 4, udp(5060, 5060, bigPayload(600)), 312)
	var datas [][]byte
	for i, f := range innerFrags {
		outer := fragments4("10.0.0.1", "10.0.0.2", protoIPIP, uint16(10+i), f, 200)
		datas = append(datas, outer...)
	}
	in := packets(linkRaw, t0, datas...)
	var c collector
	d := New(Config{})
	for _, p := range in {
		d.Decode(p, c.emit)
	}
	if len(c.units) != 1 || c.units[0].Kind != KindUDP || !slices.Equal(c.units[0].Packets, in) {
		t.Fatalf("got %+v", c.units)
	}
}

func TestFragQueueInsert(t *testing.T) {
	data := func(off, end int) []byte { return bigPayload(end)[off:end] }
	type frag struct {
		off, end int
		more     bool
	}
	tests := []struct {
		name     string
		frags    []frag
		pieces   [][2]int
		total    int
		overlaps int
	}{
		{"spanning an existing piece", []frag{{16, 24, true}, {8, 40, true}}, [][2]int{{8, 16}, {16, 24}, {24, 40}}, -1, 1},
		{"contained", []frag{{0, 40, true}, {8, 16, true}}, [][2]int{{0, 40}}, -1, 1},
		{"adjacent", []frag{{8, 16, true}, {0, 8, true}, {16, 24, false}}, [][2]int{{0, 8}, {8, 16}, {16, 24}}, 24, 0},
		{"conflicting last", []frag{{40, 48, false}, {32, 40, false}}, [][2]int{{32, 40}, {40, 48}}, 48, 1},
		{"last below data held", []frag{{40, 48, true}, {16, 24, false}}, [][2]int{{16, 24}, {40, 48}}, -1, 1},
		{"past the total", []frag{{16, 24, false}, {8, 32, true}, {24, 40, true}}, [][2]int{{8, 16}, {16, 24}}, 24, 2},
		{"empty last", []frag{{0, 8, true}, {8, 8, false}}, [][2]int{{0, 8}}, 8, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := &fragQueue{total: -1}
			overlaps := 0
			for _, f := range tt.frags {
				if q.insert(f.off, f.more, data(f.off, f.end)) {
					overlaps++
				}
			}
			var got [][2]int
			covered := 0
			for _, p := range q.pieces {
				got = append(got, [2]int{p.off, p.end()})
				covered += len(p.data)
				if !bytes.Equal(p.data, data(p.off, p.end())) {
					t.Errorf("piece %d..%d holds the wrong bytes", p.off, p.end())
				}
			}
			if !slices.Equal(got, tt.pieces) || q.total != tt.total || overlaps != tt.overlaps || covered != q.covered {
				t.Fatalf("pieces %v total %d overlaps %d covered %d/%d, want %v total %d overlaps %d",
					got, q.total, overlaps, q.covered, covered, tt.pieces, tt.total, tt.overlaps)
			}
		})
	}
}

func TestDefragIPv6BadReassembly(t *testing.T) {
	// The reassembled fragmentable part holds a truncated extension header.
	payload := []byte{protoUDP, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	f := fragments6("::1", "::2", protoDstOpts, 5, payload, 8)
	in := packets(linkRaw, t0, f...)
	var c collector
	d := New(Config{})
	for _, p := range in {
		d.Decode(p, c.emit)
	}
	if len(c.units) != 1 || c.units[0].Note != NoteUndecodable || len(c.units[0].Packets) != 2 {
		t.Fatalf("got %+v", c.units)
	}
	if d.Stats().Undecodable.IPv6 != 2 {
		t.Errorf("stats %+v", d.Stats().Undecodable)
	}
}
