package script

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/lc-voip/lc/internal/event"
	"github.com/lc-voip/lc/internal/script/runner"
	"github.com/lc-voip/lc/internal/script/sandbox"
	"github.com/lc-voip/lc/internal/testenv"
)

// testCall is the CallCompleted the Lua tests use.
func testCall() event.CallCompleted {
	start := time.Date(2024, 3, 1, 12, 30, 15, 250e6, time.UTC)
	return event.CallCompleted{
		CallID:     "a84b4c76e66710@pc33.example.com",
		Dirname:    "/var/lc/calls/2024-03-01/123015_a84b4c76e66710",
		Caller:     "alice@example.com",
		Called:     "bob@example.org",
		CallDate:   start,
		EndDate:    start.Add(42*time.Second + 500*time.Millisecond),
		State:      event.StateCompleted,
		Status:     200,
		SIPFiles:   []string{"/var/lc/calls/x/a_sip.pcap", "/var/lc/calls/x/a_sip_1.pcap"},
		RTPFiles:   []string{"/var/lc/calls/x/a_rtp.pcap"},
		SIPPackets: 12,
		RTPPackets: 4200,
		Streams: []event.Stream{
			{Media: "audio", Addr: "192.0.2.10:49170", RTCP: "192.0.2.10:49171", Packets: 2100},
			{Media: "audio", Addr: "[2001:db8::1]:5004", Packets: 2100},
		},
	}
}

// testFile is the FileClosed the Lua tests use.
func testFile() event.FileClosed {
	first := time.Date(2024, 3, 1, 12, 30, 15, 250e6, time.UTC)
	return event.FileClosed{
		Path:    "/var/lc/calls/2024-03-01/123015_x/x_sip.pcap",
		Kind:    event.KindSIP,
		CallID:  "x@host",
		Part:    1,
		Reason:  event.ReasonRotateSize,
		Packets: 10,
		Bytes:   4096,
		First:   first,
		Last:    first.Add(2 * time.Second),
	}
}

// testLuaConfig are the limits of the tests: 500 ms, 16 MiB.
func testLuaConfig() LuaConfig {
	return LuaConfig{Sandbox: sandbox.Config{Timeout: 500 * time.Millisecond, MemoryLimit: 16 << 20, PoolSize: 2}, Runner: &runner.Runner{DryRun: true}}
}

func newTestHooks(tb testing.TB, src string, cfg LuaConfig) *LuaHooks {
	tb.Helper()
	s, err := sandbox.Compile("test.lua", []byte(src))
	if err != nil {
		tb.Fatalf("Compile: %v", err)
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
	for _, k := range h.Hooks().Hooks {
		if k.Name() == name {
			return k
		}
	}
	tb.Fatalf("no hook %q", name)
	return nil
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
			for _, k := range h.Hooks().Hooks {
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
		{"exec at top level", "function on_call_complete() end\nexec({'true'})", "exec() can only be called from a hook function"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := sandbox.Compile("test.lua", []byte(tt.src))
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

func TestLuaHookRunError(t *testing.T) {
	var logBuf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logBuf, nil))
	cfg := testLuaConfig()
	cfg.Logger = log
	var tr testenv.Recorder[Trace]
	cfg.Trace = tr.Add
	h := newTestHooks(t, `
function on_call_complete(call)
  local t = nil
  return t.x
end
function on_pcap_close(path, file)
  error({message = "table error"})
end`, cfg)
	err := hookNamed(t, h, "lua:on_call_complete").Run(t.Context(), testCall())
	var le *sandbox.Error
	if !errors.As(err, &le) {
		t.Fatalf("Run error = %v, want a *sandbox.Error", err)
	}
	if !strings.Contains(le.Message, "test.lua:4:") || le.Traceback == "" {
		t.Errorf("error = %q, traceback %q", le.Message, le.Traceback)
	}
	if errors.Is(err, ErrTimeout) || errors.Is(err, sandbox.ErrMemoryLimit) {
		t.Errorf("plain error wraps a limit: %v", err)
	}
	err = hookNamed(t, h, "lua:on_pcap_close").Run(t.Context(), testFile())
	if err == nil || !strings.Contains(err.Error(), "error object is a table: message = table error") {
		t.Errorf("table error = %v", err)
	}
	var kinds []string
	for _, x := range tr.All() {
		kinds = append(kinds, x.Kind)
	}
	if strings.Join(kinds, ",") != "error,error" {
		t.Errorf("traces = %v", kinds)
	}

	// The engine logs the failure once, with the hook, the event and the
	// traceback.
	logBuf.Reset()
	e := NewEngine(EngineConfig{Logger: log}, h.Hooks())
	e.Submit(testCall())
	e.Close(t.Context())
	logged := logBuf.String()
	for _, want := range []string{"hook failed", "hook=lua:on_call_complete", "event=call_completed",
		"callid=a84b4c76e66710@pc33.example.com", "traceback="} {
		if !strings.Contains(logged, want) {
			t.Errorf("log lacks %q:\n%s", want, logged)
		}
	}
	if n := strings.Count(logged, "hook failed"); n != 1 {
		t.Errorf("%d failure lines, want 1:\n%s", n, logged)
	}
}

func TestLuaHooksClose(t *testing.T) {
	h := newTestHooks(t, "function on_call_complete() end", testLuaConfig())
	k := h.Hooks().Hooks[0]
	if err := k.Run(t.Context(), testCall()); err != nil {
		t.Fatal(err)
	}
	h.Close()
	if err := k.Run(t.Context(), testCall()); err == nil {
		t.Error("Run after Close succeeded")
	}
}
