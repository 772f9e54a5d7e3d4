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
// clock by tickLag, and the end of the readers is io.EOF.
func TestNextPacketsTicksEOF(t *testing.T) {
	ticks := make(chan time.Time, 1)
	s := &Source{batches: make(chan []capture.Packet, 2), ticks: ticks}
	s.batches <- []capture.Packet{{Data: []byte{1}, Frame: 1}, {Data: []byte{2}, Frame: 2}}
	for want := 1; want <= 2; want++ {
		p, err := s.Next()
		if err != nil || p.Frame != want {
			t.Fatalf("packet %d: %+v, %v", want, p, err)
		}
	}
	now := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	ticks <- now
	p, err := s.Next()
	if err != nil || p.Data != nil || !p.Info.Timestamp.Equal(now.Add(-tickLag)) {
		t.Fatalf("tick: %+v, %v; want nil Data at %v", p, err, now.Add(-tickLag))
	}
	s.batches <- []capture.Packet{{Data: []byte{3}, Frame: 3}}
	close(s.batches)
	if p, err := s.Next(); err != nil || p.Frame != 3 {
		t.Fatalf("last packet: %+v, %v", p, err)
	}
	if _, err := s.Next(); err != io.EOF {
		t.Fatalf("after the readers: %v, want io.EOF", err)
	}
}
