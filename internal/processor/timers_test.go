package processor

import (
	"testing"
	"time"
)

func TestTimersLazy(t *testing.T) {
	var tm timers
	a, b := &call{seq: 1}, &call{seq: 2}
	tm.schedule(a, t0.Add(10*time.Second))
	tm.schedule(b, t0.Add(5*time.Second))
	tm.schedule(a, t0.Add(20*time.Second)) // later: ignored, the earlier entry stands
	tm.schedule(a, t0.Add(3*time.Second))  // earlier: supersedes

	if c, ok := tm.next(t0.Add(time.Second)); ok {
		t.Fatalf("nothing is due yet, got call %d", c.seq)
	}
	var order []uint64
	for {
		c, ok := tm.next(t0.Add(time.Minute))
		if !ok {
			break
		}
		order = append(order, c.seq)
	}
	if len(order) != 2 || order[0] != 1 || order[1] != 2 {
		t.Fatalf("due order = %v, want [1 2] (each call once)", order)
	}
}

func TestTimersTieBreakBySeq(t *testing.T) {
	var tm timers
	at := t0.Add(time.Second)
	for _, seq := range []uint64{3, 1, 2} {
		tm.schedule(&call{seq: seq}, at)
	}
	for want := uint64(1); want <= 3; want++ {
		c, ok := tm.next(at)
		if !ok || c.seq != want {
			t.Fatalf("got %v, want call %d", c, want)
		}
	}
}
