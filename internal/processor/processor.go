package processor

import (
	"cmp"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"time"

	"github.com/lc-voip/lc/internal/capture"
	"github.com/lc-voip/lc/internal/decode"
	"github.com/lc-voip/lc/internal/event"
	"github.com/lc-voip/lc/internal/sip"
)

// decodeExpireEvery is how often, in packet time, the decoder is asked to
// give up on incomplete fragments and stale TCP streams.
const decodeExpireEvery = time.Second

// Processor follows calls through a stream of packets and writes them to
// pcap files. It is used by one goroutine; only Counters may be read from
// others. It follows at most Config.MaxCalls calls at once: a message that
// would start another is written to the "other" files and counted as
// call-limit, so a flood of INVITEs cannot make it hold unbounded memory,
// while the calls it already follows go on.
type Processor struct {
	cfg    Config
	out    *outDir // cfg.OutputDir, held open: every path lc makes is resolved beneath it
	log    *slog.Logger
	emit   func(event.Event)
	ledger Ledger // nopLedger without Config.Ledger
	dec    *decode.Decoder
	// onUnit is p.unit as a func value made once: a method value built per
	// packet would allocate.
	onUnit func(decode.Unit)
	files  *fileCache
	calls  map[string]*call
	ended  endedCalls // Call-IDs of calls ended lately, for their late messages
	media  mediaIndex
	timer  timers
	other  stream

	limitLog      time.Time     // packet time of the last warning that MaxCalls was reached
	warnedDirname bool          // sameDirname warned
	clock         time.Time     // packet time: the latest sane timestamp seen (see clock.go)
	jump          jumpCandidate // packets far from the clock, held until confirmed or refuted
	stray         bool          // the packet being decoded counts as of the clock
	nextExpire    time.Time     // when to call dec.Expire next
	seq           uint64
	err           error // first write error; processing stops on it
	stats         Stats
	counters      Counters
}

// New validates cfg and returns a Processor writing under cfg.OutputDir.
func New(cfg Config) (*Processor, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	out, err := filepath.Abs(cfg.OutputDir)
	if err != nil {
		return nil, fmt.Errorf("output directory %q: %w", cfg.OutputDir, err)
	}
	root, err := openOutDir(out)
	if err != nil {
		return nil, fmt.Errorf("output directory %q: %w", out, err)
	}
	cfg.OutputDir = root.path
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	emit := cfg.Emit
	if emit == nil {
		emit = func(event.Event) {}
	}
	var ledger Ledger = nopLedger{}
	if cfg.Ledger != nil {
		ledger = cfg.Ledger
	}
	p := &Processor{
		cfg:    cfg,
		ledger: ledger,
		out:    root,
		log:    log.With("component", "processor"),
		calls:  make(map[string]*call),
		ended:  newEndedCalls(cfg.MaxCalls),
		media:  make(mediaIndex),
		stats:  newStats(),
	}
	z, err := newCompressor(cfg.Compress, root)
	if err != nil {
		root.close()
		return nil, err
	}
	p.files = newFileCache(cfg.MaxOpenFiles, root, &p.stats, z)
	p.emit = func(e event.Event) {
		if fc, ok := e.(event.FileClosed); ok {
			p.stats.Files++
			p.stats.FilesClosed[fc.Kind]++
		}
		emit(event.Identified(e))
	}
	p.dec = decode.New(decode.Config{Framer: frameSIP, MaxBufferedBytes: cfg.ReassemblyBytes})
	p.onUnit = p.unit
	p.other = stream{
		ledger:  p.ledger,
		kind:    event.KindOther,
		maxSize: cfg.RotateMaxSize,
		maxAge:  cfg.RotateMaxAge,
		name:    p.otherName,
	}
	return p, nil
}

// frameSIP adapts sip.Frame to the decoder's Framer contract.
func frameSIP(b []byte) (int, int, error) {
	skip, n, err := sip.Frame(b)
	if err == sip.ErrIncomplete {
		err = decode.ErrNeedMore
	}
	return skip, n, err
}

// Counters returns the live counters for progress displays.
func (p *Processor) Counters() *Counters { return &p.counters }

// publishEvery is how many packets pass between two publications of the
// stats for other goroutines (metrics, status lines).
const publishEvery = 4096

// Stats returns a copy of the run's figures so far. Only the processing
// goroutine may call it; others read Counters().Published().
func (p *Processor) Stats() Stats {
	s := p.stats.clone()
	s.Evicted = p.files.evictions
	s.OpenCalls = int64(len(p.calls))
	s.EndedForgotten = p.ended.evicts
	s.OpenFiles = int64(p.files.open)
	return s
}

// publish makes the current Stats visible to other goroutines.
func (p *Processor) publish() {
	s := p.Stats()
	p.counters.published.Store(&s)
}

// Packet processes one input packet. The Processor keeps pkt until it has
// been written; the caller must not modify it. A non-nil error is an output
// failure (disk full, permissions): the run should stop and Close.
func (p *Processor) Packet(pkt *capture.Packet) error {
	if p.err != nil {
		return p.err
	}
	p.stats.Packets++
	p.stats.Bytes += int64(len(pkt.Data))
	p.stats.LastPacket = pkt.Info.Timestamp
	p.counters.Packets.Add(1)
	if p.stats.Packets%publishEvery == 0 {
		p.publish()
	}
	p.timed(pkt)
	p.fail(p.files.takeErr())
	return p.err
}

// advance moves the clock to ts, a sane time near it. Packet time goes
// back only by a confirmed jump (see clock.go): a packet older than the
// clock is counted and processed at the current time.
func (p *Processor) advance(ts time.Time) {
	if ts.Before(p.clock) {
		p.note("out-of-order")
	} else {
		p.clock = ts
	}
	if p.nextExpire.IsZero() {
		p.nextExpire = p.clock.Add(decodeExpireEvery)
	}
}

// Tick moves the clock to now when now is later, without a packet: in live
// capture a wall-clock ticker calls it so that idle calls, grace periods and
// rotation still end when traffic stops. A now before the clock is ignored,
// as are absurd times. Held packets far from the clock (see clock.go) are
// a jump when now agrees with them, and strays otherwise. It also writes
// the open files' buffered records and publishes the stats for other
// goroutines.
func (p *Processor) Tick(now time.Time) {
	switch {
	case p.jump.agrees(now):
		p.releaseJump()
	case len(p.jump.held) > 0:
		p.releaseStrays()
	}
	if now.After(p.clock) && sane(now) {
		p.advance(now)
		p.expire()
	}
	// What live capture wrote reaches the files at every tick, so that a
	// kill loses at most the last second of it.
	p.fail(p.files.flushAll())
	p.publish()
}

// expire ends the calls and files whose time has come.
func (p *Processor) expire() {
	p.ended.expire(p.clock)
	for {
		c, ok := p.timer.next(p.clock)
		if !ok {
			break
		}
		at, state := c.due(&p.cfg)
		if at.After(p.clock) {
			p.timer.schedule(c, at)
			continue
		}
		p.endCall(c, state)
	}
	if cur := p.other.cur; cur != nil && p.clock.Sub(cur.touched) >= p.cfg.RotateIdle {
		p.other.close(p.files, event.ReasonIdle, p.emit)
	}
	if !p.clock.Before(p.nextExpire) {
		p.dec.Expire(p.clock, p.onUnit)
		p.nextExpire = p.clock.Add(decodeExpireEvery)
	}
}

// Close ends the run: it flushes the decoder, ends every open call with
// state shutdown (or the terminal state it already reached), closes every
// file and emits their events.
func (p *Processor) Close() error {
	p.releaseStrays() // nothing after them confirmed their time
	p.dec.Flush(p.onUnit)
	open := make([]*call, 0, len(p.calls))
	for _, c := range p.calls {
		open = append(open, c)
	}
	sortCalls(open)
	for _, c := range open {
		state := event.StateShutdown
		if c.phase == phaseEnded {
			state = c.endState
		}
		p.endCall(c, state)
	}
	p.other.close(p.files, event.ReasonShutdown, p.emit)
	p.fail(p.files.closeAll())
	p.fail(p.files.takeErr())
	p.fail(p.out.close())
	p.publish()
	return p.err
}

func (p *Processor) fail(err error) {
	if err != nil && p.err == nil {
		p.err = err
	}
}

func (p *Processor) note(reason string) { p.stats.Notes[reason]++ }

// limitLogEvery is how often, in packet time, reaching MaxCalls is logged.
const limitLogEvery = time.Minute

// refuseCall counts a message that would have started a call while
// MaxCalls calls are open: the call is not followed, and its packets go to
// the "other" files. It warns at most once every limitLogEvery.
func (p *Processor) refuseCall() {
	p.note("call-limit")
	if p.limitLog.IsZero() || p.clock.Sub(p.limitLog) >= limitLogEvery {
		p.limitLog = p.clock
		p.log.Warn("open calls at the limit: new calls are written to the other files until calls end",
			"max_calls", p.cfg.MaxCalls, "refused", p.stats.Notes["call-limit"])
	}
}

// unit classifies one decoded unit and writes its packets.
func (p *Processor) unit(u decode.Unit) {
	switch u.Kind {
	case decode.KindUDP, decode.KindTCP:
		if sip.LooksLikeSIP(u.Payload) {
			p.sipUnit(u)
			return
		}
		if u.Kind == decode.KindUDP {
			if o, ok := p.media.lookup(u.Src, u.Dst); ok {
				p.mediaUnit(o, u)
				return
			}
		}
	case decode.KindOther:
		if name := noteNames[u.Note]; name != "" {
			p.note(name)
		}
	}
	p.write(&p.other, u, p.cfg.OtherPcap)
}

var noteNames = map[decode.Note]string{
	decode.NoteUndecodable:      "undecodable",
	decode.NoteFragmentTimeout:  "fragment-timeout",
	decode.NoteFragmentOverflow: "fragment-overflow",
	decode.NoteTCPNotFramed:     "tcp-not-sip",
	decode.NoteTCPIncomplete:    "tcp-incomplete",
}

// sipUnit matches a SIP message to its call, updates the call and writes
// the message. A message of a call already followed costs no allocation:
// m lives on the stack and its strings alias u.Payload (sip.ParseInto), and
// an SDP body the call announced already is not parsed again. What creates
// state allocates: a new call keeps a copy of m, a new SDP body is parsed
// into a Session whose media the call keeps; so does what is counted as
// malformed, for its error.
func (p *Processor) sipUnit(u decode.Unit) {
	var m sip.Message
	if err := sip.ParseInto(&m, u.Payload); err != nil {
		p.note("malformed-sip")
		p.log.Debug("malformed SIP", "frame", u.Packets[0].Frame, "error", err)
		p.write(&p.other, u, p.cfg.OtherPcap)
		return
	}
	c := p.calls[m.CallID]
	if c == nil {
		prev, late := p.ended.late(&m)
		if late {
			p.note("late-for-ended-call")
			p.write(&p.other, u, p.cfg.OtherPcap)
			return
		}
		if !startsCall(&m) {
			p.write(&p.other, u, p.cfg.OtherPcap)
			return
		}
		if len(p.calls) >= p.cfg.MaxCalls {
			p.refuseCall()
			p.write(&p.other, u, p.cfg.OtherPcap)
			return
		}
		// The call keeps strings of the message (Call-ID, caller, called),
		// which must not alias the packet: give it a copy.
		c = p.newCall(m.Clone(), p.when(u.Packets[0].Info.Timestamp))
		if prev.dirname != "" {
			c.follows = prev.dirname
			p.ended.forget(m.CallID)
		}
		p.beginCall(c)
	}
	ts := p.when(u.Packets[len(u.Packets)-1].Info.Timestamp)
	c.update(&m, ts, &p.cfg)
	if body := m.SDPBody(); body != nil && !c.knownSDP(body, p.media) {
		if sess, err := sip.ParseSDP(body); err != nil {
			p.note("malformed-sdp")
			p.log.Debug("malformed SDP", "callid", c.id, "frame", u.Packets[0].Frame, "error", err)
		} else {
			c.learnSDP(body, sess, p.media)
		}
	}
	p.touch(c, ts)
	p.write(&c.sip, u, p.cfg.PerCallPcap)
}

func (p *Processor) mediaUnit(o mediaOwner, u decode.Unit) {
	c := o.c
	c.streams[o.stream].Packets += p.write(&c.rtp, u, p.cfg.PerCallPcap)
	// Media only moves the call's deadline later (see timers): once the
	// call has a timer entry, there is nothing to schedule.
	if ts := p.when(u.Packets[len(u.Packets)-1].Info.Timestamp); ts.After(c.last) && !c.timerAt.IsZero() {
		c.last = ts
	} else {
		p.touch(c, ts)
	}
}

// touch records activity on c and makes sure its timer is armed.
func (p *Processor) touch(c *call, ts time.Time) {
	if ts.After(c.last) {
		c.last = ts
	}
	at, _ := c.due(&p.cfg)
	p.timer.schedule(c, at)
}

// write appends u's packets to s, or counts them as filtered when s's kind
// of output is switched off, and returns how many packets it wrote. When
// writing fails, the packet and the rest of the unit count as failed; the
// file cache moves records it accepted and then lost from written to
// failed.
func (p *Processor) write(s *stream, u decode.Unit, enabled bool) int64 {
	var n int64
	for i, pkt := range u.Packets {
		repeat := len(u.Repeated) > 0 && slices.Contains(u.Repeated, pkt)
		if !enabled {
			if !repeat {
				p.stats.Filtered++
			}
			continue
		}
		wrote, err := s.write(p.files, pkt, p.when(pkt.Info.Timestamp), p.emit)
		if err != nil {
			p.fail(err)
			p.stats.Failed += unwritten(u.Packets[i:], u.Repeated)
			return n
		}
		if wrote {
			n++
			p.stats.Written[s.kind]++
			if repeat {
				p.stats.Copies++
			}
		}
	}
	return n
}

// newCall opens a call for m, first seen at ts.
func (p *Processor) newCall(m *sip.Message, ts time.Time) *call {
	p.seq++
	c := &call{
		id:      m.CallID,
		seq:     p.seq,
		caller:  m.From.UserHost(),
		called:  m.To.UserHost(),
		partial: !opensFresh(m),
		first:   ts,
		last:    ts,
	}
	if c.partial && m.Request && m.To.Tag != "" {
		c.phase = phaseAnswered
	}
	c.dirname = p.cfg.layout().CallDir(p.cfg.OutputDir, m.CallID, ts)
	// A directory that cannot be made fails the call's writes, as a file
	// that cannot be created does; dirname stays the absolute path meant.
	var dirErr error
	if p.cfg.PerCallPcap {
		dir, err := p.out.mkdirUnique(c.dirname)
		switch {
		case err != nil:
			dirErr = fmt.Errorf("call directory: %w", err)
		case dir != c.dirname:
			p.sameDirname(c.dirname, dir)
			c.dirname = dir
		}
	}
	dir := c.dirname
	name := func(kind event.FileKind) func(*capture.Packet, int) (string, error) {
		return func(_ *capture.Packet, part int) (string, error) {
			if dirErr != nil {
				return "", dirErr
			}
			return CallFile(dir, c.id, kind, part), nil
		}
	}
	c.sip = stream{ledger: p.ledger, call: callKey(c), kind: event.KindSIP, callID: c.id, maxSize: p.cfg.PerCallMaxSize, name: name(event.KindSIP)}
	c.rtp = stream{ledger: p.ledger, call: callKey(c), kind: event.KindRTP, callID: c.id, maxSize: p.cfg.PerCallMaxSize, name: name(event.KindRTP)}
	p.calls[c.id] = c
	open := int64(len(p.calls))
	p.counters.OpenCalls.Store(open)
	p.stats.Peak = max(p.stats.Peak, open)
	return c
}

// sameDirname says, once per run, that a call's directory was taken, by a
// call of the same second and Call-ID (a retransmitted INVITE after the
// call ended) or by an earlier run on the same output directory, and that
// the call goes to a numbered one beside it.
func (p *Processor) sameDirname(want, got string) {
	if p.warnedDirname {
		p.log.Debug("call directory taken: writing beside it", "dirname", want, "instead", got)
		return
	}
	p.warnedDirname = true
	p.log.Warn("call directory exists already (an earlier run on this output directory, or a call of the same second and Call-ID): writing beside it with a number; later ones are logged at debug",
		"dirname", want, "instead", got)
}

// endCall closes c's files, forgets it and emits its events, the call's
// once its files' are out (see fileCache.closeFile). The call is
// incomplete when packets of it are not in its files because writing
// failed; its packet counts are what its files hold.
func (p *Processor) endCall(c *call, state event.CallState) {
	reason := event.ReasonCallEnd
	if state == event.StateShutdown {
		reason = event.ReasonShutdown
	}
	c.sip.close(p.files, reason, p.emit)
	c.rtp.close(p.files, reason, p.emit)
	p.media.forget(c)
	delete(p.calls, c.id)
	p.ended.remember(c, p.clock)
	c.timerAt = time.Time{}
	p.counters.OpenCalls.Store(int64(len(p.calls)))
	p.stats.Calls[state]++
	p.files.after(func() { p.emitCall(c, state) })
}

// emitCall emits c's event.CallCompleted.
func (p *Processor) emitCall(c *call, state event.CallState) {
	p.emit(event.CallCompleted{
		CallID:     c.id,
		Dirname:    c.dirname,
		Caller:     c.caller,
		Called:     c.called,
		CallDate:   c.first,
		EndDate:    c.last,
		State:      state,
		Status:     c.status,
		Partial:    c.partial,
		Follows:    c.follows,
		SIPFiles:   c.sip.paths,
		RTPFiles:   c.rtp.paths,
		SIPPackets: c.sip.written,
		RTPPackets: c.rtp.written,
		Streams:    c.streams,
		Incomplete: len(c.sip.errs)+len(c.rtp.errs) > 0,
		Errors:     append(slices.Clip(c.sip.errs), c.rtp.errs...),
	})
}

// otherName names an "other" file after its first packet's time, in the
// configured time zone.
func (p *Processor) otherName(pkt *capture.Packet, _ int) (string, error) {
	base := p.cfg.layout().OtherBase(p.cfg.OutputDir, p.when(pkt.Info.Timestamp))
	if err := p.out.mkdirAll(filepath.Dir(base)); err != nil {
		return "", fmt.Errorf("other directory: %w", err)
	}
	return p.out.uniquePath(base, ".pcap")
}

func sortCalls(cs []*call) {
	slices.SortFunc(cs, func(a, b *call) int { return cmp.Compare(a.seq, b.seq) })
}
