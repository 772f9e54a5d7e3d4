package sandbox

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"
)

// Pool runs the functions of one script in a pool of VMs. It is safe for
// concurrent use: each Call takes a VM of its own.
//
// Every Call runs in a VM of the pool, alone: the VM first runs the
// script's main chunk in a fresh global environment (so top-level code
// runs before every call and should stay cheap: define functions and
// constants there, do work in the functions), then calls the function
// with the arguments. Nothing a call does survives it: its globals,
// closures and upvalues go with its environment; the shared libraries,
// the string metatable and the sandbox's own tables are read only. A VM
// is replaced after MaxUses invocations and after any failed one.
//
// Limits: every invocation has a deadline and a memory budget, checked
// before every VM instruction and inside every built-in that loops or
// builds data in proportion to its input (the string functions, patterns,
// table.concat/insert/sort, json). The memory budget is an estimate of
// the Lua data the invocation can reach, kept by sizing each allocating
// instruction and built-in before it runs and by walking the reachable
// data when the estimate reaches the budget; the script fails when the
// walk confirms it. A script that recurses more than 256 calls deep gets
// "stack overflow". A failure is sticky: pcall cannot catch it for good.
type Pool struct {
	script    *Script
	cfg       Config
	functions []string
	idle      chan *luaVM
	// observe, when set (by tests), sees each VM after a call.
	observe func(*luaVM)

	// Guarded by mu.
	mu      sync.Mutex
	closed  bool
	created int // VMs made so far
}

// Call is one invocation of a function of the script.
type Call struct {
	// Func is the global function to call, such as "on_call_complete".
	Func string
	// Name names the invocation in errors, traces and Invocation.Name,
	// such as "lua:on_call_complete".
	Name string
	// Args are the arguments, as Go values: nil, string, bool, int,
	// int64, float64, []string, []Table or Table (see Table).
	Args []any
	// Log is where the call's log.*() and print() lines go, with the
	// attributes the caller wants on them; nil means Config.Logger.
	Log *slog.Logger
	// Start is when the invocation's time started: its deadline is
	// Config.Timeout after it. Zero means when Call is called.
	Start time.Time
	// Data is handed to the builtins through Invocation.Data.
	Data any
}

// NewPool returns the pool of VMs of script s. It runs the main chunk
// once, under the limits, with log.*() and print() going to cfg.Logger
// and builtins seeing Invocation.Running false, and records which of
// functions (global function names) it defines. An error there is
// returned as an *Error (and traced); a script that defines none of
// functions is not an error: Functions is then empty.
func NewPool(s *Script, cfg Config, functions []string) (*Pool, error) {
	cfg = cfg.withDefaults()
	p := &Pool{script: s, cfg: cfg, idle: make(chan *luaVM, cfg.PoolSize)}
	vm, err := p.newVM()
	if err != nil {
		return nil, err
	}
	p.functions, err = vm.load(context.Background(), time.Now(), functions)
	if err != nil {
		vm.close()
		return nil, err
	}
	p.put(vm, true)
	return p, nil
}

// Functions returns those of the functions given to NewPool that the
// script defines, in the order given. The slice is the caller's.
func (p *Pool) Functions() []string { return slices.Clone(p.functions) }

// Call calls c.Func with c.Args in a pooled VM, after a rerun of the main
// chunk (whose log lines are dropped), under the deadline (Config.Timeout
// from c.Start, or ctx's deadline if sooner) and the memory budget, which
// the arguments are charged to first. A failure is traced and returned as
// an *Error that wraps ErrTimeout or ErrMemoryLimit when a limit was
// reached; Call does not log it. Arguments of an unsupported type, and a
// Call after Close, are errors of another type. Call returns soon after
// ctx is done.
func (p *Pool) Call(ctx context.Context, c Call) error {
	start := c.Start
	if start.IsZero() {
		start = time.Now()
	}
	cost, err := argsCost(c.Args)
	if err != nil {
		return fmt.Errorf("%s: %w", c.Name, err)
	}
	vm, err := p.get()
	if err != nil {
		return fmt.Errorf("%s: %w", c.Name, err)
	}
	err = vm.call(ctx, start, &c, cost)
	if p.observe != nil {
		p.observe(vm)
	}
	p.put(vm, err == nil)
	if err != nil && p.cfg.Trace != nil {
		p.cfg.Trace(Trace{Kind: "error", Hook: c.Name, Err: err, At: time.Since(start)})
	}
	return err
}

// Close closes the idle VMs; VMs still running close when their call
// ends. Calls made after Close fail.
func (p *Pool) Close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	for {
		select {
		case vm := <-p.idle:
			vm.close()
		default:
			return
		}
	}
}

func (p *Pool) newVM() (*luaVM, error) {
	vm, err := newLuaVM(p.script, &p.cfg)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	p.created++
	p.mu.Unlock()
	return vm, nil
}

// get returns an idle VM or a new one.
func (p *Pool) get() (*luaVM, error) {
	select {
	case vm := <-p.idle:
		return vm, nil
	default:
	}
	p.mu.Lock()
	closed := p.closed
	p.mu.Unlock()
	if closed {
		return nil, errClosed
	}
	return p.newVM()
}

// put returns vm to the pool after an invocation, or closes it when the
// invocation failed, its uses are spent, its stack grew, or the pool is
// full or closed.
func (p *Pool) put(vm *luaVM, ok bool) {
	if ok && vm.uses < p.cfg.MaxUses && !vm.grown() {
		p.mu.Lock()
		defer p.mu.Unlock()
		if !p.closed {
			select {
			case p.idle <- vm:
				return
			default:
			}
		}
	}
	vm.close()
}
