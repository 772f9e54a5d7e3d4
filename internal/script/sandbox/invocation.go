package sandbox

import (
	"context"
	"log/slog"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// A Builtin is a Go function added to the sandbox's globals
// (Config.Builtins). It runs on the goroutine running the script, with
// the invocation it is called in. It reads its arguments from inv.L with
// the usual gopher-lua calls (CheckAny, ArgError, RaiseError...), pushes
// its results (with inv.Push, so that their cost is charged) and returns
// how many it pushed. It must return soon after inv.Context() is done,
// and charge (inv.Charge) what it allocates for the script.
type Builtin func(inv *Invocation) int

// Invocation is what a VM is running: the main chunk at load, or a Call.
// Builtins receive it; it is valid only until the Builtin returns, and
// only on the goroutine that called it.
type Invocation struct {
	// L is the state the script runs in.
	L *lua.LState

	vm       *luaVM
	name     string // Call.Name; "" at load
	data     any    // Call.Data
	start    time.Time
	deadline time.Time
	parent   context.Context
	log      *slog.Logger
	env      *lua.LTable // the invocation's globals
	phase    luaPhase
	ctx      context.Context    // made by Context on first use
	cancel   context.CancelFunc // ctx's
}

// luaPhase says what a VM is running.
type luaPhase int

const (
	phaseLoad  luaPhase = iota // the main chunk, at load or Check: logs go out
	phaseRerun                 // the main chunk before a call: logs are dropped
	phaseRun                   // the called function
)

// Running reports whether the called function is running: false while
// the main chunk runs (at load, at Check, and in the rerun before each
// call). A builtin with effects outside the sandbox refuses to run then.
func (inv *Invocation) Running() bool { return inv.phase == phaseRun }

// Context returns a context that is done at the invocation's deadline or
// when the caller's context is done, whichever comes first; it is
// canceled when the invocation ends. It carries the caller's values.
func (inv *Invocation) Context() context.Context {
	if inv.ctx == nil {
		inv.ctx, inv.cancel = context.WithDeadline(inv.parent, inv.deadline)
	}
	return inv.ctx
}

// Data returns Call.Data: nil at load and at Check.
func (inv *Invocation) Data() any { return inv.data }

// Name returns Call.Name: "" at load and at Check.
func (inv *Invocation) Name() string { return inv.name }

// Since returns the time since the invocation started.
func (inv *Invocation) Since() time.Duration { return time.Since(inv.start) }

// Log returns the invocation's logger: Call.Log, or Config.Logger.
func (inv *Invocation) Log() *slog.Logger { return inv.log }

// Charge counts n bytes against the invocation's memory budget, for what
// the builtin allocates and leaves for the script to hold. Over the
// budget (or past the deadline, when measuring what the script holds
// took that long) it raises the error in the script: it does not return.
func (inv *Invocation) Charge(n int) { inv.vm.alloc(n) }

// Push pushes v, converted as Call.Args are (see Table), onto the stack
// after charging its cost; a v of another type raises an error in the
// script.
func (inv *Invocation) Push(v any) {
	cost, err := valueCost(v, 0)
	if err != nil {
		inv.L.RaiseError("%s", err.Error())
	}
	inv.vm.alloc(int(cost))
	inv.L.Push(inv.vm.lvalue(v))
}

// end ends the invocation's context, if it made one.
func (inv *Invocation) end() {
	if inv.cancel != nil {
		inv.cancel()
	}
}
