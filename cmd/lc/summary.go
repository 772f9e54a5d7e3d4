package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/lc-voip/lc/internal/capture"
	"github.com/lc-voip/lc/internal/event"
	"github.com/lc-voip/lc/internal/live"
	"github.com/lc-voip/lc/internal/processor"
	"github.com/lc-voip/lc/internal/retention"
	"github.com/lc-voip/lc/internal/script"
	"github.com/lc-voip/lc/internal/units"
)

// summary is what the end-of-run report is made from.
type summary struct {
	stats      processor.Stats
	hooks      *script.EngineStats // nil when no hook is configured
	problems   []capture.Problem
	capture    []live.Stats  // nil when reading files
	unmatched  int64         // packets read from files that the filter left out
	elapsed    time.Duration // the whole run, the wait for the last hooks included
	processing time.Duration // until the last packet was processed: what the packet rate is over (zero: elapsed)
	inputs     int
	out        string
	resumed    resumed          // what the journal held of an earlier run
	pending    int              // events the journal keeps for the next start
	retention  *retention.Stats // nil without disk retention
	end        time.Time        // when the run ended: the JSON summary's time (zero: none)
}

// printSummary writes a few lines a person can read at the end of a run.
// The packet lines add up: input = written - copies + filtered + failed,
// where written counts the records in the files and failed the packets
// that a write error kept out of them.
func printSummary(w io.Writer, s summary) {
	st := s.stats
	fmt.Fprintf(w, "lc: %d packets (%s) from %d input(s) processed in %s, %.0f packets/s; %s in all, hooks included\n",
		st.Packets, units.Bytes(st.Bytes), s.inputs, s.processingTime().Round(time.Millisecond), s.rate(),
		s.elapsed.Round(time.Millisecond))
	if s.unmatched > 0 {
		fmt.Fprintf(w, "  left out by the filter (not counted here): %d\n", s.unmatched)
	}
	for _, c := range s.capture {
		ifdrops := "unknown"
		if c.InterfaceDrops >= 0 {
			ifdrops = fmt.Sprint(c.InterfaceDrops)
		}
		fmt.Fprintf(w, "  capture on %s: %d received, %d dropped by the kernel (ring full), %s by the interface\n",
			c.Interface, c.Received, c.KernelDrops, ifdrops)
	}
	written := st.Written[event.KindSIP] + st.Written[event.KindRTP] + st.Written[event.KindOther]
	fmt.Fprintf(w, "  written: %d sip + %d rtp + %d other = %d records", st.Written[event.KindSIP],
		st.Written[event.KindRTP], st.Written[event.KindOther], written)
	if st.Copies > 0 {
		fmt.Fprintf(w, " (%d packets in two files: TCP segments carrying messages of several calls)", st.Copies)
	}
	fmt.Fprintln(w)
	if st.Filtered > 0 {
		fmt.Fprintf(w, "  not written (output switched off): %d\n", st.Filtered)
	}
	if st.Failed > 0 {
		fmt.Fprintf(w, "  not written (write failed): %d\n", st.Failed)
	}
	if lost := st.Packets - (written - st.Copies + st.Filtered + st.Failed); lost != 0 {
		fmt.Fprintf(w, "  UNACCOUNTED: %d packets\n", lost)
	}
	var calls []string
	var total int64
	for _, state := range slices.Sorted(maps.Keys(st.Calls)) {
		calls = append(calls, fmt.Sprintf("%s %d", state, st.Calls[state]))
		total += st.Calls[state]
	}
	fmt.Fprintf(w, "  calls: %d", total)
	if len(calls) > 0 {
		fmt.Fprintf(w, " (%s), at most %d open at once", strings.Join(calls, ", "), st.Peak)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "  files: %d closed under %s", st.Files, s.out)
	if st.Evicted > 0 {
		fmt.Fprintf(w, " (%d reopened to stay under the open-file limit)", st.Evicted)
	}
	if st.FileErrors > 0 {
		fmt.Fprintf(w, "; %d cut short by a write error (their events say why)", st.FileErrors)
	}
	fmt.Fprintln(w)
	if len(st.Notes) > 0 {
		var notes []string
		for _, k := range slices.Sorted(maps.Keys(st.Notes)) {
			notes = append(notes, fmt.Sprintf("%s %d", k, st.Notes[k]))
		}
		fmt.Fprintf(w, "  noted (written to other files or kept as they came): %s\n", strings.Join(notes, ", "))
	}
	if h := s.hooks; h != nil {
		fmt.Fprintf(w, "  hooks: %d ran, %d failed (%d timed out), %d not run", h.Runs, h.Failed, h.TimedOut, h.Unrun)
		if h.FullWaits > 0 {
			fmt.Fprintf(w, "; %d waits for room in the hook queue", h.FullWaits)
		}
		fmt.Fprintln(w)
	}
	if sp := s.hookSpool(); sp != nil && (sp.Spilled > 0 || sp.Lost > 0 || sp.Queued > 0) {
		fmt.Fprintf(w, "  hook spool: %d events waited on disk; %d lost (not written or not read back); %d left unrun at shutdown\n",
			sp.Spilled, sp.Lost, sp.Queued)
	}
	printJournal(w, s)
	printRetention(w, s.retention)
	for _, p := range s.problems {
		if p.Truncated { // errors are the command's own last line
			fmt.Fprintf(w, "  warning: %v\n", p.Err)
		}
	}
}

// writeSummary writes the summary as text, or with --log-format json as
// one JSON object on one line, to go with the logs.
func writeSummary(w io.Writer, logFormat string, s summary) {
	if jsonFormat(logFormat) {
		printSummaryJSON(w, s)
		return
	}
	printSummary(w, s)
}

// processingTime is how long processing took: until the last packet was
// processed, without the wait for the last hooks.
func (s summary) processingTime() time.Duration {
	if s.processing > 0 {
		return s.processing
	}
	return s.elapsed
}

// rate is the packets processed per second of processing.
func (s summary) rate() float64 {
	if secs := s.processingTime().Seconds(); secs > 0 {
		return float64(s.stats.Packets) / secs
	}
	return 0
}

// hookSpool is the hook spool's figures, nil without one.
func (s summary) hookSpool() *script.SpoolStats {
	if s.hooks == nil {
		return nil
	}
	return s.hooks.Spool
}

// printRetention says what disk retention removed and keeps, when it is
// on.
func printRetention(w io.Writer, r *retention.Stats) {
	if r == nil {
		return
	}
	verb := "removed"
	if r.DryRun {
		verb = "would have removed (dry run)"
	}
	fmt.Fprintf(w, "  retention: %s %d calls + %d other (%s); %d kept (%s)", verb, r.Removed["calls"], r.Removed["other"],
		units.Bytes(r.RemovedBytes), r.Tracked, units.Bytes(r.TrackedBytes))
	if r.Held > 0 {
		fmt.Fprintf(w, ", %d whose hooks did not finish", r.Held)
	}
	if r.Waits > 0 {
		fmt.Fprintf(w, "; reading waited %d times for room", r.Waits)
	}
	if r.Errors > 0 {
		fmt.Fprintf(w, "; %d could not be removed (logged)", r.Errors)
	}
	fmt.Fprintln(w)
}

// printJournal says what the journal held of an earlier run and keeps for
// the next one, when there is anything to say.
func printJournal(w io.Writer, s summary) {
	if r := s.resumed; r.any() {
		fmt.Fprintf(w, "  after a crash: %d events' hooks run again, %d calls completed as interrupted, %d open files repaired (%d bytes cut)\n",
			r.replayed, r.recovered.Calls, r.recovered.Files, r.recovered.Cut)
	}
	if s.resumed.setAside != "" {
		fmt.Fprintf(w, "  warning: the journal could not be read and was set aside as %s\n", s.resumed.setAside)
	}
	if s.pending > 0 {
		fmt.Fprintf(w, "  %d events wait in the journal for their hooks: they run at the next start on this output directory (lc hooks pending %s)\n",
			s.pending, s.out)
	}
}
