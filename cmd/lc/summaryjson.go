package main

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/lc-voip/lc/internal/event"
)

// summaryJSON is the summary as --log-format json writes it: one object
// on one line, with the time, level and msg keys of the JSON log lines,
// durations in seconds. Every count is there, 0 or not; hooks,
// hook_spool, capture, after_crash and retention only when they apply.
type summaryJSON struct {
	Time            string                    `json:"time,omitempty"`
	Level           string                    `json:"level"`
	Msg             string                    `json:"msg"`
	Packets         int64                     `json:"packets"`
	Bytes           int64                     `json:"bytes"`
	Inputs          int                       `json:"inputs"`
	Elapsed         float64                   `json:"elapsed"`    // the whole run, hooks included
	Processing      float64                   `json:"processing"` // until the last packet was processed
	PacketsPerS     float64                   `json:"packets_per_s"`
	FilterLeftOut   int64                     `json:"filter_left_out"`
	Capture         []captureJSON             `json:"capture,omitempty"`
	Written         map[event.FileKind]int64  `json:"written"`
	Records         int64                     `json:"records"`
	Copies          int64                     `json:"copies"`
	Filtered        int64                     `json:"filtered"`
	Failed          int64                     `json:"failed"`
	Unaccounted     int64                     `json:"unaccounted"`
	Calls           map[event.CallState]int64 `json:"calls"`
	CallsTotal      int64                     `json:"calls_total"`
	PeakOpenCalls   int64                     `json:"peak_open_calls"`
	Files           filesJSON                 `json:"files"`
	Anomalies       map[string]int64          `json:"anomalies"`
	Hooks           *hooksJSON                `json:"hooks,omitempty"`
	HookSpool       *hookSpoolJSON            `json:"hook_spool,omitempty"`
	AfterCrash      *afterCrashJSON           `json:"after_crash,omitempty"`
	JournalSetAside string                    `json:"journal_set_aside,omitempty"`
	JournalPending  int                       `json:"journal_pending"`
	Retention       *retentionJSON            `json:"retention,omitempty"`
	Warnings        []string                  `json:"warnings,omitempty"`
}

type captureJSON struct {
	Interface      string `json:"interface"`
	Received       int64  `json:"received"`
	KernelDrops    int64  `json:"kernel_drops"`
	InterfaceDrops *int64 `json:"interface_drops"` // null when the kernel does not say
}

type filesJSON struct {
	Closed      int64                    `json:"closed"`
	ByKind      map[event.FileKind]int64 `json:"by_kind"`
	OutputDir   string                   `json:"output_dir"`
	Reopened    int64                    `json:"reopened"`
	WriteErrors int64                    `json:"write_errors"`
}

type hooksJSON struct {
	Runs      int64                   `json:"runs"`
	Failed    int64                   `json:"failed"`
	TimedOut  int64                   `json:"timed_out"`
	Unrun     int64                   `json:"unrun"`
	FullWaits int64                   `json:"full_waits"`
	ByHook    map[string]hookRunsJSON `json:"by_hook"`
}

type hookRunsJSON struct {
	Runs     int64 `json:"runs"`
	Failed   int64 `json:"failed"`
	TimedOut int64 `json:"timed_out"`
}

type hookSpoolJSON struct {
	Spilled int64 `json:"spilled"`
	Lost    int64 `json:"lost"`
	Unrun   int64 `json:"unrun"`
}

type retentionJSON struct {
	DryRun       bool             `json:"dry_run"`
	Removed      map[string]int64 `json:"removed"` // by kind: calls, other
	RemovedBytes int64            `json:"removed_bytes"`
	Tracked      int64            `json:"tracked"`
	TrackedBytes int64            `json:"tracked_bytes"`
	Held         int64            `json:"held"`
	Waits        int64            `json:"waits"`
	Errors       int64            `json:"errors"`
}

type afterCrashJSON struct {
	Replayed       int   `json:"replayed"`
	RecoveredCalls int   `json:"recovered_calls"`
	RecoveredFiles int   `json:"recovered_files"`
	CutBytes       int64 `json:"cut_bytes"`
}

// printSummaryJSON writes the summary as one JSON line.
func printSummaryJSON(w io.Writer, s summary) {
	line, err := json.Marshal(s.json())
	if err != nil { // only finite numbers, strings and maps: not expected
		fmt.Fprintf(w, "lc: summary: %v\n", err)
		return
	}
	w.Write(append(line, '\n'))
}

// json is the summary's JSON form.
func (s summary) json() summaryJSON {
	st := s.stats
	j := summaryJSON{
		Level: "INFO", Msg: "summary",
		Packets: st.Packets, Bytes: st.Bytes, Inputs: s.inputs,
		Elapsed: s.elapsed.Seconds(), Processing: s.processingTime().Seconds(), PacketsPerS: s.rate(),
		FilterLeftOut: s.unmatched,
		Written:       counts(fileKinds, st.Written),
		Copies:        st.Copies, Filtered: st.Filtered, Failed: st.Failed,
		Calls:         counts(callStates, st.Calls),
		PeakOpenCalls: st.Peak,
		Files: filesJSON{Closed: st.Files, ByKind: counts(fileKinds, st.FilesClosed), OutputDir: s.out,
			Reopened: st.Evicted, WriteErrors: st.FileErrors},
		Anomalies:       counts(nil, st.Notes),
		JournalSetAside: s.resumed.setAside,
		JournalPending:  s.pending,
	}
	if !s.end.IsZero() {
		j.Time = s.end.Format(time.RFC3339Nano)
	}
	for _, n := range j.Written {
		j.Records += n
	}
	j.Unaccounted = st.Packets - (j.Records - st.Copies + st.Filtered + st.Failed)
	for _, n := range st.Calls {
		j.CallsTotal += n
	}
	for _, c := range s.capture {
		cj := captureJSON{Interface: c.Interface, Received: c.Received, KernelDrops: c.KernelDrops}
		if c.InterfaceDrops >= 0 {
			cj.InterfaceDrops = &c.InterfaceDrops
		}
		j.Capture = append(j.Capture, cj)
	}
	if h := s.hooks; h != nil {
		j.Hooks = &hooksJSON{Runs: h.Runs, Failed: h.Failed, TimedOut: h.TimedOut, Unrun: h.Unrun, FullWaits: h.FullWaits,
			ByHook: make(map[string]hookRunsJSON, len(h.Hooks))}
		for name, one := range h.Hooks {
			j.Hooks.ByHook[name] = hookRunsJSON{Runs: one.Runs, Failed: one.Failed, TimedOut: one.TimedOut}
		}
	}
	if sp := s.hookSpool(); sp != nil {
		j.HookSpool = &hookSpoolJSON{Spilled: sp.Spilled, Lost: sp.Lost, Unrun: sp.Queued}
	}
	if r := s.resumed; r.any() {
		j.AfterCrash = &afterCrashJSON{Replayed: r.replayed, RecoveredCalls: r.recovered.Calls,
			RecoveredFiles: r.recovered.Files, CutBytes: r.recovered.Cut}
	}
	if r := s.retention; r != nil {
		j.Retention = &retentionJSON{DryRun: r.DryRun, Removed: counts(nil, r.Removed), RemovedBytes: r.RemovedBytes,
			Tracked: r.Tracked, TrackedBytes: r.TrackedBytes, Held: r.Held, Waits: r.Waits, Errors: r.Errors}
	}
	for _, p := range s.problems {
		if p.Truncated {
			j.Warnings = append(j.Warnings, p.Err.Error())
		}
	}
	return j
}

// counts is m with every key of known, at 0 where m has none; never nil,
// so that it is an object in JSON.
func counts[K comparable](known []K, m map[K]int64) map[K]int64 {
	out := make(map[K]int64, len(known)+len(m))
	for _, k := range known {
		out[k] = 0
	}
	for k, n := range m {
		out[k] = n
	}
	return out
}
