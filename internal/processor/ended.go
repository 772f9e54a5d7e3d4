package processor

import (
	"time"

	"github.com/lc-voip/lc/internal/sip"
)

// endedWindow is how long, in packet time after its grace period, an ended
// call's Call-ID is remembered: 64×T1 (T1 = 500 ms), the longest a
// non-INVITE transaction may retransmit (RFC 3261 §17.1.2.2).
const endedWindow = 64 * 500 * time.Millisecond

// endedCall is what is remembered of a call after it ended.
type endedCall struct {
	dirname    string    // the call's directory, which a later call follows
	inviteCSeq uint32    // highest CSeq of its INVITEs
	until      time.Time // when it is forgotten
}

// endedCalls remembers the Call-IDs of ended calls for endedWindow, so that
// late retransmissions do not start calls of their own: a message for an
// ended Call-ID goes to the "other" files unless it is a new INVITE
// transaction. At most max are remembered; past that the oldest is
// forgotten early, and counted.
type endedCalls struct {
	byID   map[string]endedCall
	order  []endedRef // oldest first; may hold entries already forgotten or replaced
	max    int
	evicts int64 // forgotten early to stay within max
}

// endedRef is an entry of the order in which Call-IDs were remembered: it
// is current while byID holds the same until for its id.
type endedRef struct {
	id    string
	until time.Time
}

// current reports whether r is still what byID remembers.
func (e *endedCalls) current(r endedRef) bool {
	ec, ok := e.byID[r.id]
	return ok && ec.until.Equal(r.until)
}

func newEndedCalls(max int) endedCalls {
	return endedCalls{byID: make(map[string]endedCall), max: max}
}

// remember keeps c's Call-ID until now + endedWindow.
func (e *endedCalls) remember(c *call, now time.Time) {
	for len(e.byID) >= e.max && len(e.order) > 0 {
		if e.current(e.order[0]) {
			delete(e.byID, e.order[0].id)
			e.evicts++
		}
		e.order = e.order[1:]
	}
	until := now.Add(endedWindow)
	e.byID[c.id] = endedCall{dirname: c.dirname, inviteCSeq: c.inviteCSeq, until: until}
	e.order = append(e.order, endedRef{c.id, until})
}

// expire forgets the Call-IDs whose window has passed at now.
func (e *endedCalls) expire(now time.Time) {
	for len(e.order) > 0 {
		r := e.order[0]
		if e.current(r) {
			if now.Before(r.until) {
				return
			}
			delete(e.byID, r.id)
		}
		e.order[0] = endedRef{}
		e.order = e.order[1:]
	}
}

// late returns the ended call m belongs to, when m is a late message of
// it rather than the start of a new INVITE transaction (an INVITE with a
// CSeq above any of the call's).
// It keeps nothing of m, whose strings may alias the packet.
func (e *endedCalls) late(m *sip.Message) (endedCall, bool) {
	ec, ok := e.byID[m.CallID]
	if !ok {
		return endedCall{}, false
	}
	return ec, !(m.Request && m.Method == "INVITE" && m.CSeq > ec.inviteCSeq)
}

// forget drops id: a new call under it has started.
func (e *endedCalls) forget(id string) { delete(e.byID, id) }
