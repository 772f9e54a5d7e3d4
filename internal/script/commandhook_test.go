package script

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/lc-voip/lc/internal/event"
	"github.com/lc-voip/lc/internal/script/runner"
)

// TestCommandHookLogLevels: a command hook that succeeds is logged at
// Debug only, one that fails or times out at Warn with its output, and
// the Engine's failure line is an Error.
func TestCommandHookLogLevels(t *testing.T) {
	tests := []struct {
		name    string
		tmpl    string
		timeout time.Duration
		level   string // of the exec line
		failed  bool
		output  string // in the exec line
	}{
		{name: "success", tmpl: "sh -c 'echo all-good' %pcap%", level: "DEBUG", output: `stdout="all-good`},
		{name: "non-zero exit", tmpl: "sh -c 'echo went-wrong >&2; exit 3' %pcap%", level: "WARN", failed: true, output: `stderr="went-wrong`},
		{name: "timeout", tmpl: "sh -c 'echo started; exec sleep 5' %pcap%", timeout: 200 * time.Millisecond, level: "WARN", failed: true, output: `stdout="started`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
			run := &runner.Runner{Timeout: tt.timeout, KillGrace: 50 * time.Millisecond}
			hook := NewCommandHook("pcap-command", event.TypeFileClosed, mustTemplate(t, tt.tmpl, Placeholders(event.TypeFileClosed)), run, log)
			e := NewEngine(EngineConfig{Logger: log}, Set{Hooks: []Hook{hook}})
			e.Submit(fileEvent("x", 0))
			st := e.Close(t.Context())
			if got := st.Failed == 1; got != tt.failed {
				t.Fatalf("stats %+v", st)
			}
			var exec string
			for line := range strings.Lines(buf.String()) {
				if strings.Contains(line, "msg=exec ") {
					exec = line
				}
				if strings.Contains(line, "level=INFO") {
					t.Errorf("a hook run logged at Info: %s", line)
				}
			}
			if !strings.Contains(exec, "level="+tt.level+" ") || !strings.Contains(exec, tt.output) {
				t.Errorf("exec line at %s with %s wanted, got %q", tt.level, tt.output, exec)
			}
			if failure := strings.Contains(buf.String(), `level=ERROR msg="hook failed"`); failure != tt.failed {
				t.Errorf("failure logged: %v, want %v:\n%s", failure, tt.failed, buf.String())
			}
		})
	}
}
