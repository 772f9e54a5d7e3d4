package script

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/ast"
	"github.com/yuin/gopher-lua/parse"

	"github.com/lc-voip/lc/internal/processor"
)

// Defaults for the zero fields of a LuaConfig.
const (
	DefaultLuaTimeout     = 30 * time.Second
	DefaultLuaMemoryLimit = 64 << 20
	DefaultLuaPoolSize    = 10
	DefaultLuaMaxUses     = 1000
)

// The names of the hook functions a script may define.
const (
	LuaPcapFunction = "on_pcap_close"
	LuaCallFunction = "on_call_complete"
)

// LuaConfig configures the Lua hooks of a script. Zero fields take the
// defaults; the config is copied by NewLuaHooks and must not change after.
type LuaConfig struct {
	// Timeout bounds each invocation of a hook function, the exec()
	// commands it runs included; zero or negative means
	// DefaultLuaTimeout. The caller's context can only shorten it.
	Timeout time.Duration
	// MemoryLimit is the budget, in bytes, of the Lua data an invocation
	// may hold at once (strings, tables, closures and the value stack, as
	// estimated by the sandbox); zero or negative means
	// DefaultLuaMemoryLimit.
	MemoryLimit int64
	// PoolSize is how many idle VMs are kept ready; zero or negative
	// means DefaultLuaPoolSize. lc sets it to the hook concurrency.
	PoolSize int
	// MaxUses is how many invocations a VM serves before it is replaced;
	// zero or negative means DefaultLuaMaxUses.
	MaxUses int
	// Runner runs the commands of exec(); nil means a zero Runner (real
	// execution with its defaults). With DryRun set, exec() logs the
	// command and returns a result with dry_run = true instead.
	Runner *Runner
	// Logger receives the scripts' log.*() and print() lines, exec() runs
	// and failed invocations, with "component"="hooks"; nil discards.
	Logger *slog.Logger
	// Trace, when set, is called for every exec(), log line, print() and
	// failed invocation or load, synchronously on the goroutine running
	// the hook (`lc hooks test` prints them). It must not block.
	Trace func(Trace)
}

// Trace is one thing a Lua hook did, as reported to LuaConfig.Trace.
type Trace struct {
	Kind   string   // "exec", "log" or "error"
	Hook   string   // "lua:on_call_complete", ...; "" for the main chunk at load
	Argv   []string // exec: the argv run (for a shell template, /bin/sh -c ...)
	Script string   // exec of a shell template: the script given to /bin/sh
	Params []string // exec of a shell template: its positional parameters
	Result *Result  // exec: the outcome
	Level  string   // log: "debug", "info", "warn" or "error"
	Msg    string   // log: the message
	Fields map[string]any
	Err    error         // error: the *LuaError
	At     time.Duration // since the invocation started
}

func (c LuaConfig) withDefaults() LuaConfig {
	if c.Timeout <= 0 {
		c.Timeout = DefaultLuaTimeout
	}
	if c.MemoryLimit <= 0 {
		c.MemoryLimit = DefaultLuaMemoryLimit
	}
	if c.PoolSize <= 0 {
		c.PoolSize = DefaultLuaPoolSize
	}
	if c.MaxUses <= 0 {
		c.MaxUses = DefaultLuaMaxUses
	}
	if c.Runner == nil {
		c.Runner = &Runner{}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// LuaError is the error of a Lua hook invocation, or of a script's main
// chunk, that failed: a runtime error, or a limit reached.
type LuaError struct {
	Hook      string // the hook, such as "lua:on_call_complete"; "" for the main chunk
	Script    string // the script's name
	Message   string // the Lua error with its position, such as "hooks.lua:7: attempt to index a nil value"
	Traceback string // the Lua stack traceback, when there is one
	Err       error  // ErrTimeout or ErrMemoryLimit when a limit was reached, possibly wrapped; else nil
}

func (e *LuaError) Error() string {
	if e.Hook == "" {
		return e.Script + ": " + e.Message
	}
	return e.Hook + ": " + e.Message
}

// Unwrap returns Err.
func (e *LuaError) Unwrap() error { return e.Err }

// LuaScript is a compiled hook script. It is immutable and safe for
// concurrent use: every VM runs the same compiled code.
type LuaScript struct {
	name      string
	proto     *lua.FunctionProto
	chunk     []ast.Stmt
	constants []string // the string constants of all its functions
}

// CompileLua compiles the script src, named name (a file name, used in
// error positions). A syntax error is returned as "NAME:LINE: message".
func CompileLua(name string, src []byte) (*LuaScript, error) {
	if err := luaLayoutErr(); err != nil {
		return nil, fmt.Errorf("lua: %w", err)
	}
	chunk, err := parse.Parse(bytes.NewReader(src), name)
	if err != nil {
		var perr *parse.Error
		if errors.As(err, &perr) {
			if perr.Pos.Line == parse.EOF {
				return nil, fmt.Errorf("%s: at end of file: %s", name, perr.Message)
			}
			return nil, fmt.Errorf("%s:%d: %s near '%s'", name, perr.Pos.Line, perr.Message, perr.Token)
		}
		return nil, fmt.Errorf("%s: %s", name, strings.TrimSpace(err.Error()))
	}
	if chunk == nil {
		return nil, fmt.Errorf("%s: cannot parse", name)
	}
	proto, err := lua.Compile(chunk, name)
	if err != nil {
		var cerr *lua.CompileError
		if errors.As(err, &cerr) {
			return nil, fmt.Errorf("%s:%d: %s", name, cerr.Line, cerr.Message)
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &LuaScript{name: name, proto: proto, chunk: chunk, constants: stringConstants(nil, proto)}, nil
}

// stringConstants appends the string constants of proto and its nested
// functions to list: a script's registers hold them without an allocation,
// and the memory estimate leaves them out.
func stringConstants(list []string, proto *lua.FunctionProto) []string {
	for _, c := range proto.Constants {
		if s, ok := c.(lua.LString); ok && s != "" {
			list = append(list, string(s))
		}
	}
	for _, p := range proto.FunctionPrototypes {
		list = stringConstants(list, p)
	}
	return list
}

// Name returns the name the script was compiled with.
func (s *LuaScript) Name() string { return s.name }

// LuaHooks are the hooks of one script, sharing a pool of VMs. Hooks
// returns them for the Engine; Close releases the VMs once the Engine is
// closed.
//
// Every invocation runs in a VM of the pool, alone: the VM first runs the
// script's main chunk in a fresh global environment (so top-level code
// runs before every invocation and should stay cheap: define functions
// and constants there, do work in the hook functions), then calls the
// hook function with the event. Nothing an invocation does survives it:
// its globals, closures and upvalues go with its environment; the shared
// libraries, the string metatable and the sandbox's own tables are read
// only. A VM is replaced after MaxUses invocations and after any failed
// one.
//
// Limits: every invocation has a deadline and a memory budget, checked
// before every VM instruction and inside every built-in that loops or
// builds data in proportion to its input (the string functions, patterns,
// table.concat/insert/sort, json, exec). The memory budget is an estimate
// of the Lua data the invocation can reach, kept by sizing each allocating
// instruction and built-in before it runs and by walking the reachable
// data when the estimate reaches the budget; the script fails when the
// walk confirms it. A script that recurses more than 256 calls deep gets
// "stack overflow". A failure is sticky: pcall cannot catch it for good.
type LuaHooks struct {
	script *LuaScript
	cfg    LuaConfig
	log    *slog.Logger
	hooks  []Hook
	idle   chan *luaVM
	// observe, when set (by tests), sees each VM after an invocation.
	observe func(*luaVM)

	// Guarded by mu.
	mu      sync.Mutex
	closed  bool
	created int // VMs made so far
}

// NewLuaHooks returns the hooks of script s: "lua:on_pcap_close" for
// FileClosed events when the script defines on_pcap_close, and
// "lua:on_call_complete" for CallCompleted when it defines
// on_call_complete. It runs the main chunk once, under the limits, to
// find them; an error there, or a script that defines neither, is an
// error. During that run log.*() and print() work and exec() raises an
// error; during the reruns that precede each invocation log.*() and
// print() are silent.
func NewLuaHooks(s *LuaScript, cfg LuaConfig) (*LuaHooks, error) {
	cfg = cfg.withDefaults()
	h := &LuaHooks{
		script: s,
		cfg:    cfg,
		log:    cfg.Logger.With("component", "hooks", "script", s.name),
		idle:   make(chan *luaVM, cfg.PoolSize),
	}
	vm, err := h.newVM()
	if err != nil {
		return nil, err
	}
	funcs, err := vm.load(context.Background(), time.Now())
	if err != nil {
		vm.close()
		return nil, err
	}
	h.put(vm, true)
	for _, fn := range funcs {
		h.hooks = append(h.hooks, &luaHook{set: h, fn: fn, name: "lua:" + fn, call: fn == LuaCallFunction})
	}
	if len(h.hooks) == 0 {
		h.Close()
		return nil, fmt.Errorf("%s: defines no hook function (%s or %s)", s.name, LuaPcapFunction, LuaCallFunction)
	}
	return h, nil
}

// Hooks returns the script's hooks, on_pcap_close first. They are safe for
// concurrent use.
func (h *LuaHooks) Hooks() []Hook { return h.hooks }

// Close closes the idle VMs; VMs still running close when their
// invocation ends. Hooks run after Close fail.
func (h *LuaHooks) Close() {
	h.mu.Lock()
	h.closed = true
	h.mu.Unlock()
	for {
		select {
		case vm := <-h.idle:
			vm.close()
		default:
			return
		}
	}
}

func (h *LuaHooks) newVM() (*luaVM, error) {
	vm, err := newLuaVM(h.script, &h.cfg, h.log)
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	h.created++
	h.mu.Unlock()
	return vm, nil
}

// get returns an idle VM or a new one.
func (h *LuaHooks) get() (*luaVM, error) {
	select {
	case vm := <-h.idle:
		return vm, nil
	default:
	}
	h.mu.Lock()
	closed := h.closed
	h.mu.Unlock()
	if closed {
		return nil, errors.New("lua hooks are closed")
	}
	return h.newVM()
}

// put returns vm to the pool after an invocation, or closes it when the
// invocation failed, its uses are spent, its stack grew, or the pool is
// full or closed.
func (h *LuaHooks) put(vm *luaVM, ok bool) {
	if ok && vm.uses < h.cfg.MaxUses && !vm.grown() {
		h.mu.Lock()
		defer h.mu.Unlock()
		if !h.closed {
			select {
			case h.idle <- vm:
				return
			default:
			}
		}
	}
	vm.close()
}

// luaHook is one hook function of a script.
type luaHook struct {
	set  *LuaHooks
	fn   string // LuaPcapFunction or LuaCallFunction
	name string // "lua:" + fn
	call bool   // CallCompleted rather than FileClosed
}

// Name implements Hook.
func (k *luaHook) Name() string { return k.name }

// Wants implements Hook.
func (k *luaHook) Wants(ev processor.Event) bool {
	switch ev.(type) {
	case processor.CallCompleted:
		return k.call
	case processor.FileClosed:
		return !k.call
	}
	return false
}

// Run calls the hook function with ev in a pooled VM, under the deadline
// (LuaConfig.Timeout from now, or ctx's if sooner) and the memory budget.
// A failure is logged with the event and returned as a *LuaError that
// wraps ErrTimeout or ErrMemoryLimit when a limit was reached.
func (k *luaHook) Run(ctx context.Context, ev processor.Event) error {
	start := time.Now()
	h := k.set
	vm, err := h.get()
	if err != nil {
		return fmt.Errorf("%s: %w", k.name, err)
	}
	err = vm.invoke(ctx, start, k, ev)
	if h.observe != nil {
		h.observe(vm)
	}
	h.put(vm, err == nil)
	if err != nil {
		attrs := append(eventAttrs(ev), "error", err)
		var le *LuaError
		if errors.As(err, &le) && le.Traceback != "" {
			attrs = append(attrs, "traceback", le.Traceback)
		}
		h.log.Error("hook failed", append([]any{"hook", k.name}, attrs...)...)
		if h.cfg.Trace != nil {
			h.cfg.Trace(Trace{Kind: "error", Hook: k.name, Err: err, At: time.Since(start)})
		}
	}
	return err
}

// eventAttrs are the log attributes that identify ev.
func eventAttrs(ev processor.Event) []any {
	switch e := ev.(type) {
	case processor.FileClosed:
		return []any{"event", e.Name(), "file", e.Path, "call_id", e.CallID}
	case processor.CallCompleted:
		return []any{"event", e.Name(), "call_id", e.CallID}
	}
	return nil
}
