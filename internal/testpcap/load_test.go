package testpcap_test

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/lc-voip/lc/internal/testpcap"
)

// smallLoad is a load of 30 calls that still holds every kind.
func smallLoad(seed uint64) testpcap.LoadConfig {
	cfg := testpcap.DefaultLoadConfig()
	cfg.Calls, cfg.Concurrent, cfg.Talk, cfg.Seed = 30, 10, 4*time.Second, seed
	return cfg
}

func plan(tb testing.TB, cfg testpcap.LoadConfig) []testpcap.Call {
	tb.Helper()
	calls, err := testpcap.Plan(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return calls
}

func TestPlanMix(t *testing.T) {
	calls := plan(t, smallLoad(1))
	var g729, tcp, reinvite, cancelled, plain int
	for _, c := range calls {
		switch {
		case c.Codec == testpcap.G729:
			g729++
		case c.TCP:
			tcp++
		case !c.ReInvite && !c.Cancelled:
			plain++
		}
		if c.ReInvite {
			reinvite++
		}
		if c.Cancelled {
			cancelled++
		}
		if c.ReInvite && c.Cancelled {
			t.Errorf("%s: both re-INVITEd and cancelled", c.Dialog.CallID)
		}
	}
	// Fractions are rounded to whole calls: 15%, 10%, 10%, 8% of 30.
	if g729 != 5 || reinvite != 3 || cancelled != 2 || plain == 0 {
		t.Errorf("G.729 %d, re-INVITE %d, cancelled %d, plain %d: want 5, 3, 2, some", g729, reinvite, cancelled, plain)
	}
	if n := countTCP(calls); n != 3 {
		t.Errorf("%d calls over TCP, want 3", n)
	}
}

func countTCP(calls []testpcap.Call) int {
	n := 0
	for _, c := range calls {
		if c.TCP {
			n++
		}
	}
	return n
}

// TestCallPackets checks every call's own timeline: first packet at
// Start, last at End, times never going back.
func TestCallPackets(t *testing.T) {
	for _, c := range plan(t, smallLoad(1)) {
		var first, last time.Time
		for p := range c.Packets() {
			if first.IsZero() {
				first = p.Time
			}
			if p.Time.Before(last) {
				t.Fatalf("%s: packet at %v after one at %v", c.Dialog.CallID, p.Time, last)
			}
			last = p.Time
		}
		if !first.Equal(c.Start) || !last.Equal(c.End()) {
			t.Errorf("%s: packets from %v to %v, want %v to %v", c.Dialog.CallID, first, last, c.Start, c.End())
		}
	}
}

// loadSeen is what the decoded frames of a load contain.
type loadSeen struct {
	packets                              int
	invites, reinvites, cancels, acks487 int
	tcpSIP                               int
	rtp                                  map[uint8]int // by payload type
	rtcp                                 int
	movedRTP                             int // RTP from a caller's re-INVITEd port
}

// TestLoadDecodes decodes every frame of a small load with gopacket and
// checks the TCP streams and the mix of messages.
func TestLoadDecodes(t *testing.T) {
	calls := plan(t, smallLoad(1))
	moved := map[netip.AddrPort]bool{}
	for _, c := range calls {
		if c.ReInvite {
			moved[netip.AddrPortFrom(c.Dialog.CallerRTP.Addr(), c.Dialog.CallerRTP.Port()+2)] = true
		}
	}
	seen := loadSeen{rtp: map[uint8]int{}}
	tcp := tcpChecker{next: map[[2]netip.AddrPort]uint32{}}
	var last time.Time
	for p := range testpcap.Merge(calls) {
		seen.packets++
		if p.Time.Before(last) {
			t.Fatalf("packet %d at %v after one at %v", seen.packets, p.Time, last)
		}
		last = p.Time
		pkt := gopacket.NewPacket(p.Data, layers.LayerTypeEthernet, gopacket.Default)
		if el := pkt.ErrorLayer(); el != nil {
			t.Fatalf("packet %d: %v", seen.packets, el.Error())
		}
		switch l := pkt.TransportLayer().(type) {
		case *layers.UDP:
			src := netip.AddrPortFrom(addr(pkt), uint16(l.SrcPort))
			seen.udp(l.Payload, moved[src])
		case *layers.TCP:
			if err := tcp.check(pkt, l); err != nil {
				t.Fatalf("packet %d: %v", seen.packets, err)
			}
			if len(l.Payload) > 0 {
				seen.tcpSIP++
				if !bytes.Contains(l.Payload, []byte("Via: SIP/2.0/TCP ")) {
					t.Errorf("packet %d: SIP over TCP without a TCP Via: %.80q", seen.packets, l.Payload)
				}
				seen.sip(l.Payload)
			}
		default:
			t.Fatalf("packet %d: no UDP or TCP layer: %v", seen.packets, pkt)
		}
	}
	t.Logf("%+v", seen)
	if seen.invites != len(calls) || seen.reinvites != 3 || seen.cancels != 2 || seen.acks487 != 2 {
		t.Errorf("INVITEs %d, re-INVITEs %d, CANCELs %d, ACKs of 487 %d: want %d, 3, 2, 2",
			seen.invites, seen.reinvites, seen.cancels, seen.acks487, len(calls))
	}
	if seen.tcpSIP == 0 || seen.rtp[0] == 0 || seen.rtp[18] == 0 || seen.rtcp == 0 || seen.movedRTP == 0 {
		t.Errorf("want SIP over TCP, PCMU and G.729 RTP, RTCP and RTP on re-INVITEd ports; got %+v", seen)
	}
}

func addr(pkt gopacket.Packet) netip.Addr {
	a, _ := netip.AddrFromSlice(pkt.NetworkLayer().NetworkFlow().Src().Raw())
	return a
}

func (s *loadSeen) udp(payload []byte, fromMoved bool) {
	switch {
	case len(payload) > 1 && payload[0] == 0x80 && payload[1] == 200:
		s.rtcp++
	case len(payload) >= 12 && payload[0] == 0x80:
		pt := payload[1] & 0x7f
		want := map[uint8]int{0: 160, 18: 20}[pt]
		if len(payload)-12 == want {
			s.rtp[pt]++
		}
		if fromMoved {
			s.movedRTP++
		}
	default:
		s.sip(payload)
	}
}

func (s *loadSeen) sip(msg []byte) {
	m := string(msg)
	switch {
	case strings.HasPrefix(m, "INVITE ") && strings.Contains(m, "CSeq: 1 INVITE"):
		s.invites++
	case strings.HasPrefix(m, "INVITE "):
		s.reinvites++
	case strings.HasPrefix(m, "CANCEL "):
		s.cancels++
	case strings.HasPrefix(m, "ACK ") && strings.Contains(m, "-invite\r\n"):
		s.acks487++ // the ACK of a failed INVITE shares its branch
	}
}

// tcpChecker follows the sequence numbers of every direction of every
// connection.
type tcpChecker struct {
	next map[[2]netip.AddrPort]uint32 // next sequence number by src, dst
}

func (c *tcpChecker) check(pkt gopacket.Packet, l *layers.TCP) error {
	nf := pkt.NetworkLayer().NetworkFlow()
	srcIP, _ := netip.AddrFromSlice(nf.Src().Raw())
	dstIP, _ := netip.AddrFromSlice(nf.Dst().Raw())
	src := netip.AddrPortFrom(srcIP, uint16(l.SrcPort))
	dst := netip.AddrPortFrom(dstIP, uint16(l.DstPort))
	me, peer := [2]netip.AddrPort{src, dst}, [2]netip.AddrPort{dst, src}
	next, ok := c.next[me]
	switch {
	case l.SYN:
		if ok {
			return errTCP("second SYN", src, dst, l.Seq, next)
		}
		next = l.Seq + 1
	case !ok:
		return errTCP("segment before SYN", src, dst, l.Seq, 0)
	case l.Seq != next:
		return errTCP("sequence gap", src, dst, l.Seq, next)
	default:
		next += uint32(len(l.Payload))
		if l.FIN {
			next++
		}
	}
	if l.ACK && l.Ack != c.next[peer] {
		return errTCP("ack is not the peer's next sequence number", src, dst, l.Ack, c.next[peer])
	}
	c.next[me] = next
	return nil
}

func errTCP(what string, src, dst netip.AddrPort, got, want uint32) error {
	return fmt.Errorf("%s: %v > %v: got %d, want %d", what, src, dst, got, want)
}

func loadHash(tb testing.TB, cfg testpcap.LoadConfig) [32]byte {
	tb.Helper()
	h := sha256.New()
	if err := testpcap.WriteSeq(h, layers.LinkTypeEthernet, testpcap.Merge(plan(tb, cfg))); err != nil {
		tb.Fatal(err)
	}
	return [32]byte(h.Sum(nil))
}

func TestLoadDeterministic(t *testing.T) {
	a, b, other := loadHash(t, smallLoad(7)), loadHash(t, smallLoad(7)), loadHash(t, smallLoad(8))
	if a != b {
		t.Error("two loads from seed 7 differ")
	}
	if a == other {
		t.Error("seeds 7 and 8 give the same load")
	}
}

// TestMergeStops checks that a consumer may stop early: every call
// started by the merge is stopped.
func TestMergeStops(t *testing.T) {
	n := 0
	for range testpcap.Merge(plan(t, smallLoad(1))) {
		if n++; n == 1000 {
			break
		}
	}
	if n != 1000 {
		t.Fatalf("got %d packets, want 1000", n)
	}
}

func TestLoadConfigValidate(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*testpcap.LoadConfig)
		wants []string // in the error; none for a valid config
	}{
		{name: "default", edit: func(*testpcap.LoadConfig) {}},
		{name: "no calls", edit: func(c *testpcap.LoadConfig) { c.Calls = 0 }, wants: []string{"calls 0"}},
		{name: "too many calls", edit: func(c *testpcap.LoadConfig) { c.Calls = testpcap.MaxLoadCalls + 1 }, wants: []string{"calls 65536"}},
		{name: "every problem", edit: func(c *testpcap.LoadConfig) {
			c.Concurrent, c.Talk, c.Start = 0, time.Millisecond, time.Time{}
			c.G729, c.ReInvite, c.Cancel = 1.5, 0.6, 0.6
		}, wants: []string{"concurrent calls 0", "talk time 1ms", "start", "G.729 fraction 1.5", "add up to 1.2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testpcap.DefaultLoadConfig()
			tt.edit(&cfg)
			err := cfg.Validate()
			if len(tt.wants) == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Validate() = nil, want an error")
			}
			for _, w := range tt.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate() = %q, want it to mention %q", err, w)
				}
			}
		})
	}
}
