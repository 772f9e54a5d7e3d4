package sandbox

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/lc-voip/lc/internal/script/sandbox/internal/layout"
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

// luaVM is one gopher-lua state with the sandbox installed. It runs one
// invocation at a time, on the goroutine that called call or load.
type luaVM struct {
	L       *lua.LState
	lay     *layout.Layout
	script  *Script
	cfg     *Config
	ctx     *luaCtx
	meter   luaMeter
	walker  luaWalker
	sandbox luaSandbox
	inv     Invocation
	uses    int
	// lazy are the tables of the invocation whose string map gopher-lua
	// made with its default size (see tablesize.go).
	lazy map[*lua.LTable]struct{}
}

func newLuaVM(s *Script, cfg *Config) (*luaVM, error) {
	lay, err := layout.Find()
	if err != nil {
		return nil, fmt.Errorf("lua: %w", err)
	}
	L := lua.NewState(lua.Options{
		SkipOpenLibs:     true,
		CallStackSize:    luaCallStackSize,
		RegistrySize:     luaRegistrySize,
		RegistryGrowStep: luaRegistryGrowStep,
		RegistryMaxSize:  luaRegistryMaxSize,
	})
	vm := &luaVM{L: L, lay: lay, script: s, cfg: cfg}
	vm.inv = Invocation{L: L, vm: vm}
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

// begin starts an invocation: c is nil at load.
func (vm *luaVM) begin(parent context.Context, start time.Time, c *Call, phase luaPhase) {
	if parent == nil {
		parent = context.Background()
	}
	deadline := start.Add(vm.cfg.Timeout)
	if d, ok := parent.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	vm.inv = Invocation{L: vm.L, vm: vm, start: start, deadline: deadline, parent: parent, log: vm.cfg.Logger, phase: phase}
	if c != nil {
		vm.inv.name, vm.inv.data = c.Name, c.Data
		if c.Log != nil {
			vm.inv.log = c.Log
		}
	}
	vm.meter.reset(vm.cfg.MemoryLimit)
	vm.ctx.begin(parent, deadline)
}

// finish ends an invocation and drops every reference it left in the VM.
func (vm *luaVM) finish() {
	vm.ctx.end()
	vm.inv.end()
	vm.L.SetTop(0)
	clear(vm.lay.Registry(vm.L))
	vm.lay.ClearFrames(vm.L, vm.ctx.depth+2)
	vm.inv = Invocation{L: vm.L, vm: vm}
	vm.lazy = nil
	vm.walker.shrink()
	vm.uses++
}

// grown reports whether the VM's value stack grew past its initial size:
// such a VM is not reused, so that clearing the stack after each
// invocation stays cheap.
func (vm *luaVM) grown() bool { return len(vm.lay.Registry(vm.L)) > luaRegistrySize }

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

// load runs the main chunk once, as NewPool and Check do, and returns
// those of functions it defines as functions. A failure is traced.
func (vm *luaVM) load(parent context.Context, start time.Time, functions []string) ([]string, error) {
	vm.begin(parent, start, nil, phaseLoad)
	defer vm.finish()
	env, err := vm.runMain()
	if err != nil {
		le := vm.luaError("", err)
		if vm.cfg.Trace != nil {
			vm.cfg.Trace(Trace{Kind: "error", Err: le, At: time.Since(start)})
		}
		return nil, le
	}
	var defined []string
	for _, name := range functions {
		if _, ok := env.RawGetString(name).(*lua.LFunction); ok {
			defined = append(defined, name)
		}
	}
	return defined, nil
}

// call runs the main chunk, then c's function with c's arguments, which
// take cost bytes.
func (vm *luaVM) call(parent context.Context, start time.Time, c *Call, cost int64) error {
	vm.begin(parent, start, c, phaseRerun)
	defer vm.finish()
	env, err := vm.runMain()
	if err != nil {
		return vm.luaError(c.Name, err)
	}
	fn, ok := env.RawGetString(c.Func).(*lua.LFunction)
	if !ok {
		return &Error{Hook: c.Name, Script: vm.script.name, Message: c.Func + " is not a function in this run of the script"}
	}
	vm.inv.phase = phaseRun
	if !vm.reserve(cost) {
		vm.overBudget()
		return &Error{Hook: c.Name, Script: vm.script.name, Message: vm.ctx.luaErr.Error() + ": the arguments alone", Err: vm.ctx.failed}
	}
	vm.L.Push(fn)
	for _, a := range c.Args {
		vm.L.Push(vm.lvalue(a))
	}
	if err := vm.L.PCall(len(c.Args), 0, nil); err != nil {
		return vm.luaError(c.Name, err)
	}
	return nil
}

// luaError turns the error of a PCall into an *Error.
func (vm *luaVM) luaError(hook string, err error) *Error {
	le := &Error{Hook: hook, Script: vm.script.name, Err: vm.ctx.failed}
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
