package sandbox

import (
	"math"
	"math/rand/v2"
	"strconv"

	lua "github.com/yuin/gopher-lua"
)

// Bounds of the base built-ins.
const (
	maxResults    = 8000 // values unpack() and string.byte() may return
	maxDateFormat = 256  // bytes of an os.date format
)

// baseAssert is assert(v [, message]).
func (vm *luaVM) baseAssert(L *lua.LState) int {
	if lua.LVAsBool(L.CheckAny(1)) {
		return L.GetTop()
	}
	msg := L.OptString(2, "assertion failed!")
	vm.alloc(len(msg) + 64) // the raised message copies it
	L.RaiseError("%s", msg)
	return 0
}

// baseError is error(value [, level]).
func (vm *luaVM) baseError(L *lua.LState) int {
	obj := L.Get(1)
	level := L.OptInt(2, 1)
	if s, ok := obj.(lua.LString); ok && level > 0 {
		vm.alloc(len(s) + 64) // the position is prepended to a copy
	}
	L.Error(obj, level)
	return 0
}

// baseRawset is rawset(t, k, v), which refuses the sandbox's read-only
// tables.
func (vm *luaVM) baseRawset(L *lua.LState) int {
	t := L.CheckTable(1)
	k := L.CheckAny(2)
	v := L.CheckAny(3)
	if name, ok := vm.sandbox.readOnly[t]; ok {
		L.RaiseError("attempt to modify read-only table '%s'", name)
	}
	switch k := k.(type) {
	case *lua.LNilType:
		L.RaiseError("table index is nil")
	case lua.LNumber:
		if math.IsNaN(float64(k)) {
			L.RaiseError("table index is NaN")
		}
	}
	vm.alloc(int(vm.storeCost(t, k)))
	t.RawSet(k, v)
	L.SetTop(1)
	return 1
}

// baseUnpack is unpack(t [, i [, j]]), limited to maxResults values.
func (vm *luaVM) baseUnpack(L *lua.LState) int {
	t := L.CheckTable(1)
	i, j := tableRange(L, t, 2)
	if i > j {
		return 0
	}
	n := int64(j) - int64(i) + 1
	if n <= 0 || n > maxResults {
		L.RaiseError("too many results to unpack")
	}
	for k := i; k <= j; k++ {
		L.Push(t.RawGetInt(k))
	}
	return int(n)
}

// mathRandom is math.random([m [, n]]).
func mathRandom(L *lua.LState) int {
	switch L.GetTop() {
	case 0:
		L.Push(lua.LNumber(rand.Float64()))
	case 1:
		m := L.CheckInt64(1)
		if m < 1 {
			L.ArgError(1, "interval is empty")
		}
		L.Push(lua.LNumber(rand.Int64N(m) + 1))
	case 2:
		lo, hi := L.CheckInt64(1), L.CheckInt64(2)
		if lo > hi {
			L.ArgError(2, "interval is empty")
		}
		span := uint64(hi - lo)
		if span == math.MaxUint64 {
			L.Push(lua.LNumber(int64(rand.Uint64())))
		} else {
			L.Push(lua.LNumber(lo + int64(rand.Uint64N(span+1))))
		}
	default:
		L.RaiseError("wrong number of arguments")
	}
	return 1
}

// mathRandomseed is math.randomseed(x): accepted and ignored, random
// numbers come from a generator no script can seed or observe.
func mathRandomseed(L *lua.LState) int {
	L.CheckNumber(1)
	return 0
}

// boundedDate wraps os.date so that its format, and so its result, stays
// small.
func boundedDate(date lua.LGFunction) lua.LGFunction {
	return func(L *lua.LState) int {
		if len(L.OptString(1, "")) > maxDateFormat {
			L.ArgError(1, "format longer than "+strconv.Itoa(maxDateFormat)+" bytes")
		}
		return date(L)
	}
}
