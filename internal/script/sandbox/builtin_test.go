package sandbox

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// probe is what the test builtin saw of its invocation.
type probe struct {
	running     []bool
	names       []string
	data        []any
	deadline    time.Time
	hasDeadline bool
}

// TestBuiltins runs a builtin at load, in the rerun and in the call, and
// checks what its Invocation says each time.
func TestBuiltins(t *testing.T) {
	var seen probe
	var logBuf bytes.Buffer
	cfg := testConfig()
	cfg.Timeout = time.Minute
	cfg.Builtins["probe"] = func(inv *Invocation) int {
		seen.running = append(seen.running, inv.Running())
		seen.names = append(seen.names, inv.Name())
		seen.data = append(seen.data, inv.Data())
		if inv.Since() < 0 || inv.L.GetTop() != 1 {
			inv.L.RaiseError("since %s, top %d", inv.Since(), inv.L.GetTop())
		}
		if inv.Running() {
			seen.deadline, seen.hasDeadline = inv.Context().Deadline()
			inv.Log().Info("from the builtin")
		}
		inv.Push(inv.L.CheckString(1) + "!")
		return 1
	}
	p := newTestPool(t, `
assert(probe("load") == "load!")
function on_call_complete(call)
  assert(probe("call") == "call!")
end`, cfg)
	ctx, cancel := context.WithTimeout(t.Context(), time.Hour)
	defer cancel()
	c := callOf(callFunction, testCall())
	c.Data = 42
	c.Log = slog.New(slog.NewTextHandler(&logBuf, nil))
	c.Start = time.Now()
	if err := p.Call(ctx, c); err != nil {
		t.Fatal(err)
	}
	if got := seen.running; len(got) != 3 || got[0] || got[1] || !got[2] {
		t.Errorf("Running = %v, want false at load and rerun, true in the call", got)
	}
	if got := strings.Join(seen.names, ","); got != ",lua:on_call_complete,lua:on_call_complete" {
		t.Errorf("Name = %q", got)
	}
	if seen.data[0] != nil || seen.data[1] != 42 || seen.data[2] != 42 {
		t.Errorf("Data = %v", seen.data)
	}
	// The invocation's deadline, a minute from Start, is sooner than the
	// caller's.
	if want := c.Start.Add(time.Minute); !seen.hasDeadline || !seen.deadline.Equal(want) {
		t.Errorf("Context deadline = %v, %t; want %v", seen.deadline, seen.hasDeadline, want)
	}
	if !strings.Contains(logBuf.String(), "from the builtin") {
		t.Errorf("Log did not go to Call.Log: %q", logBuf.String())
	}
}

// TestBuiltinRefusesAtLoad: a builtin that refuses to run from top-level
// code fails the load.
func TestBuiltinRefusesAtLoad(t *testing.T) {
	_, err := NewPool(compile(t, "exec({'x'})\nfunction on_call_complete() end"), testConfig(), testFunctions)
	if err == nil || !strings.Contains(err.Error(), "test.lua:1: exec() can only be called from a hook function, not from top-level code") {
		t.Errorf("error = %v", err)
	}
	p := newTestPool(t, "local ok = pcall(exec, {'x'})\nassert(not ok)\nfunction on_call_complete() exec({'x'}) end", testConfig())
	if err := onCall(t.Context(), p, testCall()); err != nil {
		t.Errorf("exec in the call: %v", err)
	}
}

// TestBuiltinContext: the context a builtin gets ends at the
// invocation's deadline, and with the caller's context.
func TestBuiltinContext(t *testing.T) {
	cfg := testConfig()
	cfg.Timeout = 200 * time.Millisecond
	var ctxErr error
	cfg.Builtins["wait"] = func(inv *Invocation) int {
		ctx := inv.Context()
		select {
		case <-ctx.Done():
			ctxErr = ctx.Err()
		case <-time.After(time.Minute):
		}
		return 0
	}
	// cancel cancels the caller's context, given as Call.Data.
	cfg.Builtins["cancel"] = func(inv *Invocation) int {
		ctx := inv.Context()
		inv.Data().(context.CancelFunc)()
		<-ctx.Done()
		ctxErr = ctx.Err()
		return 0
	}
	p := newTestPool(t, `
function on_call_complete(what)
  if what == "wait" then wait() else cancel() end
  while true do end
end`, cfg)
	start := time.Now()
	err := p.Call(t.Context(), callOf(callFunction, "wait"))
	if !errors.Is(err, ErrTimeout) || !errors.Is(ctxErr, context.DeadlineExceeded) {
		t.Errorf("error = %v, context error %v; want timeouts", err, ctxErr)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %s with a 200ms deadline", d)
	}

	ctxErr = nil
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	c := callOf(callFunction, "cancel")
	c.Data = cancel
	err = p.Call(ctx, c)
	if !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "canceled") || !errors.Is(ctxErr, context.Canceled) {
		t.Errorf("error = %v, context error %v; want cancellations", err, ctxErr)
	}
}

// TestBuiltinMemory: what a builtin pushes or charges counts against
// the budget.
func TestBuiltinMemory(t *testing.T) {
	cfg := testConfig()
	cfg.MemoryLimit = 1 << 20
	cfg.Builtins["big"] = func(inv *Invocation) int {
		inv.Push(strings.Repeat("x", inv.L.CheckInt(1)))
		return 1
	}
	cfg.Builtins["charge"] = func(inv *Invocation) int {
		inv.Charge(inv.L.CheckInt(1))
		return 0
	}
	cfg.Builtins["bad"] = func(inv *Invocation) int {
		inv.Push(uint8(1))
		return 1
	}
	p := newTestPool(t, `
function on_call_complete(call)
  local kept = {}
  for i = 1, 4 do kept[i] = big(100000) end
  if call.what == "push" then
    for i = 5, 20 do kept[i] = big(100000) end
  elseif call.what == "charge" then
    charge(2^20)
  elseif call.what == "bad" then
    bad()
  end
end`, cfg)
	tests := []struct {
		what string
		want error
		msg  string
	}{
		{"none", nil, ""},
		{"push", ErrMemoryLimit, "memory limit exceeded (1 MiB)"},
		{"charge", ErrMemoryLimit, "memory limit exceeded (1 MiB)"},
		{"bad", nil, "cannot give a Go uint8 to a script"},
	}
	for _, tt := range tests {
		t.Run(tt.what, func(t *testing.T) {
			err := onCall(t.Context(), p, Table{{"what", tt.what}})
			switch {
			case tt.msg == "" && err != nil:
				t.Errorf("error %v", err)
			case tt.msg != "" && (err == nil || !strings.Contains(err.Error(), tt.msg)):
				t.Errorf("error %v, want one containing %q", err, tt.msg)
			case tt.want != nil && !errors.Is(err, tt.want):
				t.Errorf("error %v does not wrap %v", err, tt.want)
			case tt.want == nil && (errors.Is(err, ErrMemoryLimit) || errors.Is(err, ErrTimeout)):
				t.Errorf("error %v wraps a limit", err)
			}
		})
	}
}

// TestBuiltinNames: a builtin must have a Lua name the sandbox does not
// use already.
func TestBuiltinNames(t *testing.T) {
	s := compile(t, "function on_call_complete() end")
	noop := func(*Invocation) int { return 0 }
	for _, tt := range []struct {
		name string
		b    Builtin
		want string
	}{
		{"print", noop, `builtin "print": the sandbox has a global of that name`},
		{"string", noop, `builtin "string": the sandbox has a global of that name`},
		{"end", noop, `builtin "end": not a Lua name`},
		{"a-b", noop, `builtin "a-b": not a Lua name`},
		{"1a", noop, `builtin "1a": not a Lua name`},
		{"_G", noop, `builtin "_G": not a Lua name`},
		{"", noop, `builtin "": not a Lua name`},
		{"nothing", nil, `builtin "nothing" is nil`},
	} {
		cfg := Config{Builtins: map[string]Builtin{tt.name: tt.b}}
		if _, err := NewPool(s, cfg, testFunctions); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: NewPool error %v, want %q", tt.name, err, tt.want)
		}
		if _, err := s.Check(cfg, testFunctions); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: Check error %v, want %q", tt.name, err, tt.want)
		}
	}
	cfg := Config{Builtins: map[string]Builtin{"_ok1": noop, "Z": noop}}
	if _, err := NewPool(s, cfg, testFunctions); err != nil {
		t.Error(err)
	}
}
