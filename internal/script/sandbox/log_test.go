package sandbox

import (
	"bytes"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/lc-voip/lc/internal/testenv"
)

// TestLog checks log.*() and print(): the lines of the main chunk at load
// go to Config.Logger, those of a call to Call.Log (or Config.Logger when
// it has none), those of the rerun before a call nowhere; every line is
// traced.
func TestLog(t *testing.T) {
	var buf bytes.Buffer
	base := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg := testConfig()
	cfg.Logger = base.With("logger", "config")
	var tr traces
	cfg.Trace = tr.add
	p := newTestPool(t, `
log.info("loaded")
print("top", "level")
function on_call_complete(call)
  log.debug("d")
  log.info("i", {a = 1, b = {c = "x", d = {e = 2.5, f = {g = 1}}}, ok = true, [3] = "three", fn = print})
  log.warn("w")
  log.error("e")
  print("p", 1, nil, true)
  log.info(setmetatable({}, {__tostring = function() return "meta" end}))
  log.info(string.rep("x", 20000))
end`, cfg)
	c := callOf(callFunction, testCall())
	c.Log = base.With("logger", "call", "hook", c.Name)
	if err := p.Call(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	c.Log = nil
	if err := p.Call(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	lines := testenv.JSONLines(t, buf.String())
	var msgs, loggers []string
	for _, l := range lines {
		msgs = append(msgs, l["level"].(string)+":"+clipString(l["msg"].(string), 12))
		loggers = append(loggers, l["logger"].(string))
	}
	// The main chunk logs at load only, not when it is rerun before each
	// call.
	want := []string{"INFO:loaded", "INFO:top\tlevel"}
	wantLoggers := []string{"config", "config"}
	for _, logger := range []string{"call", "config"} {
		want = append(want, "DEBUG:d", "INFO:i", "WARN:w", "ERROR:e", "INFO:p\t1\tnil\ttrue", "INFO:meta", "INFO:"+strings.Repeat("x", 12)+"…")
		for range 7 {
			wantLoggers = append(wantLoggers, logger)
		}
	}
	if !slices.Equal(msgs, want) {
		t.Fatalf("messages:\n got %q\nwant %q", msgs, want)
	}
	if !slices.Equal(loggers, wantLoggers) {
		t.Errorf("loggers:\n got %q\nwant %q", loggers, wantLoggers)
	}
	if lines[0]["hook"] != nil || lines[3]["hook"] != "lua:on_call_complete" || lines[10]["hook"] != nil {
		t.Errorf("the sandbox added attributes: %v, %v", lines[0], lines[10])
	}
	i := lines[3]
	wantAttrs := map[string]any{
		"a": 1.0, "b.c": "x", "b.d.e": 2.5, "b.d.f": "table", "ok": true, "3": "three", "fn": "function",
	}
	for k, v := range wantAttrs {
		if i[k] != v {
			t.Errorf("attr %s = %#v, want %#v", k, i[k], v)
		}
	}
	if n := len(lines[8]["msg"].(string)); n > maxLogMessage+10 {
		t.Errorf("a long message was logged with %d bytes", n)
	}
	logs := onlyKind(tr.all(), "log")
	if len(logs) != len(want) || logs[3].Level != "info" || logs[3].Fields["b.c"] != "x" {
		t.Errorf("log traces = %+v", logs[:4])
	}
	if logs[0].Hook != "" || logs[2].Hook != "lua:on_call_complete" || logs[2].Level != "debug" {
		t.Errorf("log traces = %+v", logs[:3])
	}
}

// onlyKind returns the traces of list of that kind.
func onlyKind(list []Trace, kind string) []Trace {
	return slices.DeleteFunc(slices.Clone(list), func(tr Trace) bool { return tr.Kind != kind })
}
