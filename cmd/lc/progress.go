package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/lc-voip/lc/internal/capture"
	"github.com/lc-voip/lc/internal/processor"
	"github.com/lc-voip/lc/internal/units"
)

// progressEvery is how often the progress line is redrawn.
const progressEvery = 500 * time.Millisecond

// progressEveryPackets is how often the processing goroutine publishes how
// far it has read.
const progressEveryPackets = 1024

// trackedInput is the packet source with its read position published for
// the progress display, which runs on another goroutine.
type trackedInput struct {
	*capture.Merger
	n           int
	done, total atomic.Int64
}

// Next returns the next packet and, now and then, publishes the position.
func (t *trackedInput) Next() (capture.Packet, error) {
	if t.n++; t.n%progressEveryPackets == 1 {
		done, total := t.Merger.Progress()
		t.done.Store(done)
		t.total.Store(total)
	}
	return t.Merger.Next()
}

// Progress returns the last published position; safe from any goroutine.
func (t *trackedInput) Progress() (done, total int64) { return t.done.Load(), t.total.Load() }

// startProgress draws a one-line progress display on w while processing
// runs, when mode says so ("auto": only when w is a terminal). The returned
// function stops it and clears the line.
func startProgress(w io.Writer, mode string, in *packetInput, c *processor.Counters) func() {
	if mode == "never" || mode == "auto" && !isTerminal(w) {
		return func() {}
	}
	tick := time.NewTicker(progressEvery)
	start := time.Now()
	last, prev := int64(0), start
	stop := each(tick.C, func(now time.Time) {
		p := progress{elapsed: now.Sub(start), packets: c.Packets.Load(), bytes: c.Published().Bytes, openCalls: c.OpenCalls.Load()}
		p.rate = float64(p.packets-last) / now.Sub(prev).Seconds()
		last, prev = p.packets, now
		if in.live != nil {
			p.live = true
			_, p.kernelDrops, p.ifaceDrops = totalDrops(in.live.Stats())
		} else {
			p.done, p.total = in.files.Progress()
		}
		fmt.Fprintf(w, "\r\033[K%s", p)
	})
	return func() {
		tick.Stop()
		stop()
		fmt.Fprint(w, "\r\033[K")
	}
}

// progress is what one progress line shows.
type progress struct {
	elapsed   time.Duration
	packets   int64
	bytes     int64   // packet bytes read (published now and then: a little behind packets)
	rate      float64 // packets per second since the last line
	openCalls int64
	live      bool
	// Reading files: how far into the input, in bytes of the files as
	// they are stored (compressed ones included); total is 0 when
	// unknown (standard input).
	done, total int64
	// Live capture: packets dropped so far.
	kernelDrops, ifaceDrops int64
}

// String is the line: elapsed time; for files how much is read and
// when the rest should be, for live capture "live"; packets and their
// bytes, the packet rate, the calls open; and in live capture the drops.
func (p progress) String() string {
	var b strings.Builder
	b.WriteString(p.elapsed.Round(time.Second).String())
	if p.live {
		b.WriteString(" · live")
	} else {
		b.WriteString(" · " + p.position())
	}
	fmt.Fprintf(&b, " · %d packets (%s) · %.0f packets/s · %d calls open", p.packets, units.Bytes(p.bytes), p.rate, p.openCalls)
	if p.live {
		fmt.Fprintf(&b, " · drops: %d kernel, %d interface", p.kernelDrops, p.ifaceDrops)
	}
	return b.String()
}

// position is how much of the files is read and, once some is, an
// estimate of the time left at the pace so far.
func (p progress) position() string {
	if p.total <= 0 {
		return "?% read"
	}
	pos := fmt.Sprintf("%.0f%% read", 100*float64(p.done)/float64(p.total))
	if p.done <= 0 || p.done >= p.total {
		return pos
	}
	left := time.Duration(float64(p.elapsed) * float64(p.total-p.done) / float64(p.done))
	return pos + ", ETA " + left.Round(time.Second).String()
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
