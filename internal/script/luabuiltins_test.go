package script

import (
	"bytes"
	"errors"
	"log/slog"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lc-voip/lc/internal/script/runner"
	"github.com/lc-voip/lc/internal/testenv"
)

// execTraces runs the on_call_complete of src with cfg and returns what it
// did.
func execTraces(t *testing.T, src string, cfg LuaConfig) ([]Trace, error) {
	t.Helper()
	var tr testenv.Recorder[Trace]
	cfg.Trace = tr.Add
	h := newTestHooks(t, src, cfg)
	err := hookNamed(t, h, "lua:on_call_complete").Run(t.Context(), testCall())
	return tr.All(), err
}

// logMessages are the messages of the log traces in list.
func logMessages(list []Trace) []string {
	var out []string
	for _, tr := range onlyKind(list, "log") {
		out = append(out, tr.Msg)
	}
	return out
}

// onlyKind returns the traces of list of that kind.
func onlyKind(list []Trace, kind string) []Trace {
	return slices.DeleteFunc(slices.Clone(list), func(tr Trace) bool { return tr.Kind != kind })
}

func TestLuaExecArgv(t *testing.T) {
	call := testCall()
	tests := []struct {
		name   string
		script string
		argv   []string
		shell  string
		params []string
	}{
		{"template", `exec("archive --id=%callid% %dirname%")`,
			[]string{"archive", "--id=" + call.CallID, call.Dirname}, "", nil},
		{"template with vars", `exec("archive %callid% %dest% %dirname%", {dest = "/srv/a b", dirname = "over"})`,
			[]string{"archive", call.CallID, "/srv/a b", "over"}, "", nil},
		{"vars are values", `exec("archive %x%", {x = "%callid% $(id) ;rm"})`,
			[]string{"archive", "%callid% $(id) ;rm"}, "", nil},
		{"number and boolean vars", `exec("x %n% %b%", {n = 42, b = true})`,
			[]string{"x", "42", "true"}, "", nil},
		{"argv table", `exec({"/usr/bin/archive", call.dirname, call.callid, 7})`,
			[]string{"/usr/bin/archive", call.Dirname, call.CallID, "7"}, "", nil},
		{"shell template", `exec("echo %caller% >> /tmp/calls.txt")`,
			nil, `echo "${1}" >> /tmp/calls.txt`, []string{call.Caller}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			list, err := execTraces(t, `function on_call_complete(call)
  local r = `+tt.script+`
  assert(r.dry_run == true and r.code == 0 and r.stdout == "" and r.timed_out == false and r.duration == 0)
end`, testLuaConfig())
			if err != nil {
				t.Fatal(err)
			}
			execs := onlyKind(list, "exec")
			if len(execs) != 1 {
				t.Fatalf("execs = %v", execs)
			}
			got := execs[0]
			if tt.shell != "" {
				if got.Script != tt.shell || !slices.Equal(got.Params, tt.params) || got.Argv[0] != "/bin/sh" {
					t.Errorf("shell exec = %q %q %q", got.Argv, got.Script, got.Params)
				}
			} else if !slices.Equal(got.Argv, tt.argv) {
				t.Errorf("argv = %q, want %q", got.Argv, tt.argv)
			}
			if got.Result == nil || !got.Result.DryRun || got.Hook != "lua:on_call_complete" {
				t.Errorf("trace = %+v", got)
			}
		})
	}
}

func TestLuaExecPcapPlaceholders(t *testing.T) {
	var tr testenv.Recorder[Trace]
	cfg := testLuaConfig()
	cfg.Trace = tr.Add
	h := newTestHooks(t, `function on_pcap_close(path, file) exec("gzip -9 %pcap% %basename% %kind%") end`, cfg)
	if err := h.Hooks().Hooks[0].Run(t.Context(), testFile()); err != nil {
		t.Fatal(err)
	}
	f := testFile()
	want := []string{"gzip", "-9", f.Path, "x_sip.pcap", "sip"}
	if execs := onlyKind(tr.All(), "exec"); len(execs) != 1 || !slices.Equal(execs[0].Argv, want) {
		t.Errorf("execs = %+v, want argv %q", execs, want)
	}
}

func TestLuaExecMisuse(t *testing.T) {
	tests := []struct {
		call, want string
	}{
		{`exec()`, "bad argument #1"},
		{`exec(42)`, "template string or argv table expected"},
		{`exec({})`, "empty argv"},
		{`exec({"a", {}})`, "argv[2] must be a string or number"},
		{`exec({"a"}, {x = 1})`, "vars only apply to a template"},
		{`exec("echo %nope%")`, "unknown"},
		{`exec("%callid%")`, "exec: command template"},
		{`exec("echo %x%", {x = {}})`, "vars.x must be a string, number or boolean"},
		{`exec("echo %x%", {["bad name"] = "v"})`, "invalid placeholder name"},
		{`exec("echo", 5)`, "table of vars expected"},
		{`exec("echo %pcap%")`, "unknown"}, // a FileClosed placeholder in a call hook
	}
	for _, tt := range tests {
		t.Run(tt.call, func(t *testing.T) {
			_, err := execTraces(t, "function on_call_complete(call) "+tt.call+" end", testLuaConfig())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestLuaExecRuns(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	cfg := testLuaConfig()
	cfg.Runner = &runner.Runner{}
	list, err := execTraces(t, `function on_call_complete(call)
  local r = exec({"sh", "-c", "printf '%s' \"$1\"; echo err >&2; exit 3", "sh", call.callid})
  assert(r.code == 3, "code " .. tostring(r.code))
  assert(r.stdout == call.callid, "stdout " .. r.stdout)
  assert(r.stderr == "err\n", "stderr " .. r.stderr)
  assert(r.timed_out == false and r.dry_run == nil and type(r.duration) == "number")
  local r2 = exec({"/nonexistent/program"})
  assert(r2.code == -1 and r2.error:find("start command"), r2.error)
  log.info("done")
end`, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(onlyKind(list, "exec")); n != 2 {
		t.Errorf("%d execs traced", n)
	}
}

// TestLuaExecDeadline checks that an exec() that outlives the hook's
// deadline is stopped at it and the hook fails as timed out.
func TestLuaExecDeadline(t *testing.T) {
	if _, err := exec.LookPath("sleep"); err != nil {
		t.Skip("no sleep")
	}
	cfg := testLuaConfig()
	cfg.Sandbox.Timeout = 300 * time.Millisecond
	cfg.Runner = &runner.Runner{KillGrace: 50 * time.Millisecond}
	start := time.Now()
	list, err := execTraces(t, `function on_call_complete(call)
  local r = exec({"sleep", "60"})
  log.info("after exec", {timed_out = r.timed_out})
  while true do end
end`, cfg)
	elapsed := time.Since(start)
	if !errors.Is(err, ErrTimeout) {
		t.Errorf("error = %v, want a timeout", err)
	}
	if elapsed > 10*time.Second { // a hook that waited for the sleep would take a minute
		t.Errorf("took %s with a %s deadline", elapsed, cfg.Sandbox.Timeout)
	}
	execs := onlyKind(list, "exec")
	if len(execs) != 1 || !execs[0].Result.TimedOut {
		t.Errorf("exec traces = %+v", execs)
	}
	t.Logf("hook with exec(sleep 5) ended after %s", elapsed)
}

// TestLuaLog: a script's log lines carry lc's attributes: the component
// and the script, and in a hook the hook and the event (the sandbox's own
// tests cover the lines themselves); they are traced as "log".
func TestLuaLog(t *testing.T) {
	var buf bytes.Buffer
	cfg := testLuaConfig()
	cfg.Logger = slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var tr testenv.Recorder[Trace]
	cfg.Trace = tr.Add
	h := newTestHooks(t, `
log.info("loaded")
function on_call_complete(call)
  log.warn("w", {n = 1})
end`, cfg)
	if err := h.Hooks().Hooks[0].Run(t.Context(), testCall()); err != nil {
		t.Fatal(err)
	}
	lines := testenv.JSONLines(t, buf.String())
	if len(lines) != 2 {
		t.Fatalf("log lines:\n%s", buf.String())
	}
	if l := lines[0]; l["msg"] != "loaded" || l["component"] != "hooks" || l["script"] != "test.lua" || l["hook"] != nil {
		t.Errorf("load line = %v", l)
	}
	want := map[string]any{"msg": "w", "level": "WARN", "component": "hooks", "script": "test.lua",
		"hook": "lua:on_call_complete", "event": "call_completed", "callid": testCall().CallID, "n": 1.0}
	for k, v := range want {
		if lines[1][k] != v {
			t.Errorf("hook line %s = %#v, want %#v", k, lines[1][k], v)
		}
	}
	if logs := onlyKind(tr.All(), "log"); len(logs) != 2 || logs[1].Level != "warn" || logs[1].Hook != "lua:on_call_complete" {
		t.Errorf("log traces = %+v", logs)
	}
}
