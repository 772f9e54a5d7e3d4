package decode

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lc-voip/lc/internal/capture"
)

// gen builds random traffic: valid UDP and TCP flows in random
// encapsulations, fragmented datagrams, reordered, duplicated and lost
// segments, and garbage.
type gen struct {
	r  *rand.Rand
	at time.Time
}

func (g *gen) addr(v6 bool) string {
	if v6 {
		return fmt.Sprintf("2001:db8::%x", g.r.IntN(4)+1)
	}
	return fmt.Sprintf("10.0.0.%d", g.r.IntN(4)+1)
}

func (g *gen) bytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(g.r.UintN(256))
	}
	return b
}

// wrap puts an IP packet into a random link layer and tunnel.
func (g *gen) wrap(ip []byte) (uint16, []byte) {
	v6 := ip[0]>>4 == 6
	switch g.r.IntN(10) {
	case 0:
		return linkRaw, ip
	case 1:
		et := etherIPv4
		if v6 {
			et = etherIPv6
		}
		return linkSLL, sll(et, ip)
	case 2:
		af := uint32(2)
		if v6 {
			af = 30
		}
		return linkNull, cat(binary.LittleEndian.AppendUint32(nil, af), ip)
	case 3:
		return linkEthernet, eth(etherVLAN, cat(be16(7), be16(etherType(v6)), ip))
	case 4:
		return linkRaw, ipv4("172.16.0.1", "172.16.0.2", protoGRE, greHdr(greSequence, greERSPAN2, be32(1), erspan2(eth(etherType(v6), ip))), ip4opts{})
	case 5:
		proto := uint8(protoIPIP)
		if v6 {
			proto = protoIPv6
		}
		return linkRaw, ipv6("2001:db8:ffff::1", "2001:db8:ffff::2", proto, ip)
	default:
		return linkEthernet, eth(etherType(v6), ip)
	}
}

func etherType(v6 bool) uint16 {
	if v6 {
		return etherIPv6
	}
	return etherIPv4
}

// ip builds an IP packet, fragmenting it (in random order, with duplicates
// and losses) when frag is set.
func (g *gen) ip(v6 bool, src, dst string, proto uint8, payload []byte, frag bool) [][]byte {
	if !frag {
		if v6 {
			return [][]byte{ipv6(src, dst, proto, payload)}
		}
		return [][]byte{ipv4(src, dst, proto, payload, ip4opts{})}
	}
	size := 8 * (1 + g.r.IntN(max(1, len(payload)/8)))
	var fr [][]byte
	if v6 {
		fr = fragments6(src, dst, proto, g.r.Uint32(), payload, size)
	} else {
		fr = fragments4(src, dst, proto, uint16(g.r.Uint32()), payload, size)
	}
	return g.perturb(fr)
}

// perturb swaps, duplicates and drops some items.
func (g *gen) perturb(in [][]byte) [][]byte {
	out := slices.Clone(in)
	for i := range out {
		if i > 0 && g.r.IntN(6) == 0 {
			out[i-1], out[i] = out[i], out[i-1]
		}
	}
	var res [][]byte
	for _, b := range out {
		switch g.r.IntN(12) {
		case 0: // lost
		case 1:
			res = append(res, b, b)
		default:
			res = append(res, b)
		}
	}
	return res
}

func (g *gen) udpFlow() [][]byte {
	v6 := g.r.IntN(3) == 0
	payload := g.bytes(g.r.IntN(3000))
	return g.ip(v6, g.addr(v6), g.addr(v6), protoUDP, udp(5060, uint16(1024+g.r.IntN(4)), payload), g.r.IntN(4) == 0)
}

func (g *gen) tcpFlow() [][]byte {
	v6 := g.r.IntN(3) == 0
	src, dst := g.addr(v6), g.addr(v6)
	sport, dport := uint16(40000+g.r.IntN(3)), uint16(5060)
	var stream strings.Builder
	for i := range g.r.IntN(6) {
		switch g.r.IntN(8) {
		case 0:
			stream.WriteString("\r\n\r\n")
		case 1:
			stream.Write(g.bytes(g.r.IntN(40)))
		default:
			stream.WriteString(msg(fmt.Sprintf("%d:%s", i, strings.Repeat("b", g.r.IntN(2000)))))
		}
	}
	s := stream.String()
	isn := g.r.Uint32()
	var segs [][]byte
	seg := func(seq uint32, flags uint8, p string) {
		for _, b := range g.ip(v6, src, dst, protoTCP, tcpSeg(sport, dport, seq, flags, []byte(p)), g.r.IntN(10) == 0) {
			segs = append(segs, b)
		}
	}
	if g.r.IntN(2) == 0 {
		seg(isn, tcpSYN, "")
	}
	for off := 0; off < len(s); {
		n := min(len(s)-off, 1+g.r.IntN(1400))
		seg(isn+1+uint32(off), 0, s[off:off+n])
		off += n
	}
	switch g.r.IntN(4) {
	case 0:
		seg(isn+1+uint32(len(s)), tcpFIN, "")
	case 1:
		seg(isn+1+uint32(len(s)), tcpRST, "")
	}
	return g.perturb(segs)
}

func (g *gen) garbage() (uint16, []byte) {
	lts := []uint16{0, 1, 12, 14, 101, 108, 113, 276, 228, 229, 9, 104, 6}
	return lts[g.r.IntN(len(lts))], g.bytes(g.r.IntN(200))
}

// traffic returns n flows' worth of packets, interleaved.
func (g *gen) traffic(flows int) []*capture.Packet {
	type item struct {
		lt   uint16
		data []byte
	}
	var queues [][]item
	for range flows {
		var q []item
		switch k := g.r.IntN(10); {
		case k < 3:
			for _, b := range g.udpFlow() {
				lt, d := g.wrap(b)
				q = append(q, item{lt, d})
			}
		case k < 8:
			for _, b := range g.tcpFlow() {
				lt, d := g.wrap(b)
				q = append(q, item{lt, d})
			}
		case k < 9:
			lt, d := g.garbage()
			q = append(q, item{lt, d})
		default: // a valid packet, damaged
			v6 := g.r.IntN(2) == 0
			lt, d := g.wrap(g.ip(v6, g.addr(v6), g.addr(v6), protoUDP, udp(1, 2, g.bytes(g.r.IntN(100))), false)[0])
			for range 1 + g.r.IntN(4) {
				if len(d) > 0 {
					d[g.r.IntN(len(d))] = byte(g.r.UintN(256))
				}
			}
			if len(d) > 0 {
				d = d[:g.r.IntN(len(d))]
			}
			q = append(q, item{lt, d})
		}
		if len(q) > 0 {
			queues = append(queues, q)
		}
	}
	var out []*capture.Packet
	for len(queues) > 0 {
		i := g.r.IntN(len(queues))
		it := queues[i][0]
		queues[i] = queues[i][1:]
		if len(queues[i]) == 0 {
			queues = slices.Delete(queues, i, i+1)
		}
		g.at = g.at.Add(time.Duration(g.r.IntN(200)) * time.Millisecond)
		if g.r.IntN(100) == 0 {
			g.at = g.at.Add(time.Minute)
		}
		out = append(out, pkt(it.lt, it.data, g.at))
	}
	return out
}

func testConfigs() map[string]Config {
	return map[string]Config{
		"default":   {Framer: toyFramer},
		"no framer": {},
		"tiny": {
			Framer: toyFramer, MaxFragmentBytes: 3000, MaxStreams: 3, MaxStreamBuffer: 600,
			FragmentTimeout: time.Second, StreamTimeout: 2 * time.Second, GapTimeout: 300 * time.Millisecond,
			MaxBufferedBytes: 5000,
		},
		"small budget": {Framer: toyFramer, MaxBufferedBytes: 12000},
	}
}

// TestInvariantRandom checks over random traffic that every packet is
// emitted, and in a KindOther unit only when in no other unit.
func TestInvariantRandom(t *testing.T) {
	for name, cfg := range testConfigs() {
		t.Run(name, func(t *testing.T) {
			for seed := range uint64(200) {
				g := &gen{r: rand.New(rand.NewPCG(seed, 7)), at: t0}
				in := g.traffic(1 + g.r.IntN(30))
				d := New(cfg)
				var c collector
				for _, p := range in {
					d.Decode(p, c.emit)
					if g.r.IntN(20) == 0 {
						d.Expire(p.Info.Timestamp, c.emit)
					}
					checkBudget(t, d)
				}
				d.Flush(c.emit)
				checkBudget(t, d)
				checkInvariant(t, in, c.units)
				if st := d.Stats(); st.Packets != uint64(len(in)) {
					t.Fatalf("seed %d: Packets = %d, want %d", seed, st.Packets, len(in))
				}
				if len(d.streams.m) != 0 || len(d.frags.queues) != 0 || d.frags.bytes != 0 || d.mem.used != 0 {
					t.Fatalf("seed %d: state left after Flush", seed)
				}
			}
		})
	}
}

// TestTCPModel sends unique messages over one direction with random
// segmentation, reordering and retransmission but no loss, and checks that
// the framed messages, first occurrences only, are exactly those sent.
func TestTCPModel(t *testing.T) {
	for seed := range uint64(300) {
		r := rand.New(rand.NewPCG(seed, 11))
		var msgs []string
		var s strings.Builder
		for i := range 1 + r.IntN(20) {
			m := msg(fmt.Sprintf("%d-%s", i, strings.Repeat("q", r.IntN(3000))))
			msgs = append(msgs, m)
			if r.IntN(5) == 0 {
				s.WriteString("\r\n")
			}
			s.WriteString(m)
		}
		stream := s.String()
		type seg struct {
			seq uint32
			p   string
		}
		isn := r.Uint32()
		var segs []seg
		for off := 0; off < len(stream); {
			n := min(len(stream)-off, 1+r.IntN(1500))
			segs = append(segs, seg{isn + uint32(off), stream[off : off+n]})
			if r.IntN(8) == 0 { // a retransmission, possibly repacketized
				from := r.IntN(off + n)
				segs = append(segs, seg{isn + uint32(from), stream[from : off+n]})
			}
			off += n
		}
		for i := range segs { // reorder within a small window
			j := min(len(segs)-1, i+r.IntN(4))
			if i > 0 { // the first segment fixes the start of the stream
				segs[i], segs[j] = segs[j], segs[i]
			}
		}
		c := newConn()
		for _, sg := range segs {
			c.c2s(sg.seq, 0, sg.p)
		}
		col := run(t, framed(), c)
		var firsts []string
		for _, p := range col.payloads(KindTCP) {
			if !slices.Contains(firsts, p) {
				firsts = append(firsts, p)
			}
		}
		if !slices.Equal(firsts, msgs) {
			t.Fatalf("seed %d: framed %d distinct messages, want %d", seed, len(firsts), len(msgs))
		}
	}
}

func TestConfigDefaults(t *testing.T) {
	c := Config{MaxStreams: -2}.withDefaults()
	if c.MaxStreams != DefaultMaxStreams || c.FragmentTimeout != DefaultFragmentTimeout || c.MaxFragmentBytes != DefaultMaxFragmentBytes ||
		c.StreamTimeout != DefaultStreamTimeout || c.GapTimeout != DefaultGapTimeout || c.MaxStreamBuffer != DefaultMaxStreamBuffer ||
		c.MaxBufferedBytes != DefaultMaxBufferedBytes {
		t.Errorf("defaults %+v", c)
	}
}

func TestDecodeNil(t *testing.T) {
	d := New(Config{})
	d.Decode(nil, func(Unit) { t.Fatal("emitted for nil") })
	if d.Stats().Packets != 0 {
		t.Error("nil packet counted")
	}
}

func TestStatsCounts(t *testing.T) {
	d := New(Config{Framer: toyFramer})
	var c collector
	c2 := newConn()
	c2.c2s(1, 0, msg("a")+msg("b"))
	c2.add(ethUDP4("1.1.1.1", "2.2.2.2", 1, 2, nil))
	c2.add(eth(0x0806, nil))
	c2.add(eth(etherIPv4, []byte{0x45}))
	for _, p := range c2.packets {
		d.Decode(p, c.emit)
	}
	st := d.Stats()
	want := Stats{
		Packets: 4, UDPUnits: 1, TCPUnits: 2, OtherUnits: 2, NonIP: 1,
		Undecodable: LayerCounts{IPv4: 1}, TCPSegments: 1, TCPStreams: 1,
	}
	if st != want {
		t.Errorf("got %+v\nwant %+v", st, want)
	}
}

// FuzzDecode decodes a sequence of packets cut from the input, all of link
// type lt: each packet is preceded by two bytes, its length (11 bits) and
// flags (bits 3..5: seconds to advance the clock; bit 6: call Expire; bit 7:
// Ethernet instead of lt). It checks that nothing panics and the emission
// invariant holds for every configuration.
func FuzzDecode(f *testing.F) {
	for _, seed := range fuzzSeeds() {
		f.Add(seed.lt, seed.data)
	}
	f.Fuzz(func(t *testing.T, lt uint16, data []byte) {
		var in []*capture.Packet
		var expire []bool
		at := t0
		for len(data) >= 2 {
			n := int(data[0]) | int(data[1]&0x07)<<8
			flags := data[1] >> 3
			data = data[2:]
			n = min(n, len(data))
			at = at.Add(time.Duration(flags&0x07) * time.Second)
			l := lt
			if flags&0x10 != 0 {
				l = linkEthernet
			}
			in = append(in, pkt(l, data[:n:n], at))
			expire = append(expire, flags&0x08 != 0)
			data = data[n:]
		}
		for _, cfg := range testConfigs() {
			d := New(cfg)
			var c collector
			for i, p := range in {
				d.Decode(p, c.emit)
				if expire[i] {
					d.Expire(p.Info.Timestamp, c.emit)
				}
			}
			d.Flush(c.emit)
			checkBudget(t, d)
			checkInvariant(t, in, c.units)
			if now, _ := d.buffered(); now != 0 {
				t.Fatalf("%d bytes still charged after Flush", now)
			}
		}
	})
}

type fuzzSeed struct {
	lt   uint16
	data []byte
}

// fuzzSeeds encodes a few packet sequences in FuzzDecode's format.
func fuzzSeeds() []fuzzSeed {
	enc := func(flags byte, pkts ...[]byte) []byte {
		var out []byte
		for _, p := range pkts {
			out = append(out, byte(len(p)), flags|byte(len(p)>>8&7))
			out = append(out, p...)
		}
		return out
	}
	ethIP := func(ip []byte) []byte { return eth(etherIPv4, ip) }
	var seeds []fuzzSeed
	add := func(lt uint16, flags byte, pkts ...[]byte) {
		seeds = append(seeds, fuzzSeed{lt, enc(flags, pkts...)})
	}
	add(linkEthernet, 0, ethUDP4("10.0.0.1", "10.0.0.2", 5060, 5060, []byte("REGISTER sip:x SIP/2.0\r\n\r\n")))
	frags := fragments4("10.0.0.1", "10.0.0.2", protoUDP, 1, udp(1, 2, bigPayload(200)), 64)
	add(linkRaw, 0, frags[2], frags[0], frags[1], frags[1])
	frags6 := fragments6("::1", "::2", protoUDP, 1, udp(1, 2, bigPayload(200)), 96)
	add(linkIPv6, 0, frags6...)
	a, b := msg("first"), msg("second")
	s := a + b
	add(linkEthernet, 0,
		ethIP(ipv4("10.0.0.1", "10.0.0.2", protoTCP, tcpSeg(1, 2, 99, tcpSYN, nil), ip4opts{})),
		ethIP(ipv4("10.0.0.1", "10.0.0.2", protoTCP, tcpSeg(1, 2, 108, 0, []byte(s[8:])), ip4opts{})),
		ethIP(ipv4("10.0.0.1", "10.0.0.2", protoTCP, tcpSeg(1, 2, 100, 0, []byte(s[:8])), ip4opts{})),
		ethIP(ipv4("10.0.0.1", "10.0.0.2", protoTCP, tcpSeg(1, 2, 100, 0, []byte(s[:8])), ip4opts{})),
		ethIP(ipv4("10.0.0.1", "10.0.0.2", protoTCP, tcpSeg(1, 2, uint32(100+len(s)), tcpFIN, nil), ip4opts{})),
	)
	add(linkSLL, 0x08, sll(etherIPv4, ipv4("10.0.0.1", "10.0.0.2", protoTCP, tcpSeg(1, 2, 5, 0, []byte("MSG 99\nabc")), ip4opts{})))
	add(linkRaw, 0, ipv4("10.0.0.1", "10.0.0.2", protoGRE, greHdr(greSequence, greERSPAN3, be32(1), erspan3(0, true, ethUDP4("1.1.1.1", "2.2.2.2", 1, 2, []byte("x")))), ip4opts{}))
	add(linkNull, 0, cat([]byte{30, 0, 0, 0}, ipv6("::1", "::2", protoIPIP, ipv4("1.1.1.1", "2.2.2.2", protoUDP, udp(1, 2, nil), ip4opts{}))))
	add(linkSLL2, 0, sll2(etherVLAN, cat(be16(1), be16(etherIPv4), ipv4("1.1.1.1", "2.2.2.2", protoUDP, udp(1, 2, nil), ip4opts{}))))
	return seeds
}

// BenchmarkDecodeUDP decodes 1000 prebuilt Ethernet/IPv4/UDP packets per
// iteration.
func BenchmarkDecodeUDP(b *testing.B) {
	in := make([]*capture.Packet, 1000)
	size := 0
	for i := range in {
		payload := make([]byte, 160+i%200)
		in[i] = pkt(linkEthernet, ethUDP4("10.0.0.1", fmt.Sprintf("10.0.%d.%d", i/250, i%250+1), uint16(10000+i), 5060, payload), t0.Add(time.Duration(i)*time.Millisecond))
		size += len(in[i].Data)
	}
	d := New(Config{Framer: toyFramer})
	var units, bytes int
	emit := func(u Unit) {
		units++
		bytes += len(u.Payload)
	}
	b.ReportAllocs()
	b.SetBytes(int64(size))
	for b.Loop() {
		for _, p := range in {
			d.Decode(p, emit)
		}
	}
	b.ReportMetric(float64(b.N*len(in))/b.Elapsed().Seconds(), "pkts/s")
	if units != b.N*len(in) {
		b.Fatalf("%d units for %d packets", units, b.N*len(in))
	}
}

// BenchmarkDecodeTCP decodes 1000 prebuilt segments of 10 connections, each
// segment carrying one message.
func BenchmarkDecodeTCP(b *testing.B) {
	in := make([]*capture.Packet, 1000)
	size := 0
	seqs := make([]uint32, 10)
	m := msg(strings.Repeat("x", 400))
	for i := range in {
		conn := i % 10
		in[i] = pkt(linkEthernet, ethTCP("10.0.0.1", "10.0.0.2", uint16(40000+conn), 5060, seqs[conn], 0, m), t0)
		seqs[conn] += uint32(len(m))
		size += len(in[i].Data)
	}
	d := New(Config{Framer: toyFramer})
	emit := func(Unit) {}
	b.ReportAllocs()
	b.SetBytes(int64(size))
	for b.Loop() {
		d.Flush(emit)
		for _, p := range in {
			d.Decode(p, emit)
		}
	}
	b.ReportMetric(float64(b.N*len(in))/b.Elapsed().Seconds(), "pkts/s")
}
