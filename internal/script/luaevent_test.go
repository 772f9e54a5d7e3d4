package script

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lc-voip/lc/internal/processor"
)

// runForLog runs the hook of src for ev and returns the messages it logged.
func runForLog(t *testing.T, src string, ev processor.Event) []string {
	t.Helper()
	var tr traces
	cfg := testLuaConfig()
	cfg.Trace = tr.add
	h := newTestHooks(t, src, cfg)
	if err := h.Hooks()[0].Run(t.Context(), ev); err != nil {
		t.Fatal(err)
	}
	return tr.logs()
}

func decodeJSON(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("bad JSON %q: %v", s, err)
	}
	return v
}

func epoch(tm time.Time) float64 { return float64(tm.UnixNano()) / 1e9 }

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
	want := map[string]any{
		"callid":         ev.CallID,
		"dirname":        ev.Dirname,
		"caller":         ev.Caller,
		"called":         ev.Called,
		"calldate":       "2024-03-01T12:30:15Z",
		"enddate":        "2024-03-01T12:30:57Z",
		"calldate_epoch": epoch(ev.CallDate),
		"enddate_epoch":  epoch(ev.EndDate),
		"duration":       42.5,
		"state":          "completed",
		"status":         200.0,
		"partial":        false,
		"files":          []any{ev.SIPFiles[0], ev.SIPFiles[1], ev.RTPFiles[0]},
		"sip_files":      []any{ev.SIPFiles[0], ev.SIPFiles[1]},
		"rtp_files":      []any{ev.RTPFiles[0]},
		"sip_packets":    12.0,
		"rtp_packets":    4200.0,
		"streams": []any{
			map[string]any{"media": "audio", "addr": "192.0.2.10:49170", "rtcp": "192.0.2.10:49171", "packets": 2100.0},
			map[string]any{"media": "audio", "addr": "[2001:db8::1]:5004", "rtcp": "", "packets": 2100.0},
		},
		"incomplete": true,
		"errors":     []any{"write /x: no space left on device"},
		"follows":    "/var/lc/calls/2024-03-01/122001_a84b4c76e66710",
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
	ev := processor.CallCompleted{CallID: "c", State: processor.StateFailed}
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
	want := map[string]any{
		"path":        ev.Path,
		"basename":    "x_sip.pcap",
		"dirname":     "/var/lc/calls/2024-03-01/123015_x",
		"kind":        "sip",
		"callid":      "x@host",
		"part":        1.0,
		"reason":      "rotate-size",
		"packets":     10.0,
		"bytes":       4096.0,
		"first":       "2024-03-01T12:30:15Z",
		"last":        "2024-03-01T12:30:17Z",
		"first_epoch": epoch(ev.First),
		"last_epoch":  epoch(ev.Last),
		"error":       "",
	}
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
	var tr traces
	cfg := testLuaConfig()
	cfg.Trace = tr.add
	h := newTestHooks(t, `
function on_call_complete(call)
  log.info(table.concat(call.files, " "))
  exec("gzip -9 %files%")
  exec("gzip %rtpfiles% >> /dev/null")
  exec("x %files% %sipfiles%", {files = "over"})
end`, cfg)
	if err := h.Hooks()[0].Run(t.Context(), ev); err != nil {
		t.Fatal(err)
	}
	all := slices.Concat(ev.SIPFiles, ev.RTPFiles)
	if logs := tr.logs(); len(logs) != 1 || logs[0] != strings.Join(all, " ") {
		t.Errorf("call.files = %q, want %q", logs, all)
	}
	execs := onlyKind(tr.all(), "exec")
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
