package sandbox

import (
	"unsafe"

	lua "github.com/yuin/gopher-lua"
)

const (
	// walkCheckEvery is how many values a measurement visits between two
	// looks at the deadline.
	walkCheckEvery = 4096
	// walkerKeep is how many values the walker's state may have held to
	// be kept from one invocation to the next.
	walkerKeep = 1 << 14
)

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
	for _, v := range vm.lay.Registry(vm.L) {
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
		array, dict, strdict, _ := vm.lay.TableParts(v)
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
