package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestJSONLogDurations: in JSON logs a duration is seconds as a number,
// in groups too; the text format keeps Go's form.
func TestJSONLogDurations(t *testing.T) {
	var buf bytes.Buffer
	log, err := newLogger(&buf, "info", "JSON")
	if err != nil {
		t.Fatal(err)
	}
	log.Info("ran", "duration", 1500*time.Millisecond, slog.Group("hook", slog.Duration("took", 250*time.Microsecond)), "count", 3)
	var got struct {
		Duration any `json:"duration"`
		Hook     struct {
			Took any `json:"took"`
		} `json:"hook"`
		Count any `json:"count"`
	}
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("%v: %s", err, buf.String())
	}
	if got.Duration != 1.5 || got.Hook.Took != 0.00025 || got.Count != 3.0 {
		t.Errorf("duration %#v, hook.took %#v, count %#v: %s", got.Duration, got.Hook.Took, got.Count, buf.String())
	}

	buf.Reset()
	log, err = newLogger(&buf, "info", "text")
	if err != nil {
		t.Fatal(err)
	}
	log.Info("ran", "duration", 1500*time.Millisecond)
	if !strings.Contains(buf.String(), "duration=1.5s") {
		t.Errorf("text: %s", buf.String())
	}
}

// TestHookRunsNotAtInfo: a run with hooks that all succeed logs none of
// them at Info (nor at all at the default level); at Debug each is there.
func TestHookRunsNotAtInfo(t *testing.T) {
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			args := []string{"process", "-r", samplePath, "-o", t.TempDir(), "--pcap-command", "echo %pcap%", "--voip-command", "echo %callid%",
				"--log-format", format, "--progress", "never"}
			code, _, stderr := run(t, nil, args...)
			if code != exitOK {
				t.Fatalf("exit %d:\n%s", code, stderr)
			}
			if strings.Contains(stderr, "exec") || strings.Contains(stderr, "echo") {
				t.Errorf("successful hook runs logged at the default level:\n%s", stderr)
			}
			code, _, stderr = run(t, nil, append(args[:len(args):len(args)], "--log-level", "debug", "-o", t.TempDir())...)
			if code != exitOK {
				t.Fatalf("exit %d:\n%s", code, stderr)
			}
			want := map[string]string{"text": "level=DEBUG msg=exec", "json": `"level":"DEBUG","msg":"exec"`}[format]
			if n := strings.Count(stderr, want); n != 8 {
				t.Errorf("%d debug lines of hook runs, want 8 (5 files, 3 calls):\n%s", n, stderr)
			}
		})
	}
}
