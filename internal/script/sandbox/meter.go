package sandbox

import (
	"fmt"
	"unsafe"

	lua "github.com/yuin/gopher-lua"
)

// Estimated sizes, in bytes, of what a script can hold: what the Go heap
// spends on gopher-lua's representation, rounded up. Tables are sized in
// tablesize.go.
const (
	sizeString   = 24 // a string header, and its bytes' rounding to 8 (plus the bytes)
	sizeNumber   = 8  // a boxed float64
	sizeSlot     = 16 // an LValue in an array or on the stack
	sizeFunction = 64 // an LFunction
	sizeUpvalue  = 56 // an upvalue and its slot
	// maxTailCalls is the most tail calls a frame remembers (see
	// layout.Layout.CapTailCalls).
	maxTailCalls = 8
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
	vm.ctx.fail(ErrMemoryLimit, fmt.Sprintf("memory limit exceeded (%s)", formatBytes(vm.meter.limit)))
	L.RaiseError("%s", vm.ctx.luaErr.Error())
}

// overBudget fails the invocation for memory from the instruction hook:
// the VM raises the error at the instruction.
func (vm *luaVM) overBudget() {
	vm.ctx.fail(ErrMemoryLimit, fmt.Sprintf("memory limit exceeded (%s)", formatBytes(vm.meter.limit)))
}

// chargeInstruction sizes what the instruction about to run may allocate
// and reserves it. Only instructions that can allocate are charged; a
// concatenation and a store far past the end of an array are charged
// exactly, before the VM allocates, because a single one can be large.
func (vm *luaVM) chargeInstruction() {
	fn, inst, base, depth, ok := vm.lay.CurrentInstruction(vm.L)
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
		vm.lay.CapTailCalls(vm.L, maxTailCalls)
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
	reg := vm.lay.Registry(vm.L)
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

// formatBytes writes n with a binary unit, and one decimal when the value
// is not whole: "300 B", "1.5 KiB", "16 MiB" (as lc's summary does).
func formatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	v := float64(n) / float64(div)
	if v == float64(int64(v)) {
		return fmt.Sprintf("%d %ciB", int64(v), "KMGTPE"[exp])
	}
	return fmt.Sprintf("%.1f %ciB", v, "KMGTPE"[exp])
}
