package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lc-voip/lc/internal/event"
	"github.com/lc-voip/lc/internal/live"
	"github.com/lc-voip/lc/internal/processor"
	"github.com/lc-voip/lc/internal/script"
)

// TestSummaryLiveLines: the lines only live capture and filtering add.
func TestSummaryLiveLines(t *testing.T) {
	var buf bytes.Buffer
	printSummary(&buf, summary{
		stats: processor.Stats{Packets: 10, Bytes: 10, Written: map[event.FileKind]int64{event.KindRTP: 10}},
		hooks: &script.EngineStats{Runs: 4, FullWaits: 2, Spool: &script.SpoolStats{Spilled: 40, Lost: 1, Queued: 3}},
		capture: []live.Stats{
			{Interface: "eth1", Received: 10, KernelDrops: 5, InterfaceDrops: 1},
			{Interface: "tun0", InterfaceDrops: -1},
		},
		unmatched: 7,
		elapsed:   time.Second,
		inputs:    2,
		out:       "/out",
	})
	checkSummary(t, buf.String(),
		"lc: 10 packets (10 B) from 2 input(s) processed in 1s, 10 packets/s; 1s in all, hooks included\n",
		"  left out by the filter (not counted here): 7\n",
		"  capture on eth1: 10 received, 5 dropped by the kernel (ring full), 1 by the interface\n",
		"  capture on tun0: 0 received, 0 dropped by the kernel (ring full), unknown by the interface\n",
		"  hooks: 4 ran, 0 failed (0 timed out), 0 not run; 2 waits for room in the hook queue\n",
		"  hook spool: 40 events waited on disk; 1 lost (not written or not read back); 3 left unrun at shutdown\n",
	)
}

// TestSummaryWriteFailure: packets a write error kept out of the files
// are counted apart, the counts still add up, and the files cut short are
// named.
func TestSummaryWriteFailure(t *testing.T) {
	var buf bytes.Buffer
	printSummary(&buf, summary{
		stats: processor.Stats{
			Packets: 206, Bytes: 1000,
			Written:    map[event.FileKind]int64{event.KindSIP: 40, event.KindRTP: 85},
			Failed:     81,
			Files:      17,
			Calls:      map[event.CallState]int64{event.StateShutdown: 6},
			FileErrors: 5,
		},
		elapsed: time.Second,
		inputs:  1,
		out:     "/out",
	})
	checkSummary(t, buf.String(),
		"  written: 40 sip + 85 rtp + 0 other = 125 records\n",
		"  not written (write failed): 81\n",
		"  files: 17 closed under /out; 5 cut short by a write error (their events say why)\n",
	)
}

// checkSummary fails unless the summary got holds every line of want and
// its counts add up.
func checkSummary(t *testing.T, got string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("summary lacks %q:\n%s", w, got)
		}
	}
	if strings.Contains(got, "UNACCOUNTED") {
		t.Errorf("counts do not add up:\n%s", got)
	}
}

// TestSummaryRate: the packet rate is over the processing time, not over
// the wait for the last hooks.
func TestSummaryRate(t *testing.T) {
	var buf bytes.Buffer
	printSummary(&buf, summary{
		stats:      processor.Stats{Packets: 5000, Bytes: 1 << 20, Written: map[event.FileKind]int64{event.KindRTP: 5000}},
		elapsed:    12 * time.Second,
		processing: 2 * time.Second,
		inputs:     1,
		out:        "/out",
	})
	checkSummary(t, buf.String(), "lc: 5000 packets (1 MiB) from 1 input(s) processed in 2s, 2500 packets/s; 12s in all, hooks included\n")
}

// TestSummaryJSON: with --log-format json the summary is one JSON object
// on one line, with every count.
func TestSummaryJSON(t *testing.T) {
	var buf bytes.Buffer
	writeSummary(&buf, "json", summary{
		stats: processor.Stats{
			Packets: 206, Bytes: 1000,
			Written:     map[event.FileKind]int64{event.KindSIP: 40, event.KindRTP: 85},
			Failed:      81,
			Files:       17,
			FilesClosed: map[event.FileKind]int64{event.KindSIP: 10, event.KindRTP: 7},
			Calls:       map[event.CallState]int64{event.StateShutdown: 6},
			Notes:       map[string]int64{"malformed-sip": 2},
			FileErrors:  5,
		},
		hooks:      &script.EngineStats{Runs: 4, Failed: 1, Hooks: map[string]script.HookStats{"pcap-command": {Runs: 4, Failed: 1}}},
		capture:    []live.Stats{{Interface: "eth1", Received: 10, KernelDrops: 5, InterfaceDrops: -1}},
		elapsed:    3 * time.Second,
		processing: 2 * time.Second,
		inputs:     1,
		out:        "/out",
		end:        time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
	})
	if n := strings.Count(buf.String(), "\n"); n != 1 || !strings.HasSuffix(buf.String(), "\n") {
		t.Fatalf("%d lines: %s", n, buf.String())
	}
	var got map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("%v: %s", err, buf.String())
	}
	want := map[string]any{
		"time": "2026-01-02T03:04:05Z", "level": "INFO", "msg": "summary",
		"packets": 206.0, "bytes": 1000.0, "inputs": 1.0, "elapsed": 3.0, "processing": 2.0, "packets_per_s": 103.0,
		"filter_left_out": 0.0, "records": 125.0, "copies": 0.0, "filtered": 0.0, "failed": 81.0, "unaccounted": 0.0,
		"calls_total": 6.0, "peak_open_calls": 0.0, "journal_pending": 0.0,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %#v, want %#v", k, got[k], v)
		}
	}
	for _, k := range []string{"written", "calls", "files", "anomalies", "hooks", "capture"} {
		if _, ok := got[k]; !ok {
			t.Errorf("no %s", k)
		}
	}
	for _, k := range []string{"hook_spool", "after_crash", "warnings", "journal_set_aside"} {
		if _, ok := got[k]; ok {
			t.Errorf("%s where it does not apply", k)
		}
	}
	if calls := got["calls"].(map[string]any); len(calls) != len(callStates) || calls["shutdown"] != 6.0 || calls["completed"] != 0.0 {
		t.Errorf("calls %v", calls)
	}
	files := got["files"].(map[string]any)
	if files["closed"] != 17.0 || files["write_errors"] != 5.0 || files["output_dir"] != "/out" ||
		fmt.Sprint(files["by_kind"]) != "map[other:0 rtp:7 sip:10]" {
		t.Errorf("files %v", files)
	}
	hooks := got["hooks"].(map[string]any)
	if hooks["runs"] != 4.0 || fmt.Sprint(hooks["by_hook"]) != "map[pcap-command:map[failed:1 runs:4 timed_out:0]]" {
		t.Errorf("hooks %v", hooks)
	}
	if c := fmt.Sprint(got["capture"]); c != "[map[interface:eth1 interface_drops:<nil> kernel_drops:5 received:10]]" {
		t.Errorf("capture %s", c)
	}

	buf.Reset()
	writeSummary(&buf, "text", summary{stats: processor.Stats{Packets: 1}, elapsed: time.Second, inputs: 1})
	if !strings.HasPrefix(buf.String(), "lc: 1 packets") {
		t.Errorf("text summary: %s", buf.String())
	}
}
