package main

import (
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"time"

	"github.com/lc-voip/lc/internal/capture"
	"github.com/lc-voip/lc/internal/processor"
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
	last, prev := int64(0), time.Now()
	stop := each(tick.C, func(now time.Time) {
		n := c.Packets.Load()
		rate := float64(n-last) / now.Sub(prev).Seconds()
		last, prev = n, now
		fmt.Fprintf(w, "\r\033[K%s · %d packets · %.0f packets/s · %d calls open",
			in.position(), n, rate, c.OpenCalls.Load())
	})
	return func() {
		tick.Stop()
		stop()
		fmt.Fprint(w, "\r\033[K")
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
