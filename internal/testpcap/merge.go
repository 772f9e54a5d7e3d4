package testpcap

import (
	"cmp"
	"container/heap"
	"iter"
	"slices"
)

// Merge returns the packets of calls in timestamp order; packets at the
// same time come in the order of their calls in the slice. A call starts
// playing when the merge reaches its Start and holds one pending packet
// while it is open, so memory follows the calls open at once, not the
// length of the load. Each iteration plays the calls anew.
func Merge(calls []Call) iter.Seq[Packet] {
	return func(yield func(Packet) bool) {
		order := make([]int, len(calls))
		for i := range order {
			order[i] = i
		}
		slices.SortStableFunc(order, func(a, b int) int { return calls[a].Start.Compare(calls[b].Start) })

		var open openCalls
		defer func() {
			for _, c := range open {
				c.stop()
			}
		}()
		next := 0
		for {
			// A call's first packet is at its Start: start every call
			// that may come before the earliest pending packet.
			for next < len(order) && (len(open) == 0 || !calls[order[next]].Start.After(open[0].pkt.Time)) {
				i := order[next]
				next++
				pull, stop := iter.Pull(calls[i].Packets())
				if p, ok := pull(); ok {
					heap.Push(&open, &openCall{pkt: p, call: i, pull: pull, stop: stop})
				} else {
					stop()
				}
			}
			if len(open) == 0 {
				return
			}
			c := open[0]
			if !yield(c.pkt) {
				return
			}
			if p, ok := c.pull(); ok {
				c.pkt = p
				heap.Fix(&open, 0)
			} else {
				c.stop()
				heap.Pop(&open)
			}
		}
	}
}

// openCall is a call being played, with its next packet.
type openCall struct {
	pkt  Packet
	call int // index in the slice given to Merge
	pull func() (Packet, bool)
	stop func()
}

// openCalls is a heap of open calls by time of their next packet.
type openCalls []*openCall

func (h openCalls) Len() int { return len(h) }
func (h openCalls) Less(i, j int) bool {
	if c := h[i].pkt.Time.Compare(h[j].pkt.Time); c != 0 {
		return c < 0
	}
	return cmp.Less(h[i].call, h[j].call)
}
func (h openCalls) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *openCalls) Push(x any)   { *h = append(*h, x.(*openCall)) }
func (h *openCalls) Pop() any {
	old := *h
	c := old[len(old)-1]
	*h = old[:len(old)-1]
	return c
}
