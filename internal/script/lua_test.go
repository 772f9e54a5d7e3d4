package script

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lc-voip/lc/internal/processor"
)

// testCall is the CallCompleted the Lua tests use.
func testCall() processor.CallCompleted {
	start := time.Date(2024, 3, 1, 12, 30, 15, 250e6, time.UTC)
	return processor.CallCompleted{
		CallID:     "a84b4c76e66710@pc33.example.com",
		Dirname:    "/var/lc/calls/2024-03-01/123015_a84b4c76e66710",
		Caller:     "alice@example.com",
		Called:     "bob@example.org",
		CallDate:   start,
		EndDate:    start.Add(42*time.Second + 500*time.Millisecond),
		State:      processor.StateCompleted,
		Status:     200,
		SIPFiles:   []string{"/var/lc/calls/x/a_sip.pcap", "/var/lc/calls/x/a_sip_1.pcap"},
		RTPFiles:   []string{"/var/lc/calls/x/a_rtp.pcap"},
		SIPPackets: 12,
		RTPPackets: 4200,
		Streams: []processor.Stream{
			{Media: "audio", Addr: "192.0.2.10:49170", RTCP: "192.0.2.10:49171", Packets: 2100},
			{Media: "audio", Addr: "[2001:db8::1]:5004", Packets: 2100},
		},
	}
}

// testFile is the FileClosed the Lua tests use.
func testFile() processor.FileClosed {
	first := time.Date(2024, 3, 1, 12, 30, 15, 250e6, time.UTC)
	return processor.FileClosed{
		Path:    "/var/lc/calls/2024-03-01/123015_x/x_sip.pcap",
		Kind:    processor.KindSIP,
		CallID:  "x@host",
		Part:    1,
		Reason:  processor.ReasonRotateSize,
		Packets: 10,
		Bytes:   4096,
		First:   first,
		Last:    first.Add(2 * time.Second),
	}
}

// testLuaConfig are the limits of the tests: 500 ms, 16 MiB.
func testLuaConfig() LuaConfig {
	return LuaConfig{Timeout: 500 * time.Millisecond, MemoryLimit: 16 << 20, PoolSize: 2, Runner: &Runner{DryRun: true}}
}

func newTestHooks(tb testing.TB, src string, cfg LuaConfig) *LuaHooks {
	tb.Helper()
	s, err := CompileLua("test.lua", []byte(src))
	if err != nil {
		tb.Fatalf("CompileLua: %v", err)
	}
	h, err := NewLuaHooks(s, cfg)
	if err != nil {
		tb.Fatalf("NewLuaHooks: %v", err)
	}
	tb.Cleanup(h.Close)
	return h
}

// hookNamed returns the hook of h with that name.
func hookNamed(tb testing.TB, h *LuaHooks, name string) Hook {
	tb.Helper()
	for _, k := range h.Hooks() {
		if k.Name() == name {
			return k
		}
	}
	tb.Fatalf("no hook %q", name)
	return nil
}

// traces collects Trace records.
type traces struct {
	mu   sync.Mutex
	list []Trace
}

func (t *traces) add(tr Trace) {
	t.mu.Lock()
	t.list = append(t.list, tr)
	t.mu.Unlock()
}

func (t *traces) all() []Trace {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]Trace(nil), t.list...)
}

func (t *traces) logs() []string {
	var out []string
	for _, tr := range t.all() {
		if tr.Kind == "log" {
			out = append(out, tr.Msg)
		}
	}
	return out
}

// TestLuaLayout checks that the gopher-lua in use has the internal layout
// the sandbox reads (luainternals.go).
func TestLuaLayout(t *testing.T) {
	if err := luaLayoutErr(); err != nil {
		t.Fatal(err)
	}
}

func TestLuaHooksFunctions(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"both", "function on_pcap_close(p, f) end function on_call_complete(c) end", []string{"lua:on_pcap_close", "lua:on_call_complete"}},
		{"pcap only", "function on_pcap_close(p, f) end", []string{"lua:on_pcap_close"}},
		{"call only", "on_call_complete = function(c) end", []string{"lua:on_call_complete"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newTestHooks(t, tt.src, testLuaConfig())
			var got []string
			for _, k := range h.Hooks() {
				got = append(got, k.Name())
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("hooks = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestNewLuaHooksErrors(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"no function", "local x = 1", "defines no hook function"},
		{"local function", "local function on_call_complete() end", "defines no hook function"},
		{"runtime error", "function on_call_complete() end\nerror('boom')", "test.lua:2: boom"},
		{"exec at top level", "function on_call_complete() end\nexec({'true'})", "exec() can only be called from a hook function"},
		{"top-level loop", "function on_call_complete() end\nwhile true do end", "hook timed out"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := CompileLua("test.lua", []byte(tt.src))
			if err != nil {
				t.Fatal(err)
			}
			_, err = NewLuaHooks(s, testLuaConfig())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("NewLuaHooks error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestCompileLuaSyntaxError(t *testing.T) {
	tests := []struct {
		src, want string
	}{
		{"function on_call_complete(c)\n  if c then\nend", "hooks.lua: at end of file:"},
		{"local x = = 1", "hooks.lua:1: "},
		{"x = 1\ny = )", "hooks.lua:2: "},
		{"goto nowhere", "hooks.lua:"},
	}
	for _, tt := range tests {
		_, err := CompileLua("hooks.lua", []byte(tt.src))
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("CompileLua(%q) error = %v, want prefix %q", tt.src, err, tt.want)
		}
	}
}

func TestLuaHookRunError(t *testing.T) {
	var logBuf bytes.Buffer
	cfg := testLuaConfig()
	cfg.Logger = slog.New(slog.NewTextHandler(&logBuf, nil))
	var tr traces
	cfg.Trace = tr.add
	h := newTestHooks(t, `
function on_call_complete(call)
  local t = nil
  return t.x
end
function on_pcap_close(path, file)
  error({message = "table error"})
end`, cfg)
	err := hookNamed(t, h, "lua:on_call_complete").Run(t.Context(), testCall())
	var le *LuaError
	if !errors.As(err, &le) {
		t.Fatalf("Run error = %v, want a *LuaError", err)
	}
	if !strings.Contains(le.Message, "test.lua:4:") || le.Traceback == "" {
		t.Errorf("error = %q, traceback %q", le.Message, le.Traceback)
	}
	if errors.Is(err, ErrTimeout) || errors.Is(err, ErrMemoryLimit) {
		t.Errorf("plain error wraps a limit: %v", err)
	}
	logged := logBuf.String()
	for _, want := range []string{"hook failed", "hook=lua:on_call_complete", "event=call_completed", "call_id=a84b4c76e66710@pc33.example.com"} {
		if !strings.Contains(logged, want) {
			t.Errorf("log lacks %q:\n%s", want, logged)
		}
	}
	err = hookNamed(t, h, "lua:on_pcap_close").Run(t.Context(), testFile())
	if err == nil || !strings.Contains(err.Error(), "error object is a table: message = table error") {
		t.Errorf("table error = %v", err)
	}
	var kinds []string
	for _, x := range tr.all() {
		kinds = append(kinds, x.Kind)
	}
	if strings.Join(kinds, ",") != "error,error" {
		t.Errorf("traces = %v", kinds)
	}
}

func TestLuaErrorObjects(t *testing.T) {
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
		s, err := CompileLua("e.lua", []byte("function on_call_complete() "+tt.raise+" end"))
		if err != nil {
			t.Fatal(err)
		}
		eh, err := NewLuaHooks(s, testLuaConfig())
		if err != nil {
			t.Fatal(err)
		}
		// A __tostring that loops would end the hook at its deadline,
		// with that error instead of the one wanted.
		err = eh.Hooks()[0].Run(t.Context(), testCall())
		eh.Close()
		if err == nil || err.Error() != "lua:on_call_complete: "+tt.want {
			t.Errorf("%s: error %v, want %q", tt.raise, err, tt.want)
		}
	}
}

func TestLuaHooksClose(t *testing.T) {
	h := newTestHooks(t, "function on_call_complete() end", testLuaConfig())
	k := h.Hooks()[0]
	if err := k.Run(t.Context(), testCall()); err != nil {
		t.Fatal(err)
	}
	h.Close()
	if err := k.Run(t.Context(), testCall()); err == nil {
		t.Error("Run after Close succeeded")
	}
}

func TestLuaPoolReuseAndRecycle(t *testing.T) {
	cfg := testLuaConfig()
	cfg.PoolSize = 1
	cfg.MaxUses = 3
	h := newTestHooks(t, "function on_call_complete() end", cfg)
	k := h.Hooks()[0]
	for range 7 {
		if err := k.Run(t.Context(), testCall()); err != nil {
			t.Fatal(err)
		}
	}
	h.mu.Lock()
	created := h.created
	h.mu.Unlock()
	// The load counts as a use: uses 1-3, 4-6, 7-9 make 3 VMs.
	if created != 3 {
		t.Errorf("created %d VMs, want 3", created)
	}
}

// TestLuaCallerContext: a hook stops when its caller's context is
// canceled or passes its deadline, long before its own deadline (a
// minute, so that a hook that missed the caller's end is told apart
// however busy the machine is).
func TestLuaCallerContext(t *testing.T) {
	cfg := testLuaConfig()
	cfg.Timeout = time.Minute
	h := newTestHooks(t, "function on_call_complete() while true do end end", cfg)
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	err := h.Hooks()[0].Run(ctx, testCall())
	if !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "canceled") {
		t.Errorf("error = %v, want a cancellation", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %s after a cancel at 50ms", d)
	}
	ctx, cancel = context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	start = time.Now()
	err = h.Hooks()[0].Run(ctx, testCall())
	if !errors.Is(err, ErrTimeout) {
		t.Errorf("error = %v, want a timeout", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %s with a 50ms context deadline", d)
	}
}
