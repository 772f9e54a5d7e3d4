package decode

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lc-voip/lc/internal/capture"
	"github.com/lc-voip/lc/internal/sip"
)

// buffered returns the bytes charged against MaxBufferedBytes now and the
// most ever charged.
func (d *Decoder) buffered() (now, peak int64) { return d.mem.used, d.mem.peak }

// checkBudget recomputes from the Decoder's state what it should have
// charged against MaxBufferedBytes and checks that the budget agrees, that
// every direction is listed as a holder exactly while it costs something,
// and that neither the current charge nor the highest ever passed the limit.
func checkBudget(tb testing.TB, d *Decoder) {
	tb.Helper()
	var total int64
	for _, s := range d.streams.m {
		cost, held := cap(s.buf), 0
		for _, r := range s.recs {
			if r.cost != carrierCost(r.hc) {
				tb.Fatalf("%v: record charged %d, its packets cost %d", s.key, r.cost, carrierCost(r.hc))
			}
			cost += r.cost
		}
		for _, h := range s.held {
			want := carrierCost(h.hc)
			if h.hc.p == nil {
				want += len(h.payload)
			}
			if h.cost != want {
				tb.Fatalf("%v: held segment charged %d, want %d", s.key, h.cost, want)
			}
			cost += h.cost
			held += len(h.payload)
		}
		if s.cost != cost || s.heldBytes != held {
			tb.Fatalf("%v: cost %d, held %d; recomputed %d, %d", s.key, s.cost, s.heldBytes, cost, held)
		}
		if s.hold.in != (cost > 0) {
			tb.Fatalf("%v: costs %d, in holders = %v", s.key, cost, s.hold.in)
		}
		total += int64(cost)
	}
	for s := d.streams.holders.head; s != nil; s = s.hold.next {
		if d.streams.m[s.key] != s {
			tb.Fatalf("holders list a direction that is not tracked")
		}
	}
	frags := 0
	for _, q := range d.frags.queues {
		frags += q.cost
	}
	if frags != d.frags.bytes {
		tb.Fatalf("datagrams cost %d, defragmenter counts %d", frags, d.frags.bytes)
	}
	total += int64(frags)
	now, peak := d.buffered()
	if now != total {
		tb.Fatalf("budget charged %d, state holds %d", now, total)
	}
	if now > d.cfg.MaxBufferedBytes || peak > d.cfg.MaxBufferedBytes {
		tb.Fatalf("budget %d passed: %d now, %d at most", d.cfg.MaxBufferedBytes, now, peak)
	}
}

// checkOnce checks that every packet of in is in exactly one unit and that
// the units list no other packet.
func checkOnce(tb testing.TB, in []*capture.Packet, units []got) {
	tb.Helper()
	seen := make(map[*capture.Packet]int, len(in))
	out := 0
	for _, u := range units {
		for _, p := range u.Packets {
			seen[p]++
			out++
		}
	}
	for i, p := range in {
		if seen[p] != 1 {
			tb.Fatalf("packet %d is in %d units", i, seen[p])
		}
	}
	if out != len(in) {
		tb.Fatalf("%d packets in, %d out", len(in), out)
	}
}

// sipFramer frames with the SIP framer the processor uses.
func sipFramer(b []byte) (int, int, error) {
	skip, n, err := sip.Frame(b)
	if errors.Is(err, sip.ErrIncomplete) {
		err = ErrNeedMore
	}
	return skip, n, err
}

// slowSIP returns the packets of n TCP connections, each sending a SIP
// header that announces a 16 MiB body and then a few KB of it, interleaved
// so that every connection is partway through at once. The second body
// chunk of each arrives before the first, so it is held out of order.
func slowSIP(n int, client string) []*capture.Packet {
	const header = "INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/TCP 192.0.2.1\r\nContent-Length: 16777216\r\n\r\n"
	chunk := strings.Repeat("b", 1000)
	at := t0
	var in []*capture.Packet
	add := func(i int, seq uint32, payload string) {
		src := fmt.Sprintf(client, i/250, i%250+1)
		in = append(in, pkt(linkEthernet, ethTCP(src, "10.0.0.2", uint16(40000+i%7), 5060, seq, 0, payload), at))
		at = at.Add(time.Microsecond)
	}
	body := uint32(1 + len(header))
	for _, c := range []int{-1, 1, 0, 2, 3} { // -1 is the header
		for i := range n {
			if c < 0 {
				add(i, 1, header)
			} else {
				add(i, body+uint32(c*len(chunk)), chunk)
			}
		}
	}
	return in
}

// decodeAll decodes in with d, checking the budget after every packet (in
// full every 500 packets), then flushes.
func decodeAll(t *testing.T, d *Decoder, in []*capture.Packet) *collector {
	t.Helper()
	var col collector
	for i, p := range in {
		d.Decode(p, col.emit)
		if now, _ := d.buffered(); now > d.cfg.MaxBufferedBytes {
			t.Fatalf("after packet %d: %d bytes charged, budget %d", i, now, d.cfg.MaxBufferedBytes)
		}
		if i%500 == 0 {
			checkBudget(t, d)
		}
	}
	checkBudget(t, d)
	d.Flush(col.emit)
	checkBudget(t, d)
	if now, _ := d.buffered(); now != 0 {
		t.Fatalf("%d bytes still charged after Flush", now)
	}
	return &col
}

// TestBudgetSlowSIPBodies is the attack the budget is for: 2,000
// connections each holding part of a SIP message whose header announces a
// 16 MiB body: about 20 MB in all, nearly five times the budget.
func TestBudgetSlowSIPBodies(t *testing.T) {
	const limit = 4 << 20
	in := slowSIP(2000, "10.1.%d.%d")
	unbounded := New(Config{Framer: sipFramer})
	for _, p := range in {
		unbounded.Decode(p, func(Unit) {})
	}
	if _, peak := unbounded.buffered(); peak < 4*limit {
		t.Fatalf("the traffic holds only %d bytes under the default budget", peak)
	}
	d := New(Config{Framer: sipFramer, MaxBufferedBytes: limit})
	col := decodeAll(t, d, in)
	checkOnce(t, in, col.units)
	st := d.Stats()
	_, peak := d.buffered()
	t.Logf("peak %d of %d; %d stream evictions, %d bytes evicted", peak, limit, st.BudgetStreamEvictions, st.BudgetEvictedBytes)
	if st.BudgetStreamEvictions == 0 || st.BudgetEvictedBytes < limit {
		t.Errorf("evictions %d, %d bytes: the budget was not exercised", st.BudgetStreamEvictions, st.BudgetEvictedBytes)
	}
	if st.BudgetDatagramEvictions != 0 || st.BudgetUnbuffered != 0 || st.TCPStreamsEvicted != 0 {
		t.Errorf("stats %+v", st)
	}
	for _, u := range col.units {
		if u.Kind != KindOther || (u.Note != NoteTCPIncomplete && u.Note != NoteTCPNotFramed) {
			t.Fatalf("unit %v/%v", u.Kind, u.Note)
		}
	}
}

// incompleteDatagrams returns n fragmented UDP datagrams of three 1000-byte
// fragments: every tenth is sent whole, the others lose their middle
// fragment and send their last one after every datagram has started.
func incompleteDatagrams(n int, src string) []*capture.Packet {
	at := t0
	var in []*capture.Packet
	var late [][]byte
	for i := range n {
		f := fragments4(src, "10.0.0.2", protoUDP, uint16(i), udp(1, 2, bigPayload(2992)), 1000)
		mk := func(b []byte) *capture.Packet {
			at = at.Add(time.Microsecond)
			return pkt(linkRaw, b, at)
		}
		if i%10 == 0 {
			in = append(in, mk(f[0]), mk(f[1]), mk(f[2]))
			continue
		}
		in = append(in, mk(f[0]))
		late = append(late, f[2])
	}
	for _, b := range late {
		at = at.Add(time.Microsecond)
		in = append(in, pkt(linkRaw, b, at))
	}
	return in
}

func TestBudgetIncompleteDatagrams(t *testing.T) {
	const limit = 256 << 10
	in := incompleteDatagrams(3000, "10.1.0.1")
	d := New(Config{MaxBufferedBytes: limit})
	col := decodeAll(t, d, in)
	checkOnce(t, in, col.units)
	st := d.Stats()
	if st.BudgetDatagramEvictions == 0 || st.BudgetEvictedBytes == 0 || st.FragmentOverflows != 0 {
		t.Errorf("stats %+v", st)
	}
	if st.FragmentsReassembled != 300 || st.UDPUnits != 300 {
		t.Errorf("%d datagrams reassembled, %d UDP units; want 300", st.FragmentsReassembled, st.UDPUnits)
	}
}

// TestBudgetShared interleaves slow SIP connections and incomplete
// datagrams: both kinds are charged against, and evicted from, one budget.
func TestBudgetShared(t *testing.T) {
	const limit = 1 << 20
	tcp, frags := slowSIP(600, "10.1.%d.%d"), incompleteDatagrams(1000, "10.2.0.1")
	var in []*capture.Packet
	for i := range max(len(tcp), len(frags)) {
		for _, part := range [][]*capture.Packet{tcp, frags} {
			if i < len(part) {
				in = append(in, part[i])
			}
		}
	}
	d := New(Config{Framer: sipFramer, MaxBufferedBytes: limit})
	col := decodeAll(t, d, in)
	checkOnce(t, in, col.units)
	st := d.Stats()
	if st.BudgetStreamEvictions == 0 || st.BudgetDatagramEvictions == 0 {
		t.Errorf("stats %+v: both kinds should have been evicted", st)
	}
	if st.FragmentsReassembled != 100 {
		t.Errorf("%d datagrams reassembled, want 100", st.FragmentsReassembled)
	}
}

// TestBudgetEvictsLeastRecentlyUsed checks the order of eviction across
// directions and datagrams: by the last packet that touched a direction and
// the first fragment of a datagram.
func TestBudgetEvictsLeastRecentlyUsed(t *testing.T) {
	frag := func(id uint16) []byte {
		return fragments4("10.9.0.1", "10.0.0.2", protoUDP, id, udp(1, 2, bigPayload(120)), 64)[0]
	}
	a, c := newConn(), newConn()
	c.cport = 40001
	in := []*capture.Packet{
		a.c2s(1, 0, "MSG 100\n0123456789"), // direction A
		pkt(linkRaw, frag(1), t0),          // datagram B
		c.c2s(1, 0, "MSG 100\n0123456789"), // direction C
		a.c2s(19, 0, "0123456789"),         // A again
		pkt(linkRaw, frag(2), t0),          // datagram E: evicts B
		pkt(linkRaw, frag(3), t0),          // datagram F: evicts C
	}
	// Measure what the first four packets and one fragment cost.
	probe := New(Config{Framer: toyFramer})
	for _, p := range in[:4] {
		probe.Decode(p, func(Unit) {})
	}
	u4, _ := probe.buffered()
	probe.Decode(in[4], func(Unit) {})
	u5, _ := probe.buffered()
	fragCost := u5 - u4

	d := New(Config{Framer: toyFramer, MaxBufferedBytes: u4 + fragCost - 1})
	var col collector
	for _, p := range in {
		d.Decode(p, col.emit)
		checkBudget(t, d)
	}
	if len(col.units) != 2 {
		t.Fatalf("got %d units, want 2 evictions", len(col.units))
	}
	if u := col.units[0]; u.Note != NoteFragmentOverflow || u.Packets[0] != in[1] {
		t.Errorf("first eviction: %v with packet %p, want datagram B", u.Note, u.Packets[0])
	}
	if u := col.units[1]; u.Note != NoteTCPIncomplete || len(u.Packets) != 1 || u.Packets[0] != in[2] {
		t.Errorf("second eviction: %v with %d packets, want direction C", u.Note, len(u.Packets))
	}
	if _, ok := d.streams.m[flowKey{src: col.units[1].Src, dst: col.units[1].Dst}]; ok {
		t.Error("evicted direction still tracked")
	}
	st := d.Stats()
	if st.BudgetDatagramEvictions != 1 || st.BudgetStreamEvictions != 1 {
		t.Errorf("stats %+v", st)
	}
	d.Flush(col.emit)
	checkInvariant(t, in, col.units)
}

// TestBudgetOwnBuffer: a direction alone outgrows the budget. Its unframed
// bytes are given up (NoteTCPIncomplete) and framing restarts with the
// next bytes, which are no message start.
func TestBudgetOwnBuffer(t *testing.T) {
	c := newConn()
	c.c2s(1, 0, "MSG 100000\n"+strings.Repeat("x", 989))
	for i := range 10 {
		c.c2s(uint32(1001+1000*i), 0, strings.Repeat("y", 1000))
	}
	d := New(Config{Framer: toyFramer, MaxBufferedBytes: 8 << 10})
	col := decodeAll(t, d, c.packets)
	checkOnce(t, c.packets, col.units)
	u := col.units[0]
	if u.Note != NoteTCPIncomplete || len(u.Packets) < 2 || u.Packets[0] != c.packets[0] {
		t.Fatalf("first unit %v with %d packets, want the buffered start given up", u.Note, len(u.Packets))
	}
	for _, u := range col.units[1:] {
		if u.Note != NoteTCPNotFramed {
			t.Errorf("later unit %v, want NoteTCPNotFramed", u.Note)
		}
	}
	if st := d.Stats(); st.BudgetStreamEvictions != 1 || st.BudgetUnbuffered != 0 {
		t.Errorf("stats %+v", st)
	}
}

// TestBudgetUnbuffered: a segment or fragment larger than the whole budget
// is emitted at once; the direction skips its bytes and frames what
// follows.
func TestBudgetUnbuffered(t *testing.T) {
	c := newConn()
	big := strings.Repeat("z", 3000)
	c.c2s(1, 0, big)                     // in order, too big
	c.c2s(uint32(6001), 0, big)          // out of order, too big
	c.c2s(uint32(3001), 0, msg("after")) // frames after the skipped bytes
	frag := ipv4("10.0.0.7", "10.0.0.8", protoUDP, make([]byte, 3000), ip4opts{id: 1, more: true})
	c.packets = append(c.packets, pkt(linkRaw, frag, t0))
	d := New(Config{Framer: toyFramer, MaxBufferedBytes: 2000})
	col := decodeAll(t, d, c.packets)
	checkUnits(t, c, col.units, []want{
		{KindOther, NoteTCPIncomplete, "", []int{0}},
		{KindOther, NoteTCPIncomplete, "", []int{1}},
		{KindTCP, 0, msg("after"), []int{2}},
		{KindOther, NoteFragmentOverflow, "", []int{3}},
	})
	if st := d.Stats(); st.BudgetUnbuffered != 3 || st.FragmentOverflows != 0 || st.BudgetStreamEvictions != 0 {
		t.Errorf("stats %+v", st)
	}
}

// TestBudgetSpareCapacity: a direction that holds only an empty buffer's
// capacity loses the capacity to make room and keeps framing.
func TestBudgetSpareCapacity(t *testing.T) {
	x, y := newConn(), newConn()
	y.cport = 40001
	m1, m2 := msg(strings.Repeat("a", 40000)), msg("second")
	for off := 0; off < len(m1); off += 1000 {
		x.c2s(uint32(1+off), 0, m1[off:min(off+1000, len(m1))])
	}
	kx := flowKey{src: netip.MustParseAddrPort("10.0.0.1:40000"), dst: netip.MustParseAddrPort("10.0.0.2:5060")}
	// The budget is what x needs while its message is buffered; once it is
	// framed, x keeps spare capacity that y's partial message needs.
	probe := New(Config{Framer: toyFramer})
	for _, p := range x.packets {
		probe.Decode(p, func(Unit) {})
	}
	spare := probe.streams.m[kx].cost
	_, peak := probe.buffered()
	if spare == 0 || len(probe.streams.m[kx].buf) != 0 {
		t.Fatalf("probe: cost %d, %d bytes buffered", spare, len(probe.streams.m[kx].buf))
	}

	in := slices.Clone(x.packets)
	y.c2s(1, 0, "MSG 50000\n")
	for i := range 20 {
		y.c2s(uint32(11+1000*i), 0, strings.Repeat("b", 1000))
	}
	in = append(in, y.packets...)
	in = append(in, x.c2s(uint32(1+len(m1)), 0, m2))
	d := New(Config{Framer: toyFramer, MaxBufferedBytes: peak})
	var col collector
	for _, p := range in {
		d.Decode(p, col.emit)
		checkBudget(t, d)
	}
	if s := d.streams.m[kx]; s == nil {
		t.Fatal("direction forgotten")
	}
	d.Flush(col.emit)
	checkInvariant(t, in, col.units)
	if got := col.payloads(KindTCP); !slices.Equal(got, []string{m1, m2}) {
		t.Errorf("framed %d messages, want both", len(got))
	}
	if st := d.Stats(); st.BudgetStreamEvictions != 0 || st.BudgetEvictedBytes != uint64(spare) {
		t.Errorf("stats %+v; spare capacity %d", st, spare)
	}
}

// TestBudgetLargeBuffers: buffers past keepBufferCap are freed once empty,
// whether framed or given up, and stop being charged.
func TestBudgetLargeBuffers(t *testing.T) {
	c := newConn()
	m := msg(strings.Repeat("a", 400<<10)) // grows past 256 KiB
	for off := 0; off < len(m); off += 1400 {
		c.c2s(uint32(1+off), 0, m[off:min(off+1400, len(m))])
	}
	next := uint32(1 + len(m))
	part := "MSG 200000\n" + strings.Repeat("p", 100<<10)
	for off := 0; off < len(part); off += 1400 {
		c.c2s(next+uint32(off), 0, part[off:min(off+1400, len(part))])
	}
	d := New(Config{Framer: toyFramer})
	var col collector
	for i, p := range c.packets {
		d.Decode(p, col.emit)
		if i == len(m)/1400 { // the first message is framed
			if now, _ := d.buffered(); now != 0 {
				t.Fatalf("%d bytes charged after the message was framed", now)
			}
		}
	}
	checkBudget(t, d)
	c.c2s(next+uint32(len(part)), tcpFIN, "")
	d.Decode(c.packets[len(c.packets)-1], col.emit)
	checkBudget(t, d)
	if now, peak := d.buffered(); now != 0 || peak < 400<<10 {
		t.Errorf("charged %d after FIN, %d at most", now, peak)
	}
	checkInvariant(t, c.packets, col.units)
}

func TestTrim(t *testing.T) {
	for _, c := range []struct{ len, cap, keep, wantCap int }{
		{0, 4, 4, 4},    // small: kept
		{0, 65, 4, 0},   // empty: freed
		{1, 65, 4, 2},   // mostly unused: shrunk
		{20, 65, 4, 65}, // a quarter used: kept
		{3, 10, 16, 10}, // within keep
	} {
		s := trim(make([]int, c.len, c.cap), c.keep)
		if len(s) != c.len || cap(s) != c.wantCap {
			t.Errorf("trim(len %d, cap %d, keep %d): len %d cap %d, want cap %d", c.len, c.cap, c.keep, len(s), cap(s), c.wantCap)
		}
	}
}
