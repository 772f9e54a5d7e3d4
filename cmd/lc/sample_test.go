package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/lc-voip/lc/internal/testpcap"
)

var update = flag.Bool("update", false, "rewrite testdata/calls.pcap")

// samplePath is the capture README.md's first command runs on.
var samplePath = filepath.Join("..", "..", "testdata", "calls.pcap")

// sampleCapture builds the README's sample: an answered call with RTP, a
// busy call, a cancelled call, and registrations around them.
func sampleCapture() []byte {
	const ms = time.Millisecond
	t := &testpcap.Timeline{Now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	reg := testpcap.NewDialog(100)
	reg.CallID = "reg-100@lc.test"
	t.Add(testpcap.UDP(reg.Caller, reg.Callee, reg.Request("REGISTER", 1, "", "")), 5*ms)
	t.Add(testpcap.UDP(reg.Callee, reg.Caller, reg.Response(200, "OK", "REGISTER", 1, "r", "")), 5*ms)
	t.BasicCall(testpcap.NewDialog(1), 50)

	busy := testpcap.NewDialog(2)
	t.Add(testpcap.UDP(busy.Caller, busy.Callee, busy.Request("INVITE", 1, "", testpcap.SDP(busy.CallerRTP))), 10*ms)
	t.Add(testpcap.UDP(busy.Callee, busy.Caller, busy.Response(486, "Busy Here", "INVITE", 1, "b", "")), 10*ms)
	t.Add(testpcap.UDP(busy.Caller, busy.Callee, busy.Request("ACK", 1, "b", "")), time.Second)

	gone := testpcap.NewDialog(3)
	t.Add(testpcap.UDP(gone.Caller, gone.Callee, gone.Request("INVITE", 1, "", testpcap.SDP(gone.CallerRTP))), 10*ms)
	t.Add(testpcap.UDP(gone.Callee, gone.Caller, gone.Response(180, "Ringing", "INVITE", 1, "g", "")), 2*time.Second)
	t.Add(testpcap.UDP(gone.Caller, gone.Callee, gone.Request("CANCEL", 1, "", "")), 10*ms)
	t.Add(testpcap.UDP(gone.Callee, gone.Caller, gone.Response(200, "OK", "CANCEL", 1, "g", "")), 10*ms)
	t.Add(testpcap.UDP(gone.Callee, gone.Caller, gone.Response(487, "Request Terminated", "INVITE", 1, "g", "")), 10*ms)
	t.Add(testpcap.UDP(gone.Caller, gone.Callee, gone.Request("ACK", 1, "g", "")), 10*ms)
	t.Add(testpcap.UDP(reg.Caller, reg.Callee, reg.Request("OPTIONS", 2, "", "")), 0)
	return testpcap.Bytes(t.Pkts)
}

// TestSampleCapture keeps testdata/calls.pcap what sampleCapture builds,
// and checks the README's first command on it.
func TestSampleCapture(t *testing.T) {
	want := sampleCapture()
	if *update {
		if err := os.WriteFile(samplePath, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(samplePath)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/lc -run TestSampleCapture -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is not what sampleCapture builds (run with -update)", samplePath)
	}
	code, stdout, stderr := run(t, nil, "process", "-r", samplePath, "-o", t.TempDir(), "--events", "-")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{`"state":"completed","status":200`, `"state":"failed","status":486`, `"state":"cancelled","status":487`} {
		if !bytes.Contains([]byte(stdout), []byte(want)) {
			t.Errorf("events lack %s:\n%s", want, stdout)
		}
	}
}
