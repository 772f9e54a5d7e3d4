package script

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/lc-voip/lc/internal/event"
	"github.com/lc-voip/lc/internal/testenv"
)

// runForLog runs the hook of src for ev and returns the messages it logged.
func runForLog(t *testing.T, src string, ev event.Event) []string {
	t.Helper()
	var tr testenv.Recorder[Trace]
	cfg := testLuaConfig()
	cfg.Trace = tr.Add
	h := newTestHooks(t, src, cfg)
	if err := h.Hooks().Hooks[0].Run(t.Context(), ev); err != nil {
		t.Fatal(err)
	}
	return logMessages(tr.All())
}

func decodeJSON(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("bad JSON %q: %v", s, err)
	}
	return v
}

// eventJSON is ev's JSON rendering as a map, without its "event" key.
func eventJSON(t *testing.T, ev event.Event) map[string]any {
	t.Helper()
	m := decodeJSON(t, string(event.AppendJSON(nil, ev))).(map[string]any)
	delete(m, "event")
	return m
}

func TestLuaCallTable(t *testing.T) {
	ev := testCall()
	ev.Incomplete, ev.Errors = true, []string{"write /x: no space left on device"}
	ev.Follows = "/var/lc/calls/2024-03-01/122001_a84b4c76e66710"
	logs := runForLog(t, `
function on_call_complete(call)
  log.info(json.encode(call))
  local types = {}
  for k, v in pairs(call) do types[k] = type(v) end
  log.info(json.encode(types))
end`, ev)
	if len(logs) != 2 {
		t.Fatalf("logs = %q", logs)
	}
	// The Lua table is the event's JSON rendering, field for field.
	want := eventJSON(t, ev)
	if want["calldate"] != "2024-03-01T12:30:15.25Z" || want["duration"] != 42.5 {
		t.Fatalf("the test call is not what it was: %v", want)
	}
	if got := decodeJSON(t, logs[0]); !reflect.DeepEqual(got, any(want)) {
		t.Errorf("call table:\n got %v\nwant %v", got, want)
	}
	wantTypes := map[string]any{}
	for k, v := range want {
		switch v.(type) {
		case string:
			wantTypes[k] = "string"
		case float64:
			wantTypes[k] = "number"
		case bool:
			wantTypes[k] = "boolean"
		default:
			wantTypes[k] = "table"
		}
	}
	if got := decodeJSON(t, logs[1]); !reflect.DeepEqual(got, any(wantTypes)) {
		t.Errorf("call field types:\n got %v\nwant %v", got, wantTypes)
	}
}

func TestLuaCallTableEmpty(t *testing.T) {
	ev := event.CallCompleted{CallID: "c", State: event.StateFailed}
	logs := runForLog(t, `function on_call_complete(call) log.info(json.encode(call)) end`, ev)
	got := decodeJSON(t, logs[0]).(map[string]any)
	for _, k := range []string{"files", "sip_files", "rtp_files", "streams", "errors"} {
		if a, ok := got[k].([]any); !ok || len(a) != 0 {
			t.Errorf("%s = %#v, want []", k, got[k])
		}
	}
	if got["status"] != 0.0 || got["calldate"] != "" || got["calldate_epoch"] != 0.0 {
		t.Errorf("empty call = %v", got)
	}
}

func TestLuaFileTable(t *testing.T) {
	ev := testFile()
	logs := runForLog(t, `
function on_pcap_close(path, file)
  log.info(path)
  log.info(json.encode(file))
end`, ev)
	if logs[0] != ev.Path {
		t.Errorf("path = %q", logs[0])
	}
	want := eventJSON(t, ev)
	if got := decodeJSON(t, logs[1]); !reflect.DeepEqual(got, any(want)) {
		t.Errorf("file table:\n got %v\nwant %v", got, want)
	}
}

// TestLuaCallFilesAllParts checks that call.files has every part of both
// kinds, and that exec() templates in a call hook have the list
// placeholders.
func TestLuaCallFilesAllParts(t *testing.T) {
	ev := testCall()
	ev.RTPFiles = []string{"/var/lc/calls/x/a_rtp.pcap", "/var/lc/calls/x/a_rtp_1.pcap"}
	var tr testenv.Recorder[Trace]
	cfg := testLuaConfig()
	cfg.Trace = tr.Add
	h := newTestHooks(t, `
function on_call_complete(call)
  log.info(table.concat(call.files, " "))
  exec("gzip -9 %files%")
  exec("gzip %rtp_files% >> /dev/null")
  exec("x %files% %sip_files%", {files = "over"})
end`, cfg)
	if err := h.Hooks().Hooks[0].Run(t.Context(), ev); err != nil {
		t.Fatal(err)
	}
	all := slices.Concat(ev.SIPFiles, ev.RTPFiles)
	if logs := logMessages(tr.All()); len(logs) != 1 || logs[0] != strings.Join(all, " ") {
		t.Errorf("call.files = %q, want %q", logs, all)
	}
	execs := onlyKind(tr.All(), "exec")
	if len(execs) != 3 {
		t.Fatalf("execs = %+v", execs)
	}
	if want := slices.Concat([]string{"gzip", "-9"}, all); !slices.Equal(execs[0].Argv, want) {
		t.Errorf("argv = %q, want %q", execs[0].Argv, want)
	}
	if execs[1].Script != `gzip "${1}" "${2}" >> /dev/null` || !slices.Equal(execs[1].Params, ev.RTPFiles) {
		t.Errorf("shell exec = %q %q", execs[1].Script, execs[1].Params)
	}
	if want := slices.Concat([]string{"x", "over"}, ev.SIPFiles); !slices.Equal(execs[2].Argv, want) {
		t.Errorf("argv with vars = %q, want %q", execs[2].Argv, want)
	}
}
