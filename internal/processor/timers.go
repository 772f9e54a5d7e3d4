package processor

import (
	"container/heap"
	"time"
)

// timers orders calls by the time they must be looked at. Entries are
// lazy: a call's real deadline only moves later with activity (idle
// timeout) or is set earlier by a state change; an entry that pops before
// the call's real deadline is pushed again at the right time. A call has at
// most one live entry: the one whose time equals call.timerAt.
type timers []timerEntry

type timerEntry struct {
	at time.Time
	c  *call
}

func (t timers) Len() int { return len(t) }
func (t timers) Less(i, j int) bool {
	if !t[i].at.Equal(t[j].at) {
		return t[i].at.Before(t[j].at)
	}
	return t[i].c.seq < t[j].c.seq
}
func (t timers) Swap(i, j int) { t[i], t[j] = t[j], t[i] }
func (t *timers) Push(x any)   { *t = append(*t, x.(timerEntry)) }
func (t *timers) Pop() any {
	old := *t
	e := old[len(old)-1]
	*t = old[:len(old)-1]
	return e
}

// schedule makes sure the heap looks at c no later than at.
func (t *timers) schedule(c *call, at time.Time) {
	if !c.timerAt.IsZero() && !at.Before(c.timerAt) {
		return
	}
	c.timerAt = at
	heap.Push(t, timerEntry{at: at, c: c})
}

// next pops the first entry due at or before now whose call still wants
// it; ok is false when none is due.
func (t *timers) next(now time.Time) (c *call, ok bool) {
	for t.Len() > 0 && !(*t)[0].at.After(now) {
		e := heap.Pop(t).(timerEntry)
		if !e.at.Equal(e.c.timerAt) {
			continue // superseded by an earlier entry, or the call is gone
		}
		e.c.timerAt = time.Time{}
		return e.c, true
	}
	return nil, false
}
