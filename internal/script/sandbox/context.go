package sandbox

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// pollEvery is how many instructions run between two looks at the
// caller's context; the invocation's own deadline is seen at every
// instruction.
const pollEvery = 256

// luaCtx is the context.Context a VM runs under. gopher-lua calls Done
// before every instruction, which makes it the sandbox's instruction hook:
// it sizes the allocations of the instruction about to run (see
// luaVM.chargeInstruction), and reports the deadline, the memory limit or
// the caller's cancellation by returning a closed channel, upon which the
// VM raises Err().Error() as a Lua error at that instruction. A failure is
// sticky: every later instruction raises it again, so a script cannot
// catch it with pcall and go on.
//
// Done, Err and the invocation fields are used by the VM's goroutine only;
// the deadline timer touches expired (atomically) and the fields guarded
// by mu.
type luaCtx struct {
	vm *luaVM

	parent     context.Context
	parentDone <-chan struct{}
	deadline   time.Time
	steps      uint64
	depth      int // deepest call frame seen running Lua code

	failed error         // ErrTimeout or ErrMemoryLimit (wrapped); nil while fine
	luaErr error         // the message the script sees
	done   chan struct{} // closed when failed is set

	expired atomic.Bool
	timer   *time.Timer

	// checked, when set, is called at every check of the limits: before
	// each instruction and in the loops of the bounded built-ins. Tests
	// use it to measure the work done between two checks; lc leaves it
	// nil.
	checked func()

	// Guarded by mu.
	mu     sync.Mutex
	active bool      // an invocation is running
	until  time.Time // its deadline, for the timer
}

func newLuaCtx(vm *luaVM) *luaCtx {
	c := &luaCtx{vm: vm, parent: context.Background()}
	c.timer = time.AfterFunc(time.Hour, c.fire)
	c.timer.Stop()
	return c
}

// fire runs on the timer's goroutine at (or after) the deadline.
func (c *luaCtx) fire() {
	c.mu.Lock()
	if c.active && !time.Now().Before(c.until) {
		c.expired.Store(true)
	}
	c.mu.Unlock()
}

// begin starts an invocation that must end by deadline and stops when
// parent is done.
func (c *luaCtx) begin(parent context.Context, deadline time.Time) {
	c.parent = parent
	c.parentDone = parent.Done()
	c.deadline = deadline
	c.steps = 0
	c.depth = 0
	c.failed, c.luaErr, c.done = nil, nil, nil
	c.mu.Lock()
	c.active = true
	c.until = deadline
	c.expired.Store(false)
	c.mu.Unlock()
	c.timer.Reset(time.Until(deadline))
	if parent.Err() != nil {
		c.pollParent()
	}
}

// end ends the invocation.
func (c *luaCtx) end() {
	c.mu.Lock()
	c.active = false
	c.mu.Unlock()
	c.timer.Stop()
	c.parent = context.Background()
	c.parentDone = nil
}

// stop releases the timer for good.
func (c *luaCtx) stop() { c.timer.Stop() }

// Deadline implements context.Context.
func (c *luaCtx) Deadline() (time.Time, bool) { return c.deadline, !c.deadline.IsZero() }

// Value implements context.Context.
func (c *luaCtx) Value(key any) any { return c.parent.Value(key) }

// Err implements context.Context: the error the script sees once a limit
// is hit.
func (c *luaCtx) Err() error { return c.luaErr }

// Done implements context.Context. gopher-lua calls it before every
// instruction; see luaCtx.
func (c *luaCtx) Done() <-chan struct{} {
	if c.checked != nil {
		c.checked()
	}
	if c.failed == nil {
		c.steps++
		if c.expired.Load() {
			c.timeout()
		} else {
			c.vm.chargeInstruction()
			if c.steps%pollEvery == 0 {
				c.pollParent()
			}
		}
	}
	return c.done // nil (never ready) until a failure
}

// pollParent fails the invocation when the caller's context is done.
func (c *luaCtx) pollParent() {
	select {
	case <-c.parentDone:
		cause := context.Cause(c.parent)
		c.fail(fmt.Errorf("%w: canceled: %w", ErrTimeout, cause), "hook canceled: "+cause.Error())
	default:
	}
}

// pollDeadline is the check of the loops that cannot raise a Lua error
// (the measurement walk): past the deadline, the invocation fails.
func (c *luaCtx) pollDeadline() {
	if c.checked != nil {
		c.checked()
	}
	if c.expired.Load() {
		c.timeout()
	}
}

// timeout fails the invocation for its deadline.
func (c *luaCtx) timeout() {
	c.fail(ErrTimeout, ErrTimeout.Error())
}

// fail records the first failure of the invocation.
func (c *luaCtx) fail(kind error, msg string) {
	if c.failed != nil {
		return
	}
	c.failed = kind
	c.luaErr = errors.New(msg)
	c.done = make(chan struct{})
	close(c.done)
}

// interrupt is checked by the built-ins that loop: it raises the pending
// failure, the deadline or the caller's cancellation as a Lua error.
func (c *luaCtx) interrupt(L *lua.LState) {
	if c.checked != nil {
		c.checked()
	}
	if c.failed == nil {
		if c.expired.Load() {
			c.timeout()
		} else {
			c.steps++
			if c.steps%pollEvery == 0 {
				c.pollParent()
			}
		}
	}
	if c.failed != nil {
		L.RaiseError("%s", c.luaErr.Error())
	}
}
