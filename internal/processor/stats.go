package processor

import (
	"maps"
	"slices"
	"sync/atomic"
	"time"

	"github.com/lc-voip/lc/internal/capture"
	"github.com/lc-voip/lc/internal/event"
)

// Stats counts what a run did. The invariant the summary shows, once the
// run is closed (before, packets still held, by the decoder or until the
// clock decides on their time, are in none of the counts on the right):
//
//	Packets = Written[sip] + Written[rtp] + Written[other] - Copies + Filtered + Failed
//
// A record counts as Written when its file accepts it (into the file's
// buffer); when a later write loses it, it moves from Written to Failed,
// so that once the run is closed Written counts the records in the files.
// A packet that no file accepted because writing failed is in Failed.
// Copies counts the records accepted for a packet already handed to
// another file, so that each packet counts once: a packet whose first
// record was lost and whose copy was written counts in Failed although
// one of its files holds it.
type Stats struct {
	Packets    int64                    // input packets
	Bytes      int64                    // input bytes (captured)
	Written    map[event.FileKind]int64 // packet records written, by file kind
	Copies     int64                    // records for a packet already handed to another file (a TCP segment carrying messages of several calls)
	Filtered   int64                    // packets not written because their kind of output is switched off
	Failed     int64                    // packets not written because writing their record failed (disk full, I/O error, a file or directory that could not be made)
	Notes      map[string]int64         // things worth knowing, by reason: malformed-sip, undecodable, fragment-timeout, ...
	Calls      map[event.CallState]int64
	Files      int64 // files closed
	FileErrors int64 // files a write failure cut short: their event.FileClosed events carry the error
	// EndedForgotten counts ended Call-IDs forgotten before their late
	// window passed, to stay within Config.MaxCalls.
	EndedForgotten int64
	Evicted        int64                    // times an open file was closed to respect the open-file limit
	Peak           int64                    // most calls open at once
	OpenCalls      int64                    // calls open now
	OpenFiles      int64                    // output files open now
	FilesClosed    map[event.FileKind]int64 // files closed, by kind; they add up to Files
	// LastPacket is the capture time of the last packet processed; zero
	// before the first.
	LastPacket time.Time
}

// newStats returns empty Stats, their maps made.
func newStats() Stats {
	return Stats{
		Written:     make(map[event.FileKind]int64),
		Notes:       make(map[string]int64),
		Calls:       make(map[event.CallState]int64),
		FilesClosed: make(map[event.FileKind]int64),
	}
}

// clone returns a copy of s that shares no map with it.
func (s Stats) clone() Stats {
	s.Written = maps.Clone(s.Written)
	s.Notes = maps.Clone(s.Notes)
	s.Calls = maps.Clone(s.Calls)
	s.FilesClosed = maps.Clone(s.FilesClosed)
	return s
}

// Counters are the figures a progress display reads while the processing
// goroutine runs; they are safe to read from any goroutine.
type Counters struct {
	Packets   atomic.Int64
	OpenCalls atomic.Int64
	published atomic.Pointer[Stats]
}

// Published returns the Stats as of the last time the processing
// goroutine published them: every publishEvery packets, at every Tick
// and on Close. Safe from any goroutine; the zero Stats before the first.
func (c *Counters) Published() Stats {
	if s := c.published.Load(); s != nil {
		return *s
	}
	return Stats{}
}

// unwritten counts the packets of pkts that are not in repeated: the
// packets a unit loses when writing stops at pkts[0], whose repeated ones
// are counted in the file they were handed to first.
func unwritten(pkts, repeated []*capture.Packet) int64 {
	var n int64
	for _, p := range pkts {
		if !slices.Contains(repeated, p) {
			n++
		}
	}
	return n
}
