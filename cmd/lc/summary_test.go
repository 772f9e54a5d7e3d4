package main

import (
	"bytes"
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
		"lc: 10 packets (10 B) from 2 input(s) in 1s, 10 packets/s\n",
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
