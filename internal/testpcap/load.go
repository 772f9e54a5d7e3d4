package testpcap

import (
	"slices"
	"time"
)

// Calls returns n complete UDP calls, each with rtp RTP packets per
// direction, starting every gap from start and overlapping in time, merged
// in timestamp order: the shape of a busy trunk.
func Calls(n, rtp int, start time.Time, gap time.Duration) []Packet {
	var all []Packet
	for i := range n {
		t := Timeline{Now: start.Add(time.Duration(i) * gap)}
		t.BasicCall(NewDialog(i), rtp)
		all = append(all, t.Pkts...)
	}
	slices.SortStableFunc(all, func(a, b Packet) int { return a.Time.Compare(b.Time) })
	return all
}
