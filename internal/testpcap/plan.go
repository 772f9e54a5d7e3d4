package testpcap

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"
	"time"
)

// Defaults of a load: about 1.4 million packets, 300 MB as a pcap.
const (
	DefaultLoadCalls  = 1500
	DefaultConcurrent = 400
	DefaultTalk       = 10 * time.Second
	// MaxLoadCalls is the most calls a load holds: each call has
	// addresses of its own from the NewDialog family.
	MaxLoadCalls = 65535
)

// Ring times are uniform in [minRing, maxRing].
const (
	minRing = 500 * time.Millisecond
	maxRing = 4500 * time.Millisecond
)

// LoadConfig describes a synthetic load: how many calls, how many open at
// once, how long they last and which kinds they are. Every field is used
// as given, zero included; start from DefaultLoadConfig.
type LoadConfig struct {
	Calls int // calls in the load, 1 to MaxLoadCalls
	// Concurrent is the mean number of calls open at once after the
	// arrivals have ramped up; it sets the arrival rate. The peak is
	// somewhat higher (see Peak).
	Concurrent int
	// Talk is the mean media time of an answered call: each call's is
	// uniform in [Talk/4, 7*Talk/4]. Ring times are uniform in
	// [0.5 s, 4.5 s].
	Talk  time.Duration
	Seed  uint64    // the same config gives the same load
	Start time.Time // arrival of the first call, after 1970

	// Fractions of the calls, each in [0, 1] and rounded to whole
	// calls, that are of a kind. Kinds are drawn independently, except
	// that a cancelled call has no re-INVITE: ReInvite+Cancel is at
	// most 1. The others use G.711 µ-law over UDP.
	G729     float64 // G.729 instead of G.711 µ-law
	TCP      float64 // SIP over TCP
	ReInvite float64 // a re-INVITE moves the caller's media
	Cancel   float64 // cancelled while ringing

	RTCP bool // RTCP sender reports in every answered call
}

// DefaultLoadConfig returns the default load: 1,500 calls, 400 open at
// once, 10 s of talk on average; 15% G.729, 10% SIP over TCP, 10% with a
// re-INVITE, 8% cancelled; RTCP on; seed 1.
func DefaultLoadConfig() LoadConfig {
	return LoadConfig{
		Calls: DefaultLoadCalls, Concurrent: DefaultConcurrent, Talk: DefaultTalk,
		Seed: 1, Start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		G729: 0.15, TCP: 0.10, ReInvite: 0.10, Cancel: 0.08, RTCP: true,
	}
}

// Validate reports every problem of the config.
func (c LoadConfig) Validate() error {
	var errs []error
	if c.Calls < 1 || c.Calls > MaxLoadCalls {
		errs = append(errs, fmt.Errorf("calls %d: want 1 to %d", c.Calls, MaxLoadCalls))
	}
	if c.Concurrent < 1 {
		errs = append(errs, fmt.Errorf("concurrent calls %d: want at least 1", c.Concurrent))
	}
	if c.Talk < PacketTime {
		errs = append(errs, fmt.Errorf("talk time %v: want at least %v", c.Talk, PacketTime))
	}
	if c.Start.Unix() < 0 {
		errs = append(errs, fmt.Errorf("start %v: want 1970 or later", c.Start))
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"G.729", c.G729}, {"TCP", c.TCP}, {"re-INVITE", c.ReInvite}, {"cancel", c.Cancel}} {
		if !(f.v >= 0 && f.v <= 1) {
			errs = append(errs, fmt.Errorf("%s fraction %v: want 0 to 1", f.name, f.v))
		}
	}
	if c.ReInvite+c.Cancel > 1 {
		errs = append(errs, fmt.Errorf("re-INVITE and cancel fractions add up to %v: want at most 1", c.ReInvite+c.Cancel))
	}
	return errors.Join(errs...)
}

// Plan returns the calls of a load by start time. Arrivals are a Poisson
// process whose rate keeps Concurrent calls open on average; call i has
// the addresses of NewDialog(i+1), with its SIP client on an ephemeral
// port when it goes over TCP.
func Plan(cfg LoadConfig) ([]Call, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("load config: %w", err)
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x6c632d6c6f6164)) // "lc-load"
	n := cfg.Calls
	g729 := pick(rng, n, cfg.G729, nil)
	tcp := pick(rng, n, cfg.TCP, nil)
	cancel := pick(rng, n, cfg.Cancel, nil)
	reinvite := pick(rng, n, cfg.ReInvite, cancel)

	hold := (minRing+maxRing)/2 + 4*sipStep + time.Duration((1-cfg.Cancel)*float64(cfg.Talk))
	gap := float64(hold) / float64(cfg.Concurrent)
	calls := make([]Call, n)
	at := cfg.Start.Truncate(time.Microsecond)
	for i := range calls {
		if i > 0 {
			at = at.Add(micros(rng.ExpFloat64() * gap))
		}
		d := NewDialog(i + 1)
		c := Call{
			Dialog: d, Start: at, Codec: PCMU,
			TCP: tcp[i], Cancelled: cancel[i], ReInvite: reinvite[i], RTCP: cfg.RTCP,
			Ring: micros(float64(minRing) + rng.Float64()*float64(maxRing-minRing)),
			Talk: micros(float64(cfg.Talk) * (0.25 + 1.5*rng.Float64())),
			Seed: rng.Uint64(),
		}
		if g729[i] {
			c.Codec = G729
		}
		if c.TCP {
			c.Dialog.Caller = netip.AddrPortFrom(d.Caller.Addr(), 49152+uint16(i%16384))
		}
		calls[i] = c
	}
	return calls, nil
}

// pick returns n flags of which round(n*frac) are set, chosen at random
// among the indices not set in exclude (all when exclude is nil).
func pick(rng *rand.Rand, n int, frac float64, exclude []bool) []bool {
	var free []int
	for i := range n {
		if exclude == nil || !exclude[i] {
			free = append(free, i)
		}
	}
	rng.Shuffle(len(free), func(i, j int) { free[i], free[j] = free[j], free[i] })
	k := min(int(math.Round(float64(n)*frac)), len(free))
	set := make([]bool, n)
	for _, i := range free[:k] {
		set[i] = true
	}
	return set
}

// micros returns ns nanoseconds as a Duration truncated to microseconds.
func micros(ns float64) time.Duration {
	return time.Duration(ns).Truncate(time.Microsecond)
}

// Peak returns the most calls open at once, a call being open from its
// Start to its End, both included.
func Peak(calls []Call) int {
	type edge struct {
		at   time.Time
		open int // +1 at a start, -1 after an end
	}
	edges := make([]edge, 0, 2*len(calls))
	for _, c := range calls {
		edges = append(edges, edge{c.Start, 1}, edge{c.End(), -1})
	}
	slices.SortFunc(edges, func(a, b edge) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return b.open - a.open // starts before ends at the same time
	})
	open, peak := 0, 0
	for _, e := range edges {
		open += e.open
		peak = max(peak, open)
	}
	return peak
}
