package sandbox

import (
	"sort"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// tableCheckEvery is how many elements the table built-ins handle
// between two checks of the deadline.
const tableCheckEvery = 4096

// tableConcat is table.concat(t [, sep [, i [, j]]]), Lua 5.1's: the
// result's size is computed, and reserved, before it is built.
func (vm *luaVM) tableConcat(L *lua.LState) int {
	t := L.CheckTable(1)
	sep := L.OptString(2, "")
	i, j := tableRange(L, t, 3)
	if i > j {
		L.Push(lua.LString(""))
		return 1
	}
	field := func(k int) string {
		switch v := t.RawGetInt(k).(type) {
		case lua.LString:
			return string(v)
		case lua.LNumber:
			return v.String()
		}
		L.RaiseError("invalid value (at index %d) in table for 'concat'", k)
		return ""
	}
	size := int64(0)
	for k := i; k <= j; k++ {
		if (k-i)%tableCheckEvery == tableCheckEvery-1 {
			vm.ctx.interrupt(L)
		}
		size += int64(len(field(k)))
		if k < j {
			size += int64(len(sep))
		}
		if size > vm.meter.limit {
			vm.memoryError(L)
		}
	}
	vm.alloc(int(size) + sizeString)
	var b strings.Builder
	b.Grow(int(size))
	for k := i; k <= j; k++ {
		if (k-i)%tableCheckEvery == tableCheckEvery-1 {
			vm.ctx.interrupt(L)
		}
		b.WriteString(field(k))
		if k < j {
			b.WriteString(sep)
		}
	}
	L.Push(lua.LString(b.String()))
	return 1
}

// tableInsert is table.insert(t, [pos,] v). A position past the end of
// the array reserves the gap gopher-lua fills.
func (vm *luaVM) tableInsert(L *lua.LState) int {
	t := L.CheckTable(1)
	switch L.GetTop() {
	case 2:
		v := L.Get(2)
		n := t.Len()
		if v == lua.LNil && n == len(vm.lay.TableArray(t)) {
			return 0 // appending nil changes nothing
		}
		vm.alloc(int(vm.storeCost(t, lua.LNumber(n+1))))
		t.RawSetInt(n+1, v)
	case 3:
		pos := L.CheckInt(2)
		v := L.Get(3)
		if n := len(vm.lay.TableArray(t)); pos >= 1 && pos <= n {
			vm.alloc(int(vm.storeCost(t, lua.LNumber(n+1))))
			t.Insert(pos, v)
			return 0
		}
		vm.alloc(int(vm.storeCost(t, lua.LNumber(pos))))
		t.RawSetInt(pos, v)
	default:
		L.RaiseError("wrong number of arguments to 'insert'")
	}
	return 0
}

// tableSort is table.sort(t [, comp]): it sorts t[1..#t] with comp or <,
// checking the deadline as it goes.
func (vm *luaVM) tableSort(L *lua.LState) int {
	t := L.CheckTable(1)
	var comp *lua.LFunction
	if L.Get(2) != lua.LNil {
		comp = L.CheckFunction(2)
	}
	n := t.Len()
	if n < 2 {
		return 0
	}
	defer vm.release(vm.meter.held)
	vm.hold(n * sizeSlot)
	vals := make([]lua.LValue, n)
	for i := range vals {
		vals[i] = t.RawGetInt(i + 1)
	}
	steps := 0
	sort.Slice(vals, func(a, b int) bool {
		steps++
		if steps%tableCheckEvery == 0 {
			vm.ctx.interrupt(L)
		}
		if comp == nil {
			return L.LessThan(vals[a], vals[b])
		}
		L.Push(comp)
		L.Push(vals[a])
		L.Push(vals[b])
		L.Call(2, 1)
		less := lua.LVAsBool(L.Get(-1))
		L.Pop(1)
		return less
	})
	for i, v := range vals {
		t.RawSetInt(i+1, v)
	}
	return 0
}

// tableRange reads the optional range arguments i (default 1) and j
// (default #t) at positions arg and arg+1.
func tableRange(L *lua.LState, t *lua.LTable, arg int) (i, j int) {
	i = L.OptInt(arg, 1)
	if L.Get(arg+1) == lua.LNil {
		return i, t.Len()
	}
	return i, L.CheckInt(arg + 1)
}
