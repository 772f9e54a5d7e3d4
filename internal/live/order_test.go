package live

import (
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/lc-voip/lc/internal/capture"
)

var base = time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)

// fixed is a clock that always reads t.
func fixed(t time.Time) func() time.Time { return func() time.Time { return t } }

func at(ms int, frame int) capture.Packet {
	return capture.Packet{Data: []byte{1}, Frame: frame, Info: gopacket.CaptureInfo{Timestamp: base.Add(time.Duration(ms) * time.Millisecond)}}
}

// TestOrderMergesInterfaces: a tap's two directions, each delivered in
// its own blocks, come out in timestamp order.
func TestOrderMergesInterfaces(t *testing.T) {
	o := newOrder(2, 100*time.Millisecond)
	o.add(0, []capture.Packet{at(0, 1), at(30, 2)})  // INVITE, ACK
	o.add(1, []capture.Packet{at(10, 1), at(20, 2)}) // 100, 200
	o.add(0, []capture.Packet{at(40, 3)})
	now := base.Add(45 * time.Millisecond)
	var got []time.Duration
	for {
		p, ok, wait := o.next(fixed(now), false)
		if !ok {
			if wait != 85*time.Millisecond {
				t.Errorf("waiting %v for the ACK, want 85ms (its time + lag - now)", wait)
			}
			break
		}
		got = append(got, p.Info.Timestamp.Sub(base))
	}
	want := []time.Duration{0, 10 * time.Millisecond, 20 * time.Millisecond}
	if len(got) != len(want) {
		t.Fatalf("handed out %v, want %v before interface 1 is empty", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("handed out %v, want %v", got, want)
		}
	}
	// Interface 1 is quiet: its packets wait until lag after their time.
	for want := 2; want <= 3; want++ {
		if p, ok, _ := o.next(fixed(base.Add(140*time.Millisecond)), false); !ok || p.Frame != want {
			t.Fatalf("after the lag: %+v %v, want frame %d", p, ok, want)
		}
	}
	if _, ok, wait := o.next(fixed(now), false); ok || wait != 0 || !o.empty() {
		t.Fatalf("empty order: ok %v wait %v", ok, wait)
	}
}

func TestOrderOneInterfaceNeverWaits(t *testing.T) {
	o := newOrder(1, time.Second)
	o.add(0, []capture.Packet{at(0, 1), at(5, 2)})
	for want := 1; want <= 2; want++ {
		if p, ok, _ := o.next(fixed(base), false); !ok || p.Frame != want {
			t.Fatalf("packet %d: %+v %v", want, p, ok)
		}
	}
}

func TestOrderFinalDoesNotWait(t *testing.T) {
	o := newOrder(2, time.Second)
	o.add(1, []capture.Packet{at(0, 1)})
	if _, ok, _ := o.next(fixed(base), false); ok {
		t.Fatal("handed out while interface 0 could still deliver older packets")
	}
	if p, ok, _ := o.next(fixed(base), true); !ok || p.Frame != 1 {
		t.Fatalf("final: %+v %v", p, ok)
	}
}
