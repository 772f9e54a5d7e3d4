package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lc-voip/lc/internal/script"
	"github.com/lc-voip/lc/internal/testenv"
	"github.com/lc-voip/lc/internal/testpcap"
)

// pausingReader serves data, stopping once at pauseAt until resumed.
type pausingReader struct {
	data    []byte
	pauseAt int
	paused  chan struct{} // closed when the reader reaches pauseAt
	resume  chan struct{} // closed by the test to go on

	// Used by the reading goroutine only.
	off    int
	waited bool
}

func (r *pausingReader) Read(p []byte) (int, error) {
	if r.off == r.pauseAt && !r.waited {
		r.waited = true
		close(r.paused)
		<-r.resume
	}
	end := len(r.data)
	if r.off < r.pauseAt {
		end = r.pauseAt
	}
	if r.off >= len(r.data) {
		return 0, io.EOF
	}
	n := copy(p, r.data[r.off:end])
	r.off += n
	return n, nil
}

// TestReload changes the voip command in the config file between two
// calls and reloads: the first call's hook ran with the old command, the
// second's with the new one.
func TestReload(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "hooks.log")
	config := filepath.Join(dir, "config.yaml")
	writeConfig := func(word string) {
		yaml := "processor:\n  voip_command: \"echo " + word + " %callid% >> " + log + "\"\n"
		if err := os.WriteFile(config, []byte(yaml), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeConfig("old")

	tl := &testpcap.Timeline{Now: time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC)}
	tl.BasicCall(testpcap.NewDialog(1), 2)
	o := testpcap.NewDialog(9)
	tl.Now = tl.Now.Add(10 * time.Second) // past the grace period: call 1 ends
	tl.Add(testpcap.UDP(o.Caller, o.Callee, o.Request("OPTIONS", 1, "", "")), time.Second)
	first := testpcap.Bytes(tl.Pkts)
	tl.BasicCall(testpcap.NewDialog(2), 2)
	data := testpcap.Bytes(tl.Pkts)

	in := &pausingReader{data: data, pauseAt: len(first), paused: make(chan struct{}), resume: make(chan struct{})}
	stderr := new(testenv.Buffer)
	reload := make(chan struct{})
	var code int
	done := make(chan struct{})
	go func() {
		defer close(done)
		code = execute(t.Context(), []string{"process", "-r", "-", "-o", filepath.Join(dir, "out"), "--config", config, "--log-level", "debug"},
			streams{in: in, out: &bytes.Buffer{}, err: stderr, lookupEnv: noEnv, abort: context.Background(), reload: reload})
	}()
	<-in.paused
	stderr.WaitFor("msg=exec component=hooks hook=voip-command event=call_completed callid=call-1@lc.test") // the first call's hook ran (logged at debug)
	writeConfig("new")
	reload <- struct{}{}
	stderr.WaitFor("hooks reloaded")
	close(in.resume)
	<-done
	if code != exitOK {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	got, _ := os.ReadFile(log)
	if want := "old call-1@lc.test\nnew call-2@lc.test\n"; string(got) != want {
		t.Fatalf("hook log:\n%s\nwant:\n%s\nstderr:\n%s", got, want, stderr)
	}
}

// TestReloadInvalidKeepsHooks reloads a broken template: the old hooks
// stay and the error is logged.
func TestReloadInvalidKeepsHooks(t *testing.T) {
	dir := t.TempDir()
	config := filepath.Join(dir, "config.yaml")
	os.WriteFile(config, []byte("processor:\n  voip_command: \"true %callid%\"\n"), 0o644)
	given := newProcessCmd(streams{}).Flags()
	if err := given.Parse([]string{"--config", config}); err != nil {
		t.Fatal(err)
	}
	engine := script.NewEngine(script.EngineConfig{}, script.Set{})
	defer engine.Close(t.Context())
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, nil))
	os.WriteFile(config, []byte("processor:\n  voip_command: \"true %nosuch%\"\n"), 0o644)
	reloadHooks(given, streams{lookupEnv: noEnv}, config, engine, logger)
	if !strings.Contains(buf.String(), "reload failed; the current hooks stay") || !strings.Contains(buf.String(), "nosuch") {
		t.Fatalf("log:\n%s", buf.String())
	}
}
