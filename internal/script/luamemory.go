package script

import (
	"errors"
	"fmt"
	"unsafe"

	"github.com/lc-voip/lc/internal/units"
	lua "github.com/yuin/gopher-lua"
)

// ErrMemoryLimit is wrapped by the error of a Lua hook that went over its
// memory budget (LuaConfig.MemoryLimit).
var ErrMemoryLimit = errors.New("hook memory limit exceeded")

// Estimated sizes, in bytes, of what a script can hold: what the Go heap
// spends on gopher-lua's representation, rounded up. Tables are sized in
// luatablesize.go.
const (
	sizeString   = 24 // a string header, and its bytes' rounding to 8 (plus the bytes)
	sizeNumber   = 8  // a boxed float64
	sizeSlot     = 16 // an LValue in an array or on the stack
	sizeFunction = 64 // an LFunction
	sizeUpvalue  = 56 // an upvalue and its slot
	// maxTailCalls is the most tail calls a frame remembers (see
	// capTailCalls).
	maxTailCalls = 8
	// walkCheckEvery is how many values a measurement visits between two
	// looks at the deadline.
	walkCheckEvery = 4096
	// walkerKeep is how many values the walker's state may have held to
	// be kept from one invocation to the next.
	walkerKeep = 1 << 14
)

// luaMeter keeps the memory estimate of one invocation: base is what the
// last measurement found reachable, pending an upper bound of what has
// been allocated since, and held what the running built-in holds in
// buffers the script cannot reach yet (the result of a gsub being built,
// the tables of a json.decode). Measuring (walking everything the script
// can reach) is done only when base+pending+held would pass the limit, so
// a script pays for it in proportion to the data it keeps.
type luaMeter struct {
	limit   int64
	base    int64
	pending int64
	held    int64
	peak    int64 // largest measurement (base+held) of the invocation
	walks   int
	charged int64 // all bytes reserved by the invocation
}

// reset starts the estimate of an invocation.
func (m *luaMeter) reset(limit int64) { *m = luaMeter{limit: limit} }

// reserve accounts for n bytes about to be allocated. It reports false
// when they do not fit in the budget even after measuring what is really
// reachable; nothing is reserved then.
func (vm *luaVM) reserve(n int64) bool {
	m := &vm.meter
	if n <= m.limit-m.base-m.pending-m.held {
		m.pending += n
		m.charged += n
		return true
	}
	vm.measure()
	if vm.ctx.failed != nil || n > m.limit-m.base-m.held {
		return false
	}
	m.pending = n
	m.charged += n
	return true
}

// alloc is reserve for the built-ins: it raises the memory error (or the
// deadline, when that passed during the measurement) instead of reporting
// it.
func (vm *luaVM) alloc(n int) {
	if !vm.reserve(int64(n)) {
		if vm.ctx.failed != nil {
			vm.L.RaiseError("%s", vm.ctx.luaErr.Error())
		}
		vm.memoryError(vm.L)
	}
}

// hold is alloc for memory the script cannot reach yet: it stays
// accounted for across measurements until released.
func (vm *luaVM) hold(n int) {
	vm.alloc(n)
	vm.meter.pending -= int64(n)
	vm.meter.held += int64(n)
}

// release ends the holds made since held was mark: the memory is now
// either reachable by the script or garbage, and counts as pending until
// the next measurement. Built-ins that hold defer it, so that it runs
// when they raise an error too.
func (vm *luaVM) release(mark int64) {
	m := &vm.meter
	m.pending += m.held - mark
	m.held = mark
}

// heldBuffer is the buffer a built-in builds a string result in. Its
// bytes are held in the memory budget as they are written, and it grows
// by doubling but never past the budget, so a result of n bytes costs at
// most about 2n of heap while it is built.
type heldBuffer struct {
	vm *luaVM
	b  []byte
}

// grow makes room for n more bytes and holds them.
func (h *heldBuffer) grow(n int) {
	h.vm.hold(n)
	if need := len(h.b) + n; need > cap(h.b) {
		size := min(max(2*cap(h.b), need, 256), max(need, int(h.vm.meter.limit)))
		b := make([]byte, len(h.b), size)
		copy(b, h.b)
		h.b = b
	}
}

func (h *heldBuffer) write(s string) {
	h.grow(len(s))
	h.b = append(h.b, s...)
}

// lstring returns the result. The buffer must not be written after.
func (h *heldBuffer) lstring() lua.LString {
	if cap(h.b)-len(h.b) > len(h.b)/8 {
		return lua.LString(h.b) // a copy, not to keep the unused room
	}
	return lua.LString(unsafe.String(unsafe.SliceData(h.b), len(h.b)))
}

// memoryError fails the invocation for memory and raises the error.
func (vm *luaVM) memoryError(L *lua.LState) {
	vm.ctx.fail(ErrMemoryLimit, fmt.Sprintf("memory limit exceeded (%s)", units.Bytes(vm.meter.limit)))
	L.RaiseError("%s", vm.ctx.luaErr.Error())
}

// overBudget fails the invocation for memory from the instruction hook:
// the VM raises the error at the instruction.
func (vm *luaVM) overBudget() {
	vm.ctx.fail(ErrMemoryLimit, fmt.Sprintf("memory limit exceeded (%s)", units.Bytes(vm.meter.limit)))
}

// chargeInstruction sizes what the instruction about to run may allocate
// and reserves it. Only instructions that can allocate are charged; a
// concatenation and a store far past the end of an array are charged
// exactly, before the VM allocates, because a single one can be large.
func (vm *luaVM) chargeInstruction() {
	fn, inst, base, depth, ok := currentInstruction(vm.lay, vm.L)
	if !ok {
		return
	}
	if depth > vm.ctx.depth {
		vm.ctx.depth = depth
	}
	var n int64
	switch int(inst >> 26) {
	case lua.OP_CONCAT:
		n = vm.concatSize(base+int(inst&0x1ff), base+int(inst>>9)&0x1ff)
	case lua.OP_SETTABLE, lua.OP_SETTABLEKS:
		n = vm.storeSize(fn, base, int(inst>>18)&0xff, int(inst&0x1ff))
	case lua.OP_SETGLOBAL:
		n = sizeStore
	case lua.OP_NEWTABLE:
		n = newTableCost(int(inst&0x1ff), int(inst>>9&0x1ff))
	case lua.OP_SETLIST:
		count := int64(inst & 0x1ff)
		if count == 0 {
			count = int64(lua.FieldsPerFlush)
		}
		n = count * (sizeSlot + sizeNumber)
	case lua.OP_CLOSURE:
		n = sizeFunction
		if bx := int(inst & 0x3ffff); bx < len(fn.Proto.FunctionPrototypes) {
			// An upvalue and, once closed, its value (a number is boxed).
			n += int64(fn.Proto.FunctionPrototypes[bx].NumUpvalues) * (sizeUpvalue + sizeNumber)
		}
	case lua.OP_TAILCALL:
		capTailCalls(vm.lay, vm.L, maxTailCalls)
		return
	default:
		return
	}
	if !vm.reserve(n) && vm.ctx.failed == nil {
		vm.overBudget()
	}
}

// concatSize is the size of the string a concatenation of the registers
// from..to makes.
func (vm *luaVM) concatSize(from, to int) int64 {
	reg := registryOf(vm.lay, vm.L)
	n := int64(sizeString)
	for i := max(from, 0); i <= to && i < len(reg); i++ {
		switch v := reg[i].(type) {
		case lua.LString:
			n += int64(len(v))
		case lua.LNumber:
			n += 24
		}
	}
	return n
}

// measure walks what the invocation can reach and makes it the new base.
// A walk cut short by the deadline leaves the invocation failed.
func (vm *luaVM) measure() {
	m := &vm.meter
	m.base, m.pending = vm.walk(), 0
	m.walks++
	m.peak = max(m.peak, m.base+m.held)
}

// luaWalker is the reusable state of a measurement.
type luaWalker struct {
	seen  map[unsafe.Pointer]struct{} // tables and functions
	strs  map[stringKey]struct{}      // strings
	stack []lua.LValue
	work  int  // values visited, for the deadline checks
	big   bool // seen held more than walkerKeep values
}

// tick counts a visited value and checks the deadline every
// walkCheckEvery: past it, the invocation fails and the walk stops.
func (vm *luaVM) walkTick() bool {
	w := &vm.walker
	w.work++
	if w.work%walkCheckEvery == 0 {
		vm.ctx.pollDeadline()
	}
	return vm.ctx.failed == nil
}

// walk estimates the bytes reachable from the VM's value stack and the
// invocation's environment, leaving out the sandbox's shared tables and
// the compiled script (its string constants included).
func (vm *luaVM) walk() int64 {
	w := &vm.walker
	if w.seen == nil {
		w.seen = make(map[unsafe.Pointer]struct{})
		w.strs = make(map[stringKey]struct{})
	}
	for _, t := range vm.sandbox.fixed {
		w.seen[unsafe.Pointer(t)] = struct{}{}
	}
	for _, c := range vm.script.constants {
		w.strs[stringKey{unsafe.Pointer(unsafe.StringData(c)), len(c)}] = struct{}{}
	}
	// The value stack itself (at most luaRegistryMaxSize slots, with the
	// numbers in them) is not counted, what it refers to is.
	size := int64(0)
	w.stack = w.stack[:0]
	for _, v := range registryOf(vm.lay, vm.L) {
		switch v.(type) {
		case nil, lua.LNumber, lua.LBool, *lua.LNilType:
		default:
			w.stack = append(w.stack, v)
		}
	}
	if vm.inv.env != nil {
		w.stack = append(w.stack, vm.inv.env)
	}
	w.work = 0
	for len(w.stack) > 0 && vm.ctx.failed == nil {
		v := w.stack[len(w.stack)-1]
		w.stack = w.stack[:len(w.stack)-1]
		size += vm.sizeOf(v)
	}
	w.stack = w.stack[:0]
	w.big = w.big || len(w.seen)+len(w.strs) > walkerKeep
	clear(w.seen)
	clear(w.strs)
	return size
}

// shrink drops the walker's state when a measurement made it big: it is
// kept during an invocation, which may measure often.
func (w *luaWalker) shrink() {
	if w.big || cap(w.stack) > walkerKeep {
		*w = luaWalker{}
	}
}

// sizeOf returns the size of v itself and queues what it references.
func (vm *luaVM) sizeOf(v lua.LValue) int64 {
	w := &vm.walker
	switch v := v.(type) {
	case lua.LString:
		return vm.stringSize(string(v))
	case lua.LNumber:
		return sizeNumber
	case *lua.LTable:
		if !w.mark(unsafe.Pointer(v)) {
			return 0
		}
		array, dict, strdict, _ := tableParts(vm.lay, v)
		size := vm.tableBytes(v)
		for _, x := range array {
			if !vm.walkTick() {
				return size
			}
			switch x := x.(type) {
			case nil, lua.LBool, *lua.LNilType:
			case lua.LNumber:
				size += sizeNumber
			case lua.LString:
				size += vm.stringSize(string(x))
			default:
				w.stack = append(w.stack, x)
			}
		}
		for k, x := range strdict {
			if !vm.walkTick() {
				return size
			}
			size += vm.stringSize(k)
			w.stack = append(w.stack, x)
		}
		for k, x := range dict {
			if !vm.walkTick() {
				return size
			}
			w.stack = append(w.stack, k, x)
		}
		if v.Metatable != lua.LNil && v.Metatable != nil {
			w.stack = append(w.stack, v.Metatable)
		}
		return size
	case *lua.LFunction:
		if !vm.walkTick() || !w.mark(unsafe.Pointer(v)) {
			return 0
		}
		if v.IsG {
			return sizeFunction
		}
		if v.Env != nil {
			w.stack = append(w.stack, v.Env)
		}
		for _, uv := range v.Upvalues {
			if uv != nil {
				w.stack = append(w.stack, uv.Value())
			}
		}
		return sizeFunction + int64(len(v.Upvalues))*sizeUpvalue
	case *lua.LUserData:
		if !w.mark(unsafe.Pointer(v)) {
			return 0
		}
		if v.Metatable != lua.LNil && v.Metatable != nil {
			w.stack = append(w.stack, v.Metatable)
		}
		return sizeFunction
	}
	return 0
}

// stringKey identifies a string's bytes: two strings with the same key
// share them. Substrings that start at the same byte but differ in length
// count apart, which overcounts what they share rather than undercount.
type stringKey struct {
	p unsafe.Pointer
	n int
}

// stringSize counts a string once, however many times it is stored.
func (vm *luaVM) stringSize(s string) int64 {
	if len(s) == 0 {
		return 0
	}
	k := stringKey{unsafe.Pointer(unsafe.StringData(s)), len(s)}
	if _, ok := vm.walker.strs[k]; ok {
		return 0
	}
	vm.walker.strs[k] = struct{}{}
	return int64(len(s)) + sizeString
}

// mark records p as visited and reports whether it was new.
func (w *luaWalker) mark(p unsafe.Pointer) bool {
	if _, ok := w.seen[p]; ok {
		return false
	}
	w.seen[p] = struct{}{}
	return true
}
