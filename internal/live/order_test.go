package live

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/lc-voip/lc/internal/capture"
)

var base = time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)

// ms2t is the time ms milliseconds after base.
func ms2t(ms int) time.Time { return base.Add(time.Duration(ms) * time.Millisecond) }

// at is a packet ms milliseconds after base, numbered frame.
func at(ms int, frame int) capture.Packet {
	return capture.Packet{Data: []byte{1}, Frame: frame, Info: gopacket.CaptureInfo{Timestamp: ms2t(ms)}}
}

// drain takes every packet next hands out and returns their times in
// milliseconds after base.
func drain(o *order, final bool) []int {
	var got []int
	for {
		p, ok, _ := o.next(final)
		if !ok {
			return got
		}
		got = append(got, int(p.Info.Timestamp.Sub(base)/time.Millisecond))
	}
}

// TestOrderMergesInterfaces: a tap's two directions, each delivered in
// its own blocks, come out in timestamp order as long as the other
// interface has a packet queued; then the rest waits for a watermark.
func TestOrderMergesInterfaces(t *testing.T) {
	o := newOrder(2, 2*time.Second)
	o.add(0, []capture.Packet{at(0, 1), at(30, 2)})  // INVITE, ACK
	o.add(1, []capture.Packet{at(10, 1), at(20, 2)}) // 100, 200
	o.add(0, []capture.Packet{at(40, 3)})
	if got, want := drain(o, false), []int{0, 10, 20}; !slices.Equal(got, want) {
		t.Fatalf("handed out %v, want %v before interface 1 is empty", got, want)
	}
	if _, ok, due := o.next(false); ok || !due.Equal(ms2t(2030)) {
		t.Fatalf("the ACK: ok %v, due %v; want to wait, at most until its time + fallback", ok, due.Sub(base))
	}
	o.mark(1, ms2t(40))
	if got, want := drain(o, false), []int{30, 40}; !slices.Equal(got, want) {
		t.Fatalf("after interface 1's watermark at 40 ms: %v, want %v", got, want)
	}
	if _, ok, due := o.next(false); ok || !due.IsZero() || !o.empty() {
		t.Fatalf("empty order: ok %v due %v", ok, due)
	}
}

// TestOrderWaitsForWatermark: a packet of interface 0 waits while
// interface 1 has neither a packet queued nor a watermark at or past it;
// a watermark at its time releases it, and a later one the next.
func TestOrderWaitsForWatermark(t *testing.T) {
	o := newOrder(2, 2*time.Second)
	o.add(0, []capture.Packet{at(100, 1), at(200, 2)})
	if _, ok, due := o.next(false); ok || !due.Equal(ms2t(2100)) {
		t.Fatalf("without a watermark: ok %v, due %v", ok, due.Sub(base))
	}
	o.mark(1, ms2t(99))
	if _, ok, _ := o.next(false); ok {
		t.Fatal("handed out a packet at 100 ms with interface 1 complete only up to 99 ms")
	}
	o.mark(1, ms2t(100))
	if got := drain(o, false); !slices.Equal(got, []int{100}) {
		t.Fatalf("with interface 1 complete up to 100 ms: %v, want [100]", got)
	}
	o.mark(1, ms2t(50)) // an older watermark does not take it back
	if _, ok, due := o.next(false); ok || !due.Equal(ms2t(2200)) {
		t.Fatalf("the packet at 200 ms: ok %v, due %v", ok, due.Sub(base))
	}
	o.mark(1, ms2t(250))
	if got := drain(o, false); !slices.Equal(got, []int{200}) {
		t.Fatalf("with interface 1 complete up to 250 ms: %v, want [200]", got)
	}
}

// TestOrderWaitsForEveryInterface: with three interfaces, a packet waits
// for the one that has neither a packet nor a watermark, whatever the
// others have.
func TestOrderWaitsForEveryInterface(t *testing.T) {
	o := newOrder(3, 2*time.Second)
	o.add(2, []capture.Packet{at(100, 1)})
	o.add(0, []capture.Packet{at(150, 1)})
	if _, ok, _ := o.next(false); ok {
		t.Fatal("handed out a packet while interface 1 may still deliver older ones")
	}
	o.mark(1, ms2t(120))
	if got := drain(o, false); !slices.Equal(got, []int{100}) {
		t.Fatalf("interface 1 complete up to 120 ms: %v, want [100]", got)
	}
}

// TestOrderFinalDoesNotWait: when no interface will deliver more, every
// queued packet comes out at once, in order.
func TestOrderFinalDoesNotWait(t *testing.T) {
	o := newOrder(2, time.Second)
	o.add(1, []capture.Packet{at(0, 1), at(20, 2)})
	o.add(0, []capture.Packet{at(10, 1)})
	o.add(0, []capture.Packet{at(30, 2)})
	if got := drain(o, false); !slices.Equal(got, []int{0, 10, 20}) {
		t.Fatalf("before the end: %v, want [0 10 20]", got)
	}
	if got := drain(o, true); !slices.Equal(got, []int{30}) || !o.empty() {
		t.Fatalf("final: %v, want [30]", got)
	}
}

// TestOrderOneInterfaceNeverWaits: a single interface's packets come out
// at once.
func TestOrderOneInterfaceNeverWaits(t *testing.T) {
	o := newOrder(1, time.Second)
	o.add(0, []capture.Packet{at(0, 1), at(5, 2)})
	if got := drain(o, false); !slices.Equal(got, []int{0, 5}) {
		t.Fatalf("handed out %v, want [0 5]", got)
	}
}

// TestOrderKeepsOrder replays random traffic on three interfaces whose
// batches and watermarks arrive in random interleavings, never a
// watermark ahead of a packet its interface has not delivered: every
// packet comes out, in timestamp order.
func TestOrderKeepsOrder(t *testing.T) {
	for seed := range uint64(200) {
		r := rand.New(rand.NewPCG(seed, 1))
		const n = 3
		var pending [n][]int // per interface: packet times in ms, in order
		var want []int
		for i := range pending {
			ms := 0
			for range r.IntN(40) {
				ms += r.IntN(30)
				pending[i] = append(pending[i], ms)
			}
			want = append(want, pending[i]...)
		}
		slices.Sort(want)
		o := newOrder(n, time.Second)
		var got []int
		for range 1000 {
			i := r.IntN(n)
			switch k := r.IntN(3); {
			case k == 0 && len(pending[i]) > 0: // a batch
				m := 1 + r.IntN(len(pending[i]))
				var b []capture.Packet
				for _, ms := range pending[i][:m] {
					b = append(b, at(ms, 0))
				}
				o.add(i, b)
				pending[i] = pending[i][m:]
			case k == 1: // a watermark no later than the next packet
				upTo := 2000
				if len(pending[i]) > 0 {
					upTo = pending[i][0] - r.IntN(5)
				}
				o.mark(i, ms2t(upTo))
			default:
				got = append(got, drain(o, false)...)
			}
		}
		for i := range pending {
			var b []capture.Packet
			for _, ms := range pending[i] {
				b = append(b, at(ms, 0))
			}
			o.add(i, b)
		}
		got = append(got, drain(o, true)...)
		if !slices.Equal(got, want) {
			t.Fatalf("seed %d: handed out %v, want %v", seed, got, want)
		}
	}
}

// TestOrderComplete: a tick's time is the lowest watermark, but no more
// than the fallback behind the wall clock.
func TestOrderComplete(t *testing.T) {
	o := newOrder(2, 2*time.Second)
	now := ms2t(10000)
	if got := o.complete(now); !got.Equal(ms2t(8000)) {
		t.Errorf("without watermarks: %v, want the fallback's 8 s", got.Sub(base))
	}
	o.mark(0, ms2t(9900))
	o.mark(1, ms2t(9850))
	if got := o.complete(now); !got.Equal(ms2t(9850)) {
		t.Errorf("with watermarks at 9.9 s and 9.85 s: %v, want 9.85 s", got.Sub(base))
	}
	if got := newOrder(1, 2*time.Second); !got.complete(now).Equal(ms2t(8000)) {
		t.Errorf("one interface without a watermark: %v", got.complete(now).Sub(base))
	}
}
