package sandbox

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/lc-voip/lc/internal/testenv"
)

// The functions the tests' scripts define, as lc's hooks are named.
const (
	pcapFunction = "on_pcap_close"
	callFunction = "on_call_complete"
)

// testFunctions are the functions the tests give NewPool and Check.
var testFunctions = []string{pcapFunction, callFunction}

// testCallID is the Call-ID of the call-like table of testCall.
const testCallID = "a84b4c76e66710@pc33.example.com"

// testCall is a call-like table, as lc gives on_call_complete: the
// tests' scripts read call.callid, call.status, call.files...
func testCall() Table { return testCallWith(testCallID) }

// testCallWith is testCall with another Call-ID.
func testCallWith(callID string) Table {
	return Table{
		{"callid", callID},
		{"dirname", "/var/lc/calls/2024-03-01/123015_a84b4c76e66710"},
		{"caller", "alice@example.com"},
		{"called", "bob@example.org"},
		{"calldate", "2024-03-01T12:30:15Z"},
		{"calldate_epoch", 1709296215.25},
		{"enddate", "2024-03-01T12:30:57Z"},
		{"enddate_epoch", 1709296257.75},
		{"duration", 42.5},
		{"state", "completed"},
		{"status", 200},
		{"partial", false},
		{"files", []string{"/var/lc/calls/x/a_sip.pcap", "/var/lc/calls/x/a_sip_1.pcap", "/var/lc/calls/x/a_rtp.pcap"}},
		{"sip_files", []string{"/var/lc/calls/x/a_sip.pcap", "/var/lc/calls/x/a_sip_1.pcap"}},
		{"rtp_files", []string{"/var/lc/calls/x/a_rtp.pcap"}},
		{"sip_packets", int64(12)},
		{"rtp_packets", int64(4200)},
		{"streams", []Table{
			{{"media", "audio"}, {"addr", "192.0.2.10:49170"}, {"rtcp", "192.0.2.10:49171"}, {"packets", int64(2100)}},
			{{"media", "audio"}, {"addr", "[2001:db8::1]:5004"}, {"rtcp", ""}, {"packets", int64(2100)}},
		}},
		{"incomplete", false},
		{"errors", []string{}},
		{"follows", ""},
	}
}

// testFile is a file-like path and table, as lc gives on_pcap_close.
func testFile() (string, Table) {
	const path = "/var/lc/calls/2024-03-01/123015_x/x_sip.pcap"
	return path, Table{
		{"path", path},
		{"basename", "x_sip.pcap"},
		{"dirname", "/var/lc/calls/2024-03-01/123015_x"},
		{"kind", "sip"},
		{"callid", "x@host"},
		{"part", 1},
		{"reason", "rotate-size"},
		{"packets", int64(10)},
		{"bytes", int64(4096)},
		{"first", "2024-03-01T12:30:15Z"},
		{"first_epoch", 1709296215.25},
		{"last", "2024-03-01T12:30:17Z"},
		{"last_epoch", 1709296217.25},
		{"error", ""},
	}
}

// testExec is the tests' exec() builtin: a dry run of lc's, which
// refuses to run from top-level code and returns a result table.
func testExec(inv *Invocation) int {
	if !inv.Running() {
		inv.L.RaiseError("exec() can only be called from a hook function, not from top-level code")
	}
	inv.L.CheckAny(1)
	inv.Push(Table{{"code", 0}, {"stdout", ""}, {"stderr", ""}, {"timed_out", false}, {"duration", 0.0}, {"dry_run", true}})
	return 1
}

// testConfig are the limits of the tests: 500 ms, 16 MiB, and exec().
func testConfig() Config {
	return Config{
		Timeout:     500 * time.Millisecond,
		MemoryLimit: 16 << 20,
		PoolSize:    2,
		Builtins:    map[string]Builtin{"exec": testExec},
	}
}

func compile(tb testing.TB, src string) *Script {
	tb.Helper()
	s, err := Compile("test.lua", []byte(src))
	if err != nil {
		tb.Fatalf("Compile: %v", err)
	}
	return s
}

func newTestPool(tb testing.TB, src string, cfg Config) *Pool {
	tb.Helper()
	p, err := NewPool(compile(tb, src), cfg, testFunctions)
	if err != nil {
		tb.Fatalf("NewPool: %v", err)
	}
	tb.Cleanup(p.Close)
	return p
}

// callOf is the Call of function fn with args, named as lc names it.
func callOf(fn string, args ...any) Call {
	return Call{Func: fn, Name: "lua:" + fn, Args: args}
}

// onCall calls on_call_complete with call.
func onCall(ctx context.Context, p *Pool, call Table) error {
	return p.Call(ctx, callOf(callFunction, call))
}

// onPcap calls on_pcap_close with testFile.
func onPcap(ctx context.Context, p *Pool) error {
	path, file := testFile()
	return p.Call(ctx, callOf(pcapFunction, path, file))
}

// traces collects Trace records.
type traces struct{ testenv.Recorder[Trace] }

func (t *traces) add(tr Trace) { t.Add(tr) }

func (t *traces) all() []Trace { return t.All() }

func (t *traces) logs() []string {
	var out []string
	for _, tr := range t.all() {
		if tr.Kind == "log" {
			out = append(out, tr.Msg)
		}
	}
	return out
}

func TestPoolFunctions(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"both", "function on_call_complete(c) end function on_pcap_close(p, f) end", []string{pcapFunction, callFunction}},
		{"pcap only", "function on_pcap_close(p, f) end", []string{pcapFunction}},
		{"call only", "on_call_complete = function(c) end", []string{callFunction}},
		{"no function", "local x = 1", nil},
		{"local function", "local function on_call_complete() end", nil},
		{"not a function", "on_call_complete = 1", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newTestPool(t, tt.src, testConfig())
			if got := p.Functions(); strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("functions = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestNewPoolErrors(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"runtime error", "function on_call_complete() end\nerror('boom')", "test.lua:2: boom"},
		{"exec at top level", "function on_call_complete() end\nexec({'true'})", "exec() can only be called from a hook function"},
		{"top-level loop", "function on_call_complete() end\nwhile true do end", "hook timed out"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tr traces
			cfg := testConfig()
			cfg.Trace = tr.add
			_, err := NewPool(compile(t, tt.src), cfg, testFunctions)
			var le *Error
			if !errors.As(err, &le) || !strings.Contains(err.Error(), tt.want) || le.Hook != "" || !strings.HasPrefix(err.Error(), "test.lua: ") {
				t.Fatalf("NewPool error = %v, want an *Error containing %q", err, tt.want)
			}
			if list := tr.all(); len(list) != 1 || list[0].Kind != "error" || list[0].Hook != "" || list[0].Err != err {
				t.Errorf("traces = %+v", list)
			}
		})
	}
}

func TestCompileSyntaxError(t *testing.T) {
	tests := []struct {
		src, want string
	}{
		{"function on_call_complete(c)\n  if c then\nend", "hooks.lua: at end of file:"},
		{"local x = = 1", "hooks.lua:1: "},
		{"x = 1\ny = )", "hooks.lua:2: "},
		{"goto nowhere", "hooks.lua:"},
	}
	for _, tt := range tests {
		_, err := Compile("hooks.lua", []byte(tt.src))
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("Compile(%q) error = %v, want prefix %q", tt.src, err, tt.want)
		}
	}
}

// TestCallError: a failed call returns an *Error and traces it, and the
// sandbox logs nothing of it (the caller does).
func TestCallError(t *testing.T) {
	var logBuf bytes.Buffer
	cfg := testConfig()
	cfg.Logger = slog.New(slog.NewTextHandler(&logBuf, nil))
	var tr traces
	cfg.Trace = tr.add
	p := newTestPool(t, `
function on_call_complete(call)
  local t = nil
  return t.x
end
function on_pcap_close(path, file)
  error({message = "table error"})
end`, cfg)
	err := onCall(t.Context(), p, testCall())
	var le *Error
	if !errors.As(err, &le) {
		t.Fatalf("Call error = %v, want an *Error", err)
	}
	if !strings.Contains(le.Message, "test.lua:4:") || le.Traceback == "" || le.Hook != "lua:on_call_complete" || le.Script != "test.lua" {
		t.Errorf("error = %+v", le)
	}
	if errors.Is(err, ErrTimeout) || errors.Is(err, ErrMemoryLimit) {
		t.Errorf("plain error wraps a limit: %v", err)
	}
	err = onPcap(t.Context(), p)
	if err == nil || err.Error() != "lua:on_pcap_close: error object is a table: message = table error" {
		t.Errorf("table error = %v", err)
	}
	if logBuf.Len() != 0 {
		t.Errorf("the sandbox logged:\n%s", logBuf.String())
	}
	var kinds []string
	for _, x := range tr.all() {
		kinds = append(kinds, x.Kind+":"+x.Hook)
	}
	if strings.Join(kinds, ",") != "error:lua:on_call_complete,error:lua:on_pcap_close" {
		t.Errorf("traces = %v", kinds)
	}
}

// TestCallNotAFunction: a function the main chunk defines at load but
// not in the rerun before a call is an error of the call.
func TestCallNotAFunction(t *testing.T) {
	p := newTestPool(t, "function on_call_complete() end", testConfig())
	err := p.Call(t.Context(), callOf("on_other"))
	if err == nil || err.Error() != "lua:on_other: on_other is not a function in this run of the script" {
		t.Errorf("error = %v", err)
	}
}

func TestErrorObjects(t *testing.T) {
	tests := []struct {
		raise, want string
	}{
		{"error()", "error object is nil"},
		{"error(nil)", "error object is nil"},
		{"error({})", "error object is a table"},
		{"error(setmetatable({}, {__tostring = function() while true do end end}))", "error object is a table"},
		{"error(42)", "42"},
		{"error(true)", "error object is a boolean (true)"},
		{"error('plain', 0)", "plain"},
		{"error(print)", "error object is a function"},
	}
	for _, tt := range tests {
		p, err := NewPool(compile(t, "function on_call_complete() "+tt.raise+" end"), testConfig(), testFunctions)
		if err != nil {
			t.Fatal(err)
		}
		// A __tostring that loops would end the call at its deadline,
		// with that error instead of the one wanted.
		err = onCall(t.Context(), p, testCall())
		p.Close()
		if err == nil || err.Error() != "lua:on_call_complete: "+tt.want {
			t.Errorf("%s: error %v, want %q", tt.raise, err, tt.want)
		}
	}
}

func TestPoolClose(t *testing.T) {
	p := newTestPool(t, "function on_call_complete() end", testConfig())
	if err := onCall(t.Context(), p, testCall()); err != nil {
		t.Fatal(err)
	}
	p.Close()
	err := onCall(t.Context(), p, testCall())
	var le *Error
	if err == nil || errors.As(err, &le) {
		t.Errorf("Call after Close: %v", err)
	}
}

func TestPoolReuseAndRecycle(t *testing.T) {
	cfg := testConfig()
	cfg.PoolSize = 1
	cfg.MaxUses = 3
	p := newTestPool(t, "function on_call_complete() end", cfg)
	for range 7 {
		if err := onCall(t.Context(), p, testCall()); err != nil {
			t.Fatal(err)
		}
	}
	p.mu.Lock()
	created := p.created
	p.mu.Unlock()
	// The load counts as a use: uses 1-3, 4-6, 7-9 make 3 VMs.
	if created != 3 {
		t.Errorf("created %d VMs, want 3", created)
	}
}

// TestCallerContext: a call stops when its caller's context is canceled
// or passes its deadline, long before its own deadline (a minute, so
// that a call that missed the caller's end is told apart however busy
// the machine is).
func TestCallerContext(t *testing.T) {
	cfg := testConfig()
	cfg.Timeout = time.Minute
	p := newTestPool(t, "function on_call_complete() while true do end end", cfg)
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	err := onCall(ctx, p, testCall())
	if !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "canceled") {
		t.Errorf("error = %v, want a cancellation", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %s after a cancel at 50ms", d)
	}
	ctx, cancel = context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	start = time.Now()
	err = onCall(ctx, p, testCall())
	if !errors.Is(err, ErrTimeout) {
		t.Errorf("error = %v, want a timeout", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %s with a 50ms context deadline", d)
	}
}

// TestCallStart: the deadline counts from Call.Start, so a call whose
// time is already spent ends at once.
func TestCallStart(t *testing.T) {
	cfg := testConfig()
	cfg.Timeout = time.Minute
	p := newTestPool(t, "function on_call_complete() while true do end end", cfg)
	c := callOf(callFunction, testCall())
	c.Start = time.Now().Add(-time.Hour)
	start := time.Now()
	err := p.Call(t.Context(), c)
	if !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "hook timed out") {
		t.Errorf("error = %v, want a timeout", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %s with its time spent", d)
	}
}
