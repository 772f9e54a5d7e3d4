package script

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/lc-voip/lc/internal/processor"
)

// Sizes of a VM's stacks. A script that recurses deeper than
// luaCallStackSize calls gets a "stack overflow" error; the value stack
// grows by luaRegistryGrowStep slots up to luaRegistryMaxSize (2 MiB),
// past which it gets "registry overflow".
const (
	luaCallStackSize    = 256
	luaRegistrySize     = 1024
	luaRegistryGrowStep = 1024
	luaRegistryMaxSize  = 128 << 10
)

// luaPhase says what a VM is running.
type luaPhase int

const (
	phaseLoad  luaPhase = iota // the main chunk, at load: logs go out, exec() is refused
	phaseRerun                 // the main chunk before an invocation: logs are dropped, exec() is refused
	phaseRun                   // a hook function
)

// luaInvocation is what a VM is running now.
type luaInvocation struct {
	hook     string              // "lua:on_call_complete"; "" at load
	ev       processor.Event     // nil at load
	values   func(string) string // the event's placeholder values
	allowed  []string            // the event's placeholder names
	start    time.Time
	deadline time.Time
	parent   context.Context
	env      *lua.LTable // the invocation's globals
	phase    luaPhase
	log      *slog.Logger // with the hook and event attributes, made on first use
}

// luaVM is one gopher-lua state with the sandbox installed. It runs one
// invocation at a time, on the goroutine that called invoke or load.
type luaVM struct {
	L         *lua.LState
	lay       *luaLayout
	script    *LuaScript
	cfg       *LuaConfig
	log       *slog.Logger
	ctx       *luaCtx
	meter     luaMeter
	walker    luaWalker
	sandbox   luaSandbox
	inv       luaInvocation
	uses      int
	templates map[string]*Template // parsed exec() templates
	// lazy are the tables of the invocation whose string map gopher-lua
	// made with its default size (see luatablesize.go).
	lazy map[*lua.LTable]struct{}
}

func newLuaVM(s *LuaScript, cfg *LuaConfig, log *slog.Logger) (*luaVM, error) {
	if err := luaLayoutErr(); err != nil {
		return nil, fmt.Errorf("lua: %w", err)
	}
	L := lua.NewState(lua.Options{
		SkipOpenLibs:     true,
		CallStackSize:    luaCallStackSize,
		RegistrySize:     luaRegistrySize,
		RegistryGrowStep: luaRegistryGrowStep,
		RegistryMaxSize:  luaRegistryMaxSize,
	})
	vm := &luaVM{L: L, lay: layout(), script: s, cfg: cfg, log: log}
	if err := vm.openSandbox(); err != nil {
		L.Close()
		return nil, err
	}
	vm.ctx = newLuaCtx(vm)
	L.SetContext(vm.ctx)
	return vm, nil
}

// close releases the VM.
func (vm *luaVM) close() {
	vm.ctx.stop()
	vm.L.Close()
}

// begin starts an invocation.
func (vm *luaVM) begin(parent context.Context, start time.Time, hook string, ev processor.Event, phase luaPhase) {
	if parent == nil {
		parent = context.Background()
	}
	deadline := start.Add(vm.cfg.Timeout)
	if d, ok := parent.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	vm.inv = luaInvocation{hook: hook, ev: ev, start: start, deadline: deadline, parent: parent, phase: phase}
	switch e := ev.(type) {
	case processor.FileClosed:
		vm.inv.values, vm.inv.allowed = FileValues(e), PcapPlaceholders
	case processor.CallCompleted:
		vm.inv.values, vm.inv.allowed = CallValues(e), CallPlaceholders
	}
	vm.meter.reset(vm.cfg.MemoryLimit)
	vm.ctx.begin(parent, deadline)
}

// finish ends an invocation and drops every reference it left in the VM.
func (vm *luaVM) finish() {
	vm.ctx.end()
	vm.L.SetTop(0)
	clear(registryOf(vm.lay, vm.L))
	clearFrames(vm.lay, vm.L, vm.ctx.depth+2)
	vm.inv = luaInvocation{}
	vm.lazy = nil
	vm.walker.shrink()
	vm.uses++
}

// grown reports whether the VM's value stack grew past its initial size:
// such a VM is not reused, so that clearing the stack after each
// invocation stays cheap.
func (vm *luaVM) grown() bool { return len(registryOf(vm.lay, vm.L)) > luaRegistrySize }

// newEnv returns a fresh global environment: an empty table that reads
// the sandbox's globals through its (protected) metatable.
func (vm *luaVM) newEnv() *lua.LTable {
	vm.meter.pending += newTableCost(0, 4) + sizeStore
	env := vm.L.CreateTable(0, 4)
	env.Metatable = vm.sandbox.envMeta
	env.RawSetString("_G", env)
	return env
}

// runMain runs the script's main chunk in a fresh environment, which it
// returns.
func (vm *luaVM) runMain() (*lua.LTable, error) {
	env := vm.newEnv()
	vm.inv.env = env
	vm.meter.pending += sizeFunction
	main := vm.L.NewFunctionFromProto(vm.script.proto)
	main.Env = env
	vm.L.Push(main)
	return env, vm.L.PCall(0, 0, nil)
}

// load runs the main chunk once, as NewLuaHooks and Check do, and returns
// the hook functions it defines.
func (vm *luaVM) load(parent context.Context, start time.Time) ([]string, error) {
	vm.begin(parent, start, "", nil, phaseLoad)
	defer vm.finish()
	env, err := vm.runMain()
	if err != nil {
		le := vm.luaError("", err)
		if vm.cfg.Trace != nil {
			vm.cfg.Trace(Trace{Kind: "error", Err: le, At: time.Since(start)})
		}
		return nil, le
	}
	var funcs []string
	for _, name := range []string{LuaPcapFunction, LuaCallFunction} {
		if _, ok := env.RawGetString(name).(*lua.LFunction); ok {
			funcs = append(funcs, name)
		}
	}
	return funcs, nil
}

// invoke runs the main chunk, then the hook function of k with ev.
func (vm *luaVM) invoke(parent context.Context, start time.Time, k *luaHook, ev processor.Event) error {
	vm.begin(parent, start, k.name, ev, phaseRerun)
	defer vm.finish()
	env, err := vm.runMain()
	if err != nil {
		return vm.luaError(k.name, err)
	}
	fn, ok := env.RawGetString(k.fn).(*lua.LFunction)
	if !ok {
		return &LuaError{Hook: k.name, Script: vm.script.name, Message: k.fn + " is not a function in this run of the script"}
	}
	vm.inv.phase = phaseRun
	if !vm.reserve(eventCost(ev)) {
		vm.overBudget()
		return &LuaError{Hook: k.name, Script: vm.script.name, Message: vm.ctx.luaErr.Error() + ": the event alone", Err: ErrMemoryLimit}
	}
	vm.L.Push(fn)
	nargs := vm.pushEvent(ev)
	if err := vm.L.PCall(nargs, 0, nil); err != nil {
		return vm.luaError(k.name, err)
	}
	return nil
}

// luaError turns the error of a PCall into a *LuaError.
func (vm *luaVM) luaError(hook string, err error) *LuaError {
	le := &LuaError{Hook: hook, Script: vm.script.name, Err: vm.ctx.failed}
	var aerr *lua.ApiError
	if errors.As(err, &aerr) {
		le.Message = errorObjectMessage(aerr.Object)
		le.Traceback = aerr.StackTrace
	} else {
		le.Message = err.Error()
	}
	// A script may catch the error of a limit and raise its own: say
	// which limit ended it anyway.
	if vm.ctx.failed != nil && !strings.Contains(le.Message, vm.ctx.luaErr.Error()) {
		le.Message = vm.ctx.luaErr.Error() + "; the script then raised: " + le.Message
	}
	return le
}

// maxErrorMessage bounds the error messages kept from a script.
const maxErrorMessage = 4 << 10

// errorObjectMessage describes the value a script raised.
func errorObjectMessage(v lua.LValue) string {
	switch v := v.(type) {
	case lua.LString:
		return clipString(string(v), maxErrorMessage)
	case lua.LNumber:
		return v.String()
	case nil, *lua.LNilType:
		return "error object is nil"
	case lua.LBool:
		return fmt.Sprintf("error object is a boolean (%t)", bool(v))
	case *lua.LTable:
		for _, key := range []string{"message", "msg", "error", "err"} {
			if s, ok := v.RawGetString(key).(lua.LString); ok {
				return "error object is a table: " + key + " = " + clipString(string(s), maxErrorMessage)
			}
		}
		return "error object is a table"
	}
	return "error object is a " + v.Type().String()
}

// clipString cuts s to at most n bytes, marking the cut.
func clipString(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
