package decode

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lc-voip/lc/internal/capture"
)

// conn builds the packets of one TCP connection between a client and a
// server, one millisecond apart unless the clock is moved.
type conn struct {
	at      time.Time
	cli     string
	srv     string
	cport   uint16
	sport   uint16
	packets []*capture.Packet
}

func newConn() *conn {
	return &conn{at: t0, cli: "10.0.0.1", srv: "10.0.0.2", cport: 40000, sport: 5060}
}

// c2s is a client-to-server segment.
func (c *conn) c2s(seq uint32, flags uint8, payload string) *capture.Packet {
	return c.add(ethTCP(c.cli, c.srv, c.cport, c.sport, seq, flags, payload))
}

// s2c is a server-to-client segment.
func (c *conn) s2c(seq uint32, flags uint8, payload string) *capture.Packet {
	return c.add(ethTCP(c.srv, c.cli, c.sport, c.cport, seq, flags, payload))
}

func (c *conn) add(data []byte) *capture.Packet {
	p := pkt(linkEthernet, data, c.at)
	c.at = c.at.Add(time.Millisecond)
	c.packets = append(c.packets, p)
	return p
}

func ethTCP(src, dst string, sport, dport uint16, seq uint32, flags uint8, payload string) []byte {
	return eth(etherIPv4, ipv4(src, dst, protoTCP, tcpSeg(sport, dport, seq, flags, []byte(payload)), ip4opts{}))
}

// run decodes the packets of c one by one with d and returns every unit
// emitted, after a Flush.
func run(t *testing.T, d *Decoder, c *conn) *collector {
	t.Helper()
	var col collector
	for _, p := range c.packets {
		d.Decode(p, col.emit)
	}
	d.Flush(col.emit)
	checkInvariant(t, c.packets, col.units)
	return &col
}

func framed() *Decoder { return New(Config{Framer: toyFramer}) }

// want describes an expected unit: its kind, note, payload and the indexes
// of its packets in the connection.
type want struct {
	kind    Kind
	note    Note
	payload string
	pkts    []int
}

func checkUnits(t *testing.T, c *conn, got []got, wants []want) {
	t.Helper()
	if len(got) != len(wants) {
		for i, u := range got {
			t.Logf("unit %d: %v/%v %q %d packets", i, u.Kind, u.Note, u.Payload, len(u.Packets))
		}
		t.Fatalf("got %d units, want %d", len(got), len(wants))
	}
	for i, w := range wants {
		u := got[i]
		var pk []*capture.Packet
		for _, j := range w.pkts {
			pk = append(pk, c.packets[j])
		}
		if u.Kind != w.kind || u.Note != w.note || (w.kind != KindOther && u.Payload != w.payload) || !slices.Equal(u.Packets, pk) {
			var idx []int
			for _, p := range u.Packets {
				idx = append(idx, slices.Index(c.packets, p))
			}
			t.Errorf("unit %d: got %v/%v %q packets %v, want %v/%v %q packets %v", i, u.Kind, u.Note, u.Payload, idx, w.kind, w.note, w.payload, w.pkts)
		}
	}
}

func TestTCPMessageOverThreeSegments(t *testing.T) {
	m := msg(strings.Repeat("x", 40))
	c := newConn()
	c.c2s(100, 0, m[:10])
	c.c2s(110, 0, m[10:30])
	c.c2s(130, 0, m[30:])
	col := run(t, framed(), c)
	checkUnits(t, c, col.units, []want{{KindTCP, 0, m, []int{0, 1, 2}}})
	if col.units[0].Src.String() != "10.0.0.1:40000" || col.units[0].Dst.String() != "10.0.0.2:5060" {
		t.Errorf("direction %v -> %v", col.units[0].Src, col.units[0].Dst)
	}
}

func TestTCPThreeMessagesInOneSegment(t *testing.T) {
	a, b, cc := msg("alpha"), msg("bravo!"), msg("charlie")
	c := newConn()
	c.c2s(1, 0, a+b+cc)
	col := run(t, framed(), c)
	checkUnits(t, c, col.units, []want{
		{KindTCP, 0, a, []int{0}},
		{KindTCP, 0, b, []int{0}},
		{KindTCP, 0, cc, []int{0}},
	})
}

func TestTCPSegmentAcrossMessages(t *testing.T) {
	a, b := msg("first"), msg("second message")
	s := a + b
	c := newConn()
	c.c2s(1, 0, s[:len(a)+4])
	c.c2s(uint32(1+len(a)+4), 0, s[len(a)+4:])
	col := run(t, framed(), c)
	checkUnits(t, c, col.units, []want{
		{KindTCP, 0, a, []int{0}},
		{KindTCP, 0, b, []int{0, 1}},
	})
}

func TestTCPOutOfOrder(t *testing.T) {
	a, b := msg("one"), msg("two")
	s := a + b
	c := newConn()
	c.c2s(1, tcpSYN, "")
	c.c2s(2+10, 0, s[10:]) // arrives first
	c.c2s(2, 0, s[:10])
	col := run(t, framed(), c)
	checkUnits(t, c, col.units, []want{
		{KindOther, NoteTCPControl, "", []int{0}},
		{KindTCP, 0, a, []int{2}},
		{KindTCP, 0, b, []int{1, 2}},
	})
}

func TestTCPDuplicateHeldSegment(t *testing.T) {
	a := msg("0123456789")
	c := newConn()
	c.c2s(1, 0, a[:3])   // the direction starts here, mid-way
	c.c2s(11, 0, a[10:]) // ahead of a gap
	c.c2s(11, 0, a[10:]) // and again
	c.c2s(4, 0, a[3:10]) // fills the gap
	c.c2s(100, 0, "")
	c.c2s(1, 0, a[:3]) // old, not a message alone
	col := run(t, framed(), c)
	checkUnits(t, c, col.units, []want{
		{KindTCP, 0, a, []int{0, 1, 3}},
		{KindOther, NoteTCPNotFramed, "", []int{2}},
		{KindOther, NoteTCPControl, "", []int{4}},
		{KindOther, NoteTCPNotFramed, "", []int{5}},
	})
}

func TestTCPRetransmission(t *testing.T) {
	a, b := msg("hello"), msg("world")
	c := newConn()
	c.c2s(1, 0, a)
	c.c2s(1, 0, a) // retransmitted whole message
	c.c2s(uint32(1+len(a)), 0, b[:4])
	c.c2s(uint32(1+len(a)), 0, b[:4]) // retransmitted partial message
	c.c2s(uint32(1+len(a)+4), 0, b[4:])
	c.c2s(uint32(len(a)+len(b)), 0, "x") // keep-alive probe
	d := framed()
	col := run(t, d, c)
	checkUnits(t, c, col.units, []want{
		{KindTCP, 0, a, []int{0}},
		{KindTCP, 0, a, []int{1}},
		{KindOther, NoteTCPNotFramed, "", []int{3}},
		{KindTCP, 0, b, []int{2, 4}},
		{KindOther, NoteTCPKeepalive, "", []int{5}},
	})
	if st := d.Stats(); st.TCPRetransmissions != 3 {
		t.Errorf("retransmissions = %d, want 3", st.TCPRetransmissions)
	}
}

func TestTCPRetransmissionOverlapping(t *testing.T) {
	a, b := msg("abcdef"), msg("ghijkl")
	s := a + b
	c := newConn()
	c.c2s(1, 0, s[:8])
	c.c2s(1, 0, s[:len(a)+3]) // repeats 8 bytes and brings new ones
	c.c2s(uint32(1+len(a)+3), 0, s[len(a)+3:])
	col := run(t, framed(), c)
	checkUnits(t, c, col.units, []want{
		{KindTCP, 0, a, []int{0, 1}},
		{KindTCP, 0, b, []int{1, 2}},
	})
}

func TestTCPMidStream(t *testing.T) {
	a, b := msg("the message we missed the start of"), msg("next")
	c := newConn()
	c.c2s(5000, 0, a[10:20])
	c.c2s(5010, 0, a[20:])
	c.c2s(uint32(5000+len(a)-10), 0, b)
	col := run(t, framed(), c)
	checkUnits(t, c, col.units, []want{
		{KindOther, NoteTCPNotFramed, "", []int{0}},
		{KindOther, NoteTCPNotFramed, "", []int{1}},
		{KindTCP, 0, b, []int{2}},
	})
}

func TestTCPKeepalives(t *testing.T) {
	a, b := msg("a"), msg("b")
	c := newConn()
	seq := uint32(1)
	for _, p := range []string{"\r\n\r\n", a, "\r\n", "\r\n" + b, "\r\n"} {
		c.c2s(seq, 0, p)
		seq += uint32(len(p))
	}
	d := framed()
	col := run(t, d, c)
	checkUnits(t, c, col.units, []want{
		{KindOther, NoteTCPKeepalive, "", []int{0}},
		{KindTCP, 0, a, []int{1}},
		{KindOther, NoteTCPKeepalive, "", []int{2}},
		{KindTCP, 0, b, []int{3}},
		{KindOther, NoteTCPKeepalive, "", []int{4}},
	})
	if st := d.Stats(); st.TCPKeepalives != 3 {
		t.Errorf("keepalives = %d, want 3", st.TCPKeepalives)
	}
}

func TestTCPFinWithLeftovers(t *testing.T) {
	a, b := msg("complete"), msg("never completed")
	s := a + b
	c := newConn()
	c.c2s(1, 0, s[:len(a)+5])
	c.c2s(uint32(1+len(a)+5), 0, s[len(a)+5:len(a)+9])
	c.c2s(uint32(1+len(a)+9), tcpFIN, "")
	c.c2s(uint32(1+len(a)+9), 0, "late")
	d := framed()
	col := run(t, d, c)
	checkUnits(t, c, col.units, []want{
		{KindTCP, 0, a, []int{0}},
		{KindOther, NoteTCPControl, "", []int{2}},
		{KindOther, NoteTCPIncomplete, "", []int{1}},
		{KindOther, NoteTCPNotFramed, "", []int{3}}, // a new direction, seen mid-way
	})
	if st := d.Stats(); st.TCPStreamsClosed != 1 || st.TCPStreams != 2 {
		t.Errorf("stats %+v", st)
	}
}

func TestTCPFinWithPayload(t *testing.T) {
	a, b := msg("last"), msg("cut")
	c := newConn()
	c.c2s(1, tcpFIN, a+b[:3])
	col := run(t, framed(), c)
	checkUnits(t, c, col.units, []want{{KindTCP, 0, a, []int{0}}})
}

func TestTCPRstClosesBothDirections(t *testing.T) {
	c := newConn()
	c.c2s(1, 0, "MSG 10\nabc")
	c.s2c(1, 0, "MSG 10\ndef")
	c.s2c(11, tcpRST, "")
	d := New(Config{Framer: toyFramer})
	var col collector
	for _, p := range c.packets {
		d.Decode(p, col.emit)
	}
	checkUnits(t, c, col.units, []want{
		{KindOther, NoteTCPControl, "", []int{2}},
		{KindOther, NoteTCPIncomplete, "", []int{1}},
		{KindOther, NoteTCPIncomplete, "", []int{0}},
	})
	if len(d.streams.m) != 0 {
		t.Errorf("%d directions left", len(d.streams.m))
	}
}

func TestTCPNotFramedThenFramed(t *testing.T) {
	a := msg("finally")
	c := newConn()
	seq := uint32(1)
	for _, p := range []string{"GET / HTTP/1.1\r\n", "Host: x\r\n\r\n", "\x16\x03\x01binary", a, "MSG 3\nab"} {
		c.c2s(seq, 0, p)
		seq += uint32(len(p))
	}
	d := framed()
	col := run(t, d, c)
	checkUnits(t, c, col.units, []want{
		{KindOther, NoteTCPNotFramed, "", []int{0}},
		{KindOther, NoteTCPNotFramed, "", []int{1}},
		{KindOther, NoteTCPNotFramed, "", []int{2}},
		{KindTCP, 0, a, []int{3}},
		{KindOther, NoteTCPIncomplete, "", []int{4}},
	})
	if st := d.Stats(); st.TCPNotFramed != 3 {
		t.Errorf("not framed = %d, want 3", st.TCPNotFramed)
	}
}

func TestTCPGarbageAfterMessage(t *testing.T) {
	a := msg("ok")
	c := newConn()
	c.c2s(1, 0, a+"garbage")
	c.c2s(uint32(1+len(a)+7), 0, "more garbage")
	col := run(t, framed(), c)
	checkUnits(t, c, col.units, []want{
		{KindTCP, 0, a, []int{0}},
		{KindOther, NoteTCPNotFramed, "", []int{1}},
	})
}

func TestTCPControlSegments(t *testing.T) {
	c := newConn()
	c.c2s(99, tcpSYN, "")
	c.s2c(499, tcpSYN, "")
	c.c2s(100, 0, "")
	c.c2s(100, 0, msg("x"))
	c.s2c(500, 0, "")
	col := run(t, framed(), c)
	checkUnits(t, c, col.units, []want{
		{KindOther, NoteTCPControl, "", []int{0}},
		{KindOther, NoteTCPControl, "", []int{1}},
		{KindOther, NoteTCPControl, "", []int{2}},
		{KindTCP, 0, msg("x"), []int{3}},
		{KindOther, NoteTCPControl, "", []int{4}},
	})
	if col.units[1].Src.String() != "10.0.0.2:5060" {
		t.Errorf("control unit src %v", col.units[1].Src)
	}
}

func TestTCPRepeatedSyn(t *testing.T) {
	a := msg("data")
	c := newConn()
	c.c2s(9, tcpSYN, "")
	c.c2s(10, 0, a[:5])
	c.c2s(9, tcpSYN, "") // retransmitted, captured late
	c.c2s(15, 0, a[5:])
	col := run(t, framed(), c)
	checkUnits(t, c, col.units, []want{
		{KindOther, NoteTCPControl, "", []int{0}},
		{KindOther, NoteTCPControl, "", []int{2}},
		{KindTCP, 0, a, []int{1, 3}},
	})
}

func TestTCPSynResetsStream(t *testing.T) {
	c := newConn()
	c.c2s(1, 0, "MSG 9\nabc")
	c.c2s(7000, tcpSYN, "") // a new connection on the same ports
	c.c2s(7001, 0, msg("new"))
	col := run(t, framed(), c)
	checkUnits(t, c, col.units, []want{
		{KindOther, NoteTCPIncomplete, "", []int{0}},
		{KindOther, NoteTCPControl, "", []int{1}},
		{KindTCP, 0, msg("new"), []int{2}},
	})
}

func TestTCPGapOverflow(t *testing.T) {
	c := newConn()
	seq := uint32(1)
	for i := range maxHeldSegments + 3 {
		m := msg("m" + string(rune('A'+i%26)))
		if i != 1 { // the second message is never captured
			c.c2s(seq, 0, m)
		}
		seq += uint32(len(m))
	}
	d := framed()
	var col collector
	for i, p := range c.packets {
		d.Decode(p, col.emit)
		if i > 0 && i <= maxHeldSegments && len(col.units) != 1 {
			t.Fatalf("after packet %d: %d units, want only the first message", i, len(col.units))
		}
	}
	d.Flush(col.emit)
	checkInvariant(t, c.packets, col.units)
	if n := len(col.payloads(KindTCP)); n != len(c.packets) {
		t.Fatalf("%d messages, want %d", n, len(c.packets))
	}
	if st := d.Stats(); st.TCPGaps != 1 || st.TCPOutOfOrder != maxHeldSegments+1 {
		t.Errorf("gaps %d out of order %d", st.TCPGaps, st.TCPOutOfOrder)
	}
}

func TestTCPGapTimeout(t *testing.T) {
	a, b, cc := msg("aaa"), msg("bbb"), msg("ccc")
	c := newConn()
	c.c2s(1, 0, a+b[:2])
	// b[2:] is lost
	c.c2s(uint32(1+len(a)+len(b)), 0, cc)
	d := New(Config{Framer: toyFramer, GapTimeout: time.Second})
	var col collector
	for _, p := range c.packets {
		d.Decode(p, col.emit)
	}
	d.Expire(t0.Add(time.Second), col.emit)
	if len(col.units) != 1 {
		t.Fatalf("gap skipped too early: %d units", len(col.units))
	}
	d.Expire(t0.Add(2*time.Second), col.emit)
	d.Flush(col.emit)
	checkInvariant(t, c.packets, col.units)
	checkUnits(t, c, col.units, []want{
		{KindTCP, 0, a, []int{0}},
		{KindTCP, 0, cc, []int{1}},
	})

	// A segment arriving after the gap timed out resyncs too.
	c = newConn()
	c.c2s(1, 0, a+b[:2])
	c.c2s(uint32(1+len(a)+len(b)), 0, cc)
	c.at = t0.Add(5 * time.Second)
	c.c2s(uint32(1+len(a)+len(b)+len(cc)), 0, a)
	col2 := run(t, New(Config{Framer: toyFramer, GapTimeout: time.Second}), c)
	checkUnits(t, c, col2.units, []want{
		{KindTCP, 0, a, []int{0}},
		{KindTCP, 0, cc, []int{1}},
		{KindTCP, 0, a, []int{2}},
	})
}

func TestTCPStreamExpiry(t *testing.T) {
	c := newConn()
	c.c2s(1, 0, "MSG 100\nabc")
	d := New(Config{Framer: toyFramer, StreamTimeout: time.Minute})
	var col collector
	d.Decode(c.packets[0], col.emit)
	d.Expire(t0.Add(time.Minute), col.emit)
	if len(col.units) != 0 {
		t.Fatal("expired too early")
	}
	d.Expire(t0.Add(time.Minute+time.Millisecond), col.emit)
	checkUnits(t, c, col.units, []want{{KindOther, NoteTCPIncomplete, "", []int{0}}})
	if st := d.Stats(); st.TCPStreamsExpired != 1 || len(d.streams.m) != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestTCPMaxStreams(t *testing.T) {
	c := newConn()
	c.c2s(1, 0, "MSG 5\nab")
	c.s2c(1, 0, "MSG 5\ncd")
	c.c2s(9, 0, "cde")
	d := New(Config{Framer: toyFramer, MaxStreams: 1})
	col := run(t, d, c)
	checkUnits(t, c, col.units, []want{
		{KindOther, NoteTCPIncomplete, "", []int{0}},
		{KindOther, NoteTCPIncomplete, "", []int{1}},
		{KindOther, NoteTCPNotFramed, "", []int{2}},
	})
	if st := d.Stats(); st.TCPStreamsEvicted != 2 {
		t.Errorf("evicted = %d, want 2", st.TCPStreamsEvicted)
	}
}

func TestTCPBufferOverflow(t *testing.T) {
	c := newConn()
	c.c2s(1, 0, "MSG 1000\n"+strings.Repeat("x", 60))
	c.c2s(70, 0, strings.Repeat("y", 60))
	c.c2s(130, 0, msg("after"))
	d := New(Config{Framer: toyFramer, MaxStreamBuffer: 100})
	col := run(t, d, c)
	checkUnits(t, c, col.units, []want{
		{KindOther, NoteTCPNotFramed, "", []int{0, 1}},
		{KindTCP, 0, msg("after"), []int{2}},
	})
	if st := d.Stats(); st.TCPBufferOverflows != 1 {
		t.Errorf("overflows = %d", st.TCPBufferOverflows)
	}
}

func TestTCPHeldBytesBound(t *testing.T) {
	c := newConn()
	c.c2s(1, 0, "MSG 3\na")
	c.c2s(100, 0, msg(strings.Repeat("z", 80)))
	c.c2s(200, 0, msg(strings.Repeat("w", 80)))
	d := New(Config{Framer: toyFramer, MaxStreamBuffer: 150})
	col := run(t, d, c)
	checkUnits(t, c, col.units, []want{
		{KindOther, NoteTCPIncomplete, "", []int{0}},
		{KindTCP, 0, msg(strings.Repeat("z", 80)), []int{1}},
		{KindTCP, 0, msg(strings.Repeat("w", 80)), []int{2}},
	})
}

func TestTCPNilFramer(t *testing.T) {
	c := newConn()
	c.c2s(1, tcpSYN, "")
	c.c2s(2, 0, "half a mess")
	c.c2s(2, 0, "half a mess")
	c.c2s(13, tcpFIN, "age")
	col := run(t, New(Config{}), c)
	checkUnits(t, c, col.units, []want{
		{KindOther, NoteTCPControl, "", []int{0}},
		{KindTCP, 0, "half a mess", []int{1}},
		{KindTCP, 0, "half a mess", []int{2}},
		{KindTCP, 0, "age", []int{3}},
	})
}

func TestTCPFragmentedSegment(t *testing.T) {
	a := msg(strings.Repeat("s", 300))
	seg := tcpSeg(40000, 5060, 1, 0, []byte(a))
	frags := fragments4("10.0.0.1", "10.0.0.2", protoTCP, 42, seg, 128)
	c := newConn()
	for _, f := range frags {
		c.add(eth(etherIPv4, f))
	}
	c.c2s(uint32(1+len(a)), 0, msg("after"))
	col := run(t, framed(), c)
	checkUnits(t, c, col.units, []want{
		{KindTCP, 0, a, []int{0, 1, 2}},
		{KindTCP, 0, msg("after"), []int{3}},
	})
}

func TestTCPBadFramer(t *testing.T) {
	framers := map[string]Framer{
		"n past end":    func(b []byte) (int, int, error) { return 0, len(b) + 1, nil },
		"negative skip": func(b []byte) (int, int, error) { return -1, 1, nil },
		"no progress":   func(b []byte) (int, int, error) { return 0, 0, nil },
		"skip past end": func(b []byte) (int, int, error) { return len(b) + 5, 0, ErrNeedMore },
	}
	for name, f := range framers {
		t.Run(name, func(t *testing.T) {
			c := newConn()
			c.c2s(1, 0, "abc")
			c.c2s(1, 0, "abc")
			col := run(t, New(Config{Framer: f}), c)
			for _, u := range col.units {
				if u.Kind == KindTCP {
					t.Errorf("unit %q framed by a broken framer", u.Payload)
				}
			}
		})
	}
}

func TestTCPFramerSkipWithNeedMore(t *testing.T) {
	// The framer consumes keep-alive bytes even while it waits for more.
	c := newConn()
	c.c2s(1, 0, "\r\n\r\nMS")
	c.c2s(7, 0, "G 1\nz")
	col := run(t, framed(), c)
	checkUnits(t, c, col.units, []want{{KindTCP, 0, msg("z"), []int{0, 1}}})
}
