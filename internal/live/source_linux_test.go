//go:build linux

package live

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/lc-voip/lc/internal/capture"
	"github.com/lc-voip/lc/internal/filter"
	"github.com/lc-voip/lc/internal/testenv"
	"golang.org/x/sys/unix"
)

// TestNextPacketsTicksEOF drives Next without sockets: packets come out in
// batch order without a clock reading, a tick is a Packet with nil Data at
// the interface's watermark, and the end of the readers is io.EOF.
func TestNextPacketsTicksEOF(t *testing.T) {
	ticks := make(chan time.Time, 1)
	noClock := func() time.Time { t.Error("a single interface read the clock"); return time.Now() }
	s := &Source{batches: make(chan batch, 2), order: newOrder(1, fallbackLag), ticks: ticks, now: noClock}
	s.batches <- batch{pkts: []capture.Packet{{Data: []byte{1}, Frame: 1}, {Data: []byte{2}, Frame: 2}}}
	for want := 1; want <= 2; want++ {
		p, err := s.Next()
		if err != nil || p.Frame != want {
			t.Fatalf("packet %d: %+v, %v", want, p, err)
		}
	}
	now := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	mark := now.Add(-150 * time.Millisecond)
	s.batches <- batch{upTo: mark}
	ticks <- now
	p, err := s.Next()
	if err != nil || p.Data != nil || !p.Info.Timestamp.Equal(mark) {
		t.Fatalf("tick: %+v, %v; want nil Data at the watermark %v", p, err, mark)
	}
	s.batches <- batch{pkts: []capture.Packet{{Data: []byte{3}, Frame: 3}}}
	close(s.batches)
	if p, err := s.Next(); err != nil || p.Frame != 3 {
		t.Fatalf("last packet: %+v, %v", p, err)
	}
	if _, err := s.Next(); err != io.EOF {
		t.Fatalf("after the readers: %v, want io.EOF", err)
	}
}

// TestNextPacketsBeforeTicks: with a tick and a batch both ready, the
// batch's packets come first, so a tick never moves the clock past
// packets that were already captured.
func TestNextPacketsBeforeTicks(t *testing.T) {
	ticks := make(chan time.Time, 1)
	s := &Source{batches: make(chan batch, 2), order: newOrder(1, fallbackLag), ticks: ticks, now: time.Now}
	ticks <- time.Now()
	s.batches <- batch{pkts: []capture.Packet{{Data: []byte{1}, Frame: 1}}}
	for range 100 { // a random choice between ready cases would show
		if p, err := s.Next(); err != nil || p.Data == nil {
			t.Fatalf("got %+v, %v; want the packet before the tick", p, err)
		}
		s.batches <- batch{pkts: []capture.Packet{{Data: []byte{1}, Frame: 1}}}
	}
}

// fakeClock is a wall clock that moves only when a test sets it.
type fakeClock struct{ t time.Time }

// now reads the clock.
func (c *fakeClock) now() time.Time { return c.t }

// set moves the clock to ms milliseconds after base.
func (c *fakeClock) set(ms int) { c.t = ms2t(ms) }

// twoInterfaces is a Source without sockets for two interfaces, on a fake
// clock, whose channel holds msgs.
func twoInterfaces(t *testing.T, c *fakeClock, msgs ...batch) *Source {
	s := &Source{batches: make(chan batch, len(msgs)+1), order: newOrder(2, fallbackLag), ticks: make(chan time.Time), now: c.now}
	for _, b := range msgs {
		s.batches <- b
	}
	t.Cleanup(func() {
		if s.wait != nil {
			s.wait.Stop()
		}
	})
	return s
}

// nextAt calls Next and fails unless it returns a packet at ms.
func nextAt(t *testing.T, s *Source, ms int) {
	t.Helper()
	if p, err := s.Next(); err != nil || p.Data == nil || !p.Info.Timestamp.Equal(ms2t(ms)) {
		t.Fatalf("got %+v, %v; want the packet at %d ms", p.Info, err, ms)
	}
}

// TestNextWaitsForTheOtherInterface: a packet of one interface waits for
// the other interface's older packet, which comes in a later block, even
// when the wall clock is far past the time a block waits in the kernel.
func TestNextWaitsForTheOtherInterface(t *testing.T) {
	c := &fakeClock{}
	c.set(1000) // interface 0's reader is late
	s := twoInterfaces(t, c,
		batch{sock: 1, pkts: []capture.Packet{at(10, 1)}},
		batch{sock: 0, pkts: []capture.Packet{at(0, 1)}},
		batch{sock: 0, upTo: ms2t(10)})
	nextAt(t, s, 0)
	nextAt(t, s, 10)
}

// TestNextWatermark: a watermark at or past a waiting packet's time lets
// it out long before the fallback.
func TestNextWatermark(t *testing.T) {
	c := &fakeClock{}
	c.set(500)
	s := twoInterfaces(t, c,
		batch{sock: 0, pkts: []capture.Packet{at(100, 1), at(300, 2)}},
		batch{sock: 1, upTo: ms2t(100)},
		batch{sock: 1, pkts: []capture.Packet{at(200, 1)}})
	nextAt(t, s, 100)
	nextAt(t, s, 200)
}

// TestNextFallback: once the fallback has passed, a packet goes out
// without the other interface's watermark, but only after what the
// readers already sent has been taken.
func TestNextFallback(t *testing.T) {
	c := &fakeClock{}
	c.set(100 + int(fallbackLag/time.Millisecond))
	s := twoInterfaces(t, c,
		batch{sock: 0, pkts: []capture.Packet{at(100, 1)}},
		batch{sock: 1, pkts: []capture.Packet{at(50, 1)}},
		batch{sock: 1, pkts: []capture.Packet{at(80, 2)}})
	nextAt(t, s, 50)
	nextAt(t, s, 80)
	nextAt(t, s, 100) // interface 1 is stuck
}

// TestLoopbackCapturedOnce sends datagrams over lo, which the kernel shows
// a packet socket twice, going out and coming in. Captured on lo and on
// "any", each comes out once, as received (on "any", with the SLL2 header
// of lo's incoming copy), and the counters count each once.
func TestLoopbackCapturedOnce(t *testing.T) {
	for _, name := range []string{"lo", "any"} {
		t.Run(name, func(t *testing.T) { loopbackOnce(t, name) })
	}
}

func loopbackOnce(t *testing.T, name string) {
	sink, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	dst := sink.LocalAddr().(*net.UDPAddr)
	cfg := DefaultConfig()
	cfg.Interfaces, cfg.Promisc, cfg.Buffer = []string{name}, false, MinBuffer
	if cfg.Filter, err = filter.Parse(fmt.Sprintf("udp dst port %d", dst.Port)); err != nil {
		t.Fatal(err)
	}
	ticker := time.NewTicker(20 * time.Millisecond)
	defer ticker.Stop()
	cfg.Ticks = ticker.C
	src, err := Open(cfg)
	if errors.Is(err, unix.EPERM) {
		testenv.MissingPrerequisite(t, "capturing needs CAP_NET_RAW: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	src.Start(ctx)

	const n = 5
	if err := sendTo(sink, n); err != nil {
		t.Fatal(err)
	}
	time.Sleep(handoverLag) // every block holding them is handed over
	cancel()
	var got []capture.Packet
	for {
		p, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if p.Data != nil {
			got = append(got, p)
		}
	}
	if len(got) != n {
		t.Fatalf("%d packets captured, %d sent", len(got), n)
	}
	for i, p := range got {
		if p.Frame != i+1 || p.Data[len(p.Data)-1] != byte(i) {
			t.Errorf("packet %d: frame %d, payload % x", i, p.Frame, p.Data[len(p.Data)-1:])
		}
		// SLL2: ifindex at 4, hardware type at 8, packet type at 10.
		if name == "any" && (binary.BigEndian.Uint16(p.Data[8:]) != arphrdLoopback || p.Data[10] != 0) {
			t.Errorf("packet %d: hardware type %d, packet type %d; want lo's incoming copy (772, 0)", i, binary.BigEndian.Uint16(p.Data[8:]), p.Data[10])
		}
	}
	if st := src.Stats()[0]; st.Received != n || st.KernelDrops != 0 {
		t.Errorf("stats %+v, want %d received and no drop", st, n)
	}
}

// sendTo sends n one-byte datagrams, 0 to n-1, to sink, each after the
// previous one has arrived.
func sendTo(sink *net.UDPConn, n int) error {
	c, err := net.DialUDP("udp4", nil, sink.LocalAddr().(*net.UDPAddr))
	if err != nil {
		return err
	}
	defer c.Close()
	buf := make([]byte, 16)
	for i := range n {
		if _, err := c.Write([]byte{byte(i)}); err != nil {
			return err
		}
		sink.SetReadDeadline(time.Now().Add(5 * time.Second))
		if m, err := sink.Read(buf); err != nil || m != 1 || buf[0] != byte(i) {
			return fmt.Errorf("datagram %d did not arrive: %v", i, err)
		}
	}
	return nil
}
