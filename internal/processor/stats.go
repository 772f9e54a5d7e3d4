package processor

import (
	"maps"
	"sort"
	"sync/atomic"
)

// Stats counts what a run did. The invariant the summary shows:
//
//	Packets = Written[sip] + Written[rtp] + Written[other] - Copies + Filtered
type Stats struct {
	Packets   int64              // input packets
	Bytes     int64              // input bytes (captured)
	Written   map[FileKind]int64 // packet records written, by file kind
	Copies    int64              // records written for a packet already written to another file (a TCP segment carrying messages of several calls)
	Filtered  int64              // packets not written because their kind of output is switched off
	Notes     map[string]int64   // things worth knowing, by reason: malformed-sip, undecodable, fragment-timeout, ...
	Calls     map[CallState]int64
	Files     int64 // files closed
	Evicted   int64 // times an open file was closed to respect the open-file limit
	Peak      int64 // most calls open at once
	OpenCalls int64 // calls open now
	OpenFiles int64 // output files open now
}

// clone returns a copy of s that shares no map with it.
func (s Stats) clone() Stats {
	s.Written = maps.Clone(s.Written)
	s.Notes = maps.Clone(s.Notes)
	s.Calls = maps.Clone(s.Calls)
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
// goroutine published them: every publishEvery packets and on Close. Safe from any goroutine; the zero Stats before the first.
func (c *Counters) Published() Stats {
	if s := c.published.Load(); s != nil {
		return *s
	}
	return Stats{}
}

// SortedKeys returns m's keys in order, for stable output.
func SortedKeys[K ~string, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	return keys
}
