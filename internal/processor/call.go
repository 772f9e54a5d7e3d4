package processor

import (
	"hash/maphash"
	"slices"
	"time"

	"github.com/lc-voip/lc/internal/event"
	"github.com/lc-voip/lc/internal/sip"
)

// phase is where a call is in its life.
type phase uint8

const (
	phaseEarly    phase = iota // INVITE sent, no 2xx yet
	phaseAuth                  // challenged with 401/407, waiting for the new INVITE
	phaseAnswered              // 2xx to the INVITE seen
	phaseEnded                 // terminal state reached, waiting for the grace period
)

// call is one INVITE dialog (all legs under one Call-ID).
type call struct {
	id      string
	seq     uint64 // creation order; breaks ties deterministically
	dirname string
	caller  string
	called  string
	partial bool
	follows string // directory of the ended call of the same Call-ID this one follows

	first, last time.Time
	phase       phase
	endState    event.CallState // meaningful in phaseEnded
	status      int
	inviteCSeq  uint32
	deadline    time.Time // end of the grace period or of the auth wait; zero when none

	sip, rtp  stream
	streams   []event.Stream
	endpoints []endpoint
	sdp       sdpMemory // the SDP bodies learned last, to know them again
	timerAt   time.Time // the deadline the timer heap holds for this call; zero when none
}

// The functions below take messages filled by sip.ParseInto, whose strings
// alias the packet: they read them and keep none.

// startsCall reports whether a message for an unknown Call-ID opens a call:
// an INVITE, or an in-dialog request or response of an INVITE dialog (the
// capture then started mid-call).
func startsCall(m *sip.Message) bool {
	method := m.Method
	if !m.Request {
		method = m.CSeqMethod
	}
	switch method {
	case "INVITE", "ACK", "BYE", "CANCEL", "PRACK", "UPDATE", "INFO":
		return true
	}
	return false
}

// opensFresh reports whether m is the initial INVITE of a dialog, so a call
// started by it is not partial.
func opensFresh(m *sip.Message) bool {
	return m.Request && m.Method == "INVITE" && m.To.Tag == ""
}

// update moves the call's state for message m seen at ts. It does not touch
// media: see learnSDP.
func (c *call) update(m *sip.Message, ts time.Time, cfg *Config) {
	if m.Request {
		switch m.Method {
		case "INVITE":
			if m.CSeq > c.inviteCSeq && m.To.Tag == "" || c.inviteCSeq == 0 {
				// A new initial INVITE: the retry after a challenge, or a new
				// attempt after a failure. It revives an ended call.
				if c.phase == phaseAuth || c.phase == phaseEnded && c.endState != event.StateCompleted {
					c.phase, c.deadline = phaseEarly, time.Time{}
				}
			}
			c.inviteCSeq = max(c.inviteCSeq, m.CSeq)
		case "CANCEL":
			if c.phase == phaseEarly || c.phase == phaseAuth {
				c.end(event.StateCancelled, ts, cfg.Grace)
			}
		case "BYE":
			if c.phase != phaseEnded {
				c.end(event.StateCompleted, ts, cfg.Grace)
			}
		}
		return
	}
	if m.CSeqMethod == "BYE" && m.StatusCode >= 200 && c.phase != phaseEnded {
		// The answer to a BYE the capture missed (it started mid-call).
		c.end(event.StateCompleted, ts, cfg.Grace)
		return
	}
	if m.CSeqMethod != "INVITE" || m.StatusCode < 200 {
		return
	}
	code := m.StatusCode
	switch {
	case code < 300:
		if c.phase == phaseAnswered {
			return // a re-INVITE's answer or a retransmission
		}
		if c.phase == phaseEnded && c.endState == event.StateCompleted {
			return
		}
		c.phase, c.deadline, c.status = phaseAnswered, time.Time{}, code
	case code == 401 || code == 407:
		if c.phase == phaseEarly {
			c.phase, c.status = phaseAuth, code
			c.deadline = ts.Add(cfg.AuthWait)
		}
	default:
		if c.phase == phaseEarly || c.phase == phaseAuth {
			c.status = code
			state := event.StateFailed
			if code == 487 {
				state = event.StateCancelled
			}
			c.end(state, ts, cfg.Grace)
		} else if c.phase == phaseEnded && c.endState == event.StateCancelled && c.status == 0 {
			c.status = code // the final answer to a cancelled INVITE
		}
	}
}

// end puts the call in its terminal state and starts the grace period.
func (c *call) end(state event.CallState, ts time.Time, grace time.Duration) {
	c.phase, c.endState = phaseEnded, state
	c.deadline = ts.Add(grace)
}

// due returns when the call must end, and how, if nothing else happens.
func (c *call) due(cfg *Config) (time.Time, event.CallState) {
	at, state := c.last.Add(cfg.IdleTimeout), event.StateTimeout
	if t := c.first.Add(cfg.MaxCallDuration); t.Before(at) {
		at, state = t, event.StateMaxDuration
	}
	if !c.deadline.IsZero() && c.deadline.Before(at) {
		at = c.deadline
		switch c.phase {
		case phaseAuth:
			state = event.StateFailed
		case phaseEnded:
			state = c.endState
		}
	}
	return at, state
}

// sdpMemory remembers the SDP bodies a call learned last, an offer and its
// answer, so that a retransmission or a session refresh that repeats one
// of them is known without parsing it again: parsing allocates, and
// learning it again would change nothing. It holds keyed 64-bit hashes of
// the bodies rather than the bodies, so a call costs the same memory
// whatever its SDP. Two different bodies share a hash by chance only,
// about once in 2^64: the seed is random, made per call, and never leaves
// the process.
//
// What is remembered holds while the call's media are as learning it left
// them: while len(call.endpoints) is ends (learning appends to it whenever
// it moves an endpoint) and every endpoint of the call still maps to it
// (no later SDP of another call took one). The zero value remembers
// nothing.
type sdpMemory struct {
	seed maphash.Seed // made with the first hash
	sums [2]uint64    // hashes of the bodies, the latest learned last
	n    int          // how many of sums are in use
	ends int          // len(call.endpoints) when sums were recorded
}

// knownSDP reports whether learning body again would change nothing: c
// learned it lately and its media are as that left them.
func (c *call) knownSDP(body []byte, mi mediaIndex) bool {
	s := &c.sdp
	if s.n == 0 || len(c.endpoints) != s.ends {
		return false
	}
	for _, ep := range c.endpoints {
		if mi[ep].c != c {
			return false
		}
	}
	return slices.Contains(s.sums[:s.n], maphash.Bytes(s.seed, body))
}

// learnSDP records the media of sess, parsed from body, for c in mi, and
// remembers body. When learning moved an endpoint, the bodies remembered
// before are forgotten: learning them again might move it back.
func (c *call) learnSDP(body []byte, sess *sip.Session, mi mediaIndex) {
	before := len(c.endpoints)
	mi.learn(c, sess)
	s := &c.sdp
	if len(c.endpoints) != before || before != s.ends {
		s.n = 0
	}
	if s.seed == (maphash.Seed{}) {
		s.seed = maphash.MakeSeed()
	}
	sum := maphash.Bytes(s.seed, body)
	if i := slices.Index(s.sums[:s.n], sum); i >= 0 {
		s.n = len(slices.Delete(s.sums[:s.n], i, i+1))
	} else if s.n == len(s.sums) {
		s.n = len(slices.Delete(s.sums[:s.n], 0, 1))
	}
	s.sums[s.n] = sum // the newest last
	s.n++
	s.ends = len(c.endpoints)
}
