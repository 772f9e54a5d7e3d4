//go:build linux

package live

import (
	"io"
	"testing"
	"time"

	"github.com/lc-voip/lc/internal/capture"
)

// TestNextPacketsTicksEOF drives Next without sockets: packets come out in
// batch order, a tick is a Packet with nil Data whose time lags the wall
// clock by handoverLag, and the end of the readers is io.EOF.
func TestNextPacketsTicksEOF(t *testing.T) {
	ticks := make(chan time.Time, 1)
	s := &Source{batches: make(chan batch, 2), order: newOrder(1, handoverLag), ticks: ticks, now: time.Now}
	s.batches <- batch{pkts: []capture.Packet{{Data: []byte{1}, Frame: 1}, {Data: []byte{2}, Frame: 2}}}
	for want := 1; want <= 2; want++ {
		p, err := s.Next()
		if err != nil || p.Frame != want {
			t.Fatalf("packet %d: %+v, %v", want, p, err)
		}
	}
	now := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	ticks <- now
	p, err := s.Next()
	if err != nil || p.Data != nil || !p.Info.Timestamp.Equal(now.Add(-handoverLag)) {
		t.Fatalf("tick: %+v, %v; want nil Data at %v", p, err, now.Add(-handoverLag))
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
	s := &Source{batches: make(chan batch, 2), order: newOrder(1, handoverLag), ticks: ticks, now: time.Now}
	ticks <- time.Now()
	s.batches <- batch{pkts: []capture.Packet{{Data: []byte{1}, Frame: 1}}}
	for range 100 { // a random choice between ready cases would show
		if p, err := s.Next(); err != nil || p.Data == nil {
			t.Fatalf("got %+v, %v; want the packet before the tick", p, err)
		}
		s.batches <- batch{pkts: []capture.Packet{{Data: []byte{1}, Frame: 1}}}
	}
}

// TestNextWaitsForTheOtherInterface: a packet of one interface waits for
// the other interface's older packet, which comes in a later block; a
// packet whose interface is alone waits until handoverLag after its time.
func TestNextWaitsForTheOtherInterface(t *testing.T) {
	now := base
	s := &Source{batches: make(chan batch, 2), order: newOrder(2, handoverLag), ticks: make(chan time.Time), now: func() time.Time { return now }}
	s.batches <- batch{sock: 1, pkts: []capture.Packet{at(10, 1)}}
	go func() { s.batches <- batch{sock: 0, pkts: []capture.Packet{at(0, 1)}} }()
	if p, err := s.Next(); err != nil || !p.Info.Timestamp.Equal(base) {
		t.Fatalf("got %v, %v; want interface 0's packet at 0 ms first", p.Info.Timestamp, err)
	}
	now = base.Add(10*time.Millisecond + handoverLag) // interface 0 stayed quiet
	if p, err := s.Next(); err != nil || !p.Info.Timestamp.Equal(base.Add(10*time.Millisecond)) {
		t.Fatalf("got %v, %v; want interface 1's packet at 10 ms", p.Info.Timestamp, err)
	}
}
