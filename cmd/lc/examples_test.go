package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lc-voip/lc/internal/testpcap"
)

// example copies examples/hooks/name into a temporary directory with its
// settings replaced (old → new pairs) and returns the copy's path.
func example(t *testing.T, name string, replace ...string) string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("..", "..", "examples", "hooks", name))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(src), "-- "+name+":") {
		t.Errorf("%s does not start with a comment saying what it does", name)
	}
	text := string(src)
	for i := 0; i+1 < len(replace); i += 2 {
		if !strings.Contains(text, replace[i]) {
			t.Fatalf("%s has no %q to replace", name, replace[i])
		}
		text = strings.ReplaceAll(text, replace[i], replace[i+1])
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// hooksTest runs lc hooks test and fails on a non-zero exit.
func hooksTest(t *testing.T, args ...string) string {
	t.Helper()
	code, stdout, stderr := run(t, nil, append([]string{"hooks", "test"}, args...)...)
	if code != exitOK {
		t.Fatalf("lc hooks test %v: exit %d\n%s%s", args, code, stdout, stderr)
	}
	return stdout
}

func TestExampleCompressAndIndex(t *testing.T) {
	dir := t.TempDir()
	index := filepath.Join(dir, "calls.tsv")
	script := example(t, "compress-and-index.lua", "/var/log/lc/calls.tsv", index)

	pcap := filepath.Join(dir, "x_sip.pcap")
	os.WriteFile(pcap, []byte("pcap bytes"), 0o644)
	hooksTest(t, script, "--exec", "--event", "pcap", "--pcap", pcap)
	if _, err := os.Stat(pcap + ".gz"); err != nil {
		t.Fatalf("pcap not compressed: %v", err)
	}
	hooksTest(t, script, "--exec", "--callid", "a'b;$(c)", "--caller", `"x" y`)
	data, _ := os.ReadFile(index)
	want := "2026-01-02T03:04:05Z\tcompleted\t200\t42\t\"x\" y\tbob@b.example\ta'b;$(c)\t"
	if !strings.HasPrefix(string(data), want) || strings.Count(string(data), "\n") != 1 {
		t.Fatalf("index = %q, want one line starting %q", data, want)
	}

	// The same script through lc process on the sample capture.
	out := filepath.Join(dir, "out")
	os.Remove(index)
	code, _, stderr := run(t, nil, "process", "-r", samplePath, "-o", out, "--hook-script", script)
	if code != exitOK || !strings.Contains(stderr, "hooks: 8 ran, 0 failed") {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	var pcaps, gz int
	filepath.Walk(out, func(p string, fi os.FileInfo, err error) error {
		switch {
		case strings.HasSuffix(p, ".pcap"):
			pcaps++
		case strings.HasSuffix(p, ".pcap.gz"):
			gz++
		}
		return err
	})
	lines, _ := os.ReadFile(index)
	if pcaps != 0 || gz != 5 || strings.Count(string(lines), "\n") != 3 {
		t.Fatalf("%d pcaps left, %d compressed, index:\n%s", pcaps, gz, lines)
	}
}

func TestExampleArchiveAnswered(t *testing.T) {
	archive := t.TempDir()
	script := example(t, "archive-answered.lua", "/srv/call-archive", archive)
	call := filepath.Join(t.TempDir(), "030405_c1")
	os.MkdirAll(call, 0o755)
	os.WriteFile(filepath.Join(call, "c1_sip.pcap"), []byte("x"), 0o644)

	hooksTest(t, script, "--exec", "--dirname", call, "--duration", "5s")
	hooksTest(t, script, "--exec", "--dirname", call, "--state", "failed", "--status", "486")
	if entries, _ := os.ReadDir(archive); len(entries) != 0 {
		t.Fatalf("a short or failed call was archived: %v", entries)
	}
	hooksTest(t, script, "--exec", "--dirname", call, "--duration", "30s")
	if _, err := os.Stat(filepath.Join(archive, "2026", "01", "02", "030405_c1", "c1_sip.pcap")); err != nil {
		t.Fatalf("answered call not archived: %v", err)
	}
}

func TestExamplePostFailed(t *testing.T) {
	got := make(chan map[string]any, 2)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("bad request %q: %v", body, err)
		}
		got <- m
	}))
	defer srv.Close()
	script := example(t, "post-failed.lua", "http://127.0.0.1:8080/lc/failed-calls", srv.URL)
	hooksTest(t, script, "--exec", "--state", "completed")
	hooksTest(t, script, "--exec", "--state", "failed", "--status", "503", "--callid", `q"uo'te`)
	select {
	case m := <-got:
		if m["callid"] != `q"uo'te` || m["status"] != float64(503) || m["caller"] != "alice@a.example" {
			t.Fatalf("posted %v", m)
		}
	default:
		t.Fatal("nothing was posted for the failed call")
	}
	if len(got) != 0 {
		t.Fatal("the completed call was posted too")
	}
}

func TestExampleClassicVoipCommand(t *testing.T) {
	dir := t.TempDir()
	args := filepath.Join(dir, "args")
	prog := filepath.Join(dir, "voip-hook")
	os.WriteFile(prog, []byte("#!/bin/sh\nfor a in \"$@\"; do printf '[%s]' \"$a\"; done > "+args+"\n"), 0o755)
	script := example(t, "classic-voip-command.lua", "/usr/local/bin/voip-hook", prog)
	hooksTest(t, script, "--exec", "--callid", "id with spaces;rm", "--caller", "$(x)@h", "--dirname", "/d")
	data, _ := os.ReadFile(args)
	want := "[id with spaces;rm][/d][$(x)@h][bob@b.example][2026-01-02T03:04:05Z]"
	if string(data) != want {
		t.Fatalf("program got %s, want %s", data, want)
	}
}

// TestExampleOneWayAudio runs lc process on a call whose callee never
// sends RTP.
func TestExampleOneWayAudio(t *testing.T) {
	script := example(t, "one-way-audio.lua")
	d := testpcap.NewDialog(7)
	tl := &testpcap.Timeline{Now: time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)}
	tl.Add(testpcap.UDP(d.Caller, d.Callee, d.Request("INVITE", 1, "", testpcap.SDP(d.CallerRTP))), time.Millisecond)
	tl.Add(testpcap.UDP(d.Callee, d.Caller, d.Response(200, "OK", "INVITE", 1, "t", testpcap.SDP(d.CalleeRTP))), time.Millisecond)
	tl.Add(testpcap.UDP(d.Caller, d.Callee, d.Request("ACK", 1, "t", "")), time.Millisecond)
	for i := range 400 { // 8 s of audio, caller to callee only
		tl.Add(testpcap.UDP(d.CallerRTP, d.CalleeRTP, testpcap.RTP(uint16(i), uint32(i)*160, 1)), 20*time.Millisecond)
	}
	tl.Add(testpcap.UDP(d.Caller, d.Callee, d.Request("BYE", 2, "t", "")), time.Millisecond)
	in := filepath.Join(t.TempDir(), "oneway.pcap")
	testpcap.WriteFile(t, in, tl.Pkts)
	out := t.TempDir()
	code, _, stderr := run(t, nil, "process", "-r", in, "-o", out, "--hook-script", script)
	if code != exitOK || !strings.Contains(stderr, "one-way audio") {
		t.Fatalf("exit %d, no warning:\n%s", code, stderr)
	}
	marks, _ := filepath.Glob(filepath.Join(out, "calls", "*", "*", "ONE-WAY-AUDIO"))
	if len(marks) != 1 {
		t.Fatalf("%d ONE-WAY-AUDIO marks", len(marks))
	}
}
