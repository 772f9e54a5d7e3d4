package processor

import (
	"time"

	"github.com/lc-voip/lc/internal/capture"
)

// How one packet is kept from breaking the clock. A timestamp further
// than clockJump from the clock is suspect: the packet is held, and the
// clock jumps to it only when the packets after it agree (clockConfirm
// of them in a row, or two or more spanning clockConfirmSpan of packet
// time). A packet that agrees with the clock instead releases the held
// ones as strays: they are written as captured, but counted
// (future-timestamp, past-timestamp) and processed as of the clock.
const (
	clockJump        = time.Minute
	clockConfirm     = 8
	clockConfirmSpan = time.Second
)

// The timestamps the clock may take at all: 1990 to 2100.
var (
	saneFrom  = time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC)
	saneUntil = time.Date(2101, 1, 1, 0, 0, 0, 0, time.UTC)
)

// sane reports whether ts is a timestamp the clock may take at all.
func sane(ts time.Time) bool { return !ts.Before(saneFrom) && ts.Before(saneUntil) }

// near reports whether ts is within clockJump of the clock.
func near(ts, clock time.Time) bool {
	d := ts.Sub(clock)
	return d <= clockJump && d >= -clockJump
}

// jumpCandidate is the packets held since the first suspect one, all
// agreeing with each other: the clock may be about to jump to them.
type jumpCandidate struct {
	held   []*capture.Packet
	lo, hi time.Time // earliest and latest timestamps held
}

// agrees reports whether ts belongs with the held packets.
func (j *jumpCandidate) agrees(ts time.Time) bool {
	return len(j.held) > 0 && !ts.Before(j.lo.Add(-clockJump)) && !ts.After(j.hi.Add(clockJump))
}

// add holds p.
func (j *jumpCandidate) add(p *capture.Packet) {
	ts := p.Info.Timestamp
	if len(j.held) == 0 || ts.Before(j.lo) {
		j.lo = ts
	}
	if len(j.held) == 0 || ts.After(j.hi) {
		j.hi = ts
	}
	j.held = append(j.held, p)
}

// confirmed reports whether the held packets are enough to move the
// clock.
func (j *jumpCandidate) confirmed() bool {
	return len(j.held) >= clockConfirm || len(j.held) >= 2 && j.hi.Sub(j.lo) >= clockConfirmSpan
}

// take returns the held packets and forgets them.
func (j *jumpCandidate) take() []*capture.Packet {
	held := j.held
	*j = jumpCandidate{held: held[:0:0]}
	return held
}

// timed processes a packet whose timestamp the clock accepts or is
// guarded against. See the constants above for the rule.
func (p *Processor) timed(pkt *capture.Packet) {
	ts := pkt.Info.Timestamp
	switch {
	case !sane(ts):
		p.note("absurd-timestamp")
		p.decode(pkt, true)
	case p.clock.IsZero() || near(ts, p.clock):
		if len(p.jump.held) > 0 {
			p.releaseStrays()
		}
		p.advance(ts)
		p.decode(pkt, false)
	default:
		if !p.jump.agrees(ts) {
			p.releaseStrays()
		}
		p.jump.add(pkt)
		if p.jump.confirmed() {
			p.releaseJump()
		}
	}
}

// decode ends what ended before pkt, then decodes it; a stray is
// processed as of the clock (see Processor.when).
func (p *Processor) decode(pkt *capture.Packet, stray bool) {
	p.expire()
	p.stray = stray
	p.dec.Decode(pkt, p.onUnit)
	p.stray = false
}

// releaseStrays processes the held packets as strays: the traffic after
// them did not agree with their time.
func (p *Processor) releaseStrays() {
	for _, pkt := range p.jump.take() {
		if pkt.Info.Timestamp.After(p.clock) {
			p.note("future-timestamp")
		} else {
			p.note("past-timestamp")
		}
		p.decode(pkt, true)
	}
}

// releaseJump moves the clock to the held packets, forwards or backwards,
// and processes them at their own times.
func (p *Processor) releaseJump() {
	held := p.jump.take()
	p.note("clock-jump")
	p.log.Info("the capture's time jumped", "from", p.clock, "to", held[0].Info.Timestamp, "packets", len(held))
	p.clock = held[0].Info.Timestamp
	p.nextExpire = p.clock.Add(decodeExpireEvery)
	for _, pkt := range held {
		p.advance(pkt.Info.Timestamp)
		p.decode(pkt, false)
	}
}

// when is the time a packet stamped ts counts as for calls and files: its
// own, or the clock's while a stray is processed.
func (p *Processor) when(ts time.Time) time.Time {
	if p.stray && !p.clock.IsZero() {
		return p.clock
	}
	return ts
}
