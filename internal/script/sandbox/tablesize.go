package sandbox

import (
	"math/bits"

	lua "github.com/yuin/gopher-lua"
)

// The size model of gopher-lua tables. An LTable has an array part (a
// slice), a hash part for string keys (a Go map), one for other keys
// (another map) and the iteration order of the hash keys (a slice of
// boxed keys and a map from key to index, which never forget a key). Go maps (Swiss
// tables) hold 8 slots per group, and above 8 slots a power of two of
// them at most 7/8 full. gopher-lua makes the string map with room for 32
// keys the first time a string key is stored in a table made without one
// ({} then t.x = v), which costs 2 KiB for the first key; the sandbox
// sees those stores before they happen and remembers the tables (luaVM.lazy)
// to size them right.
const (
	sizeTable     = 96 // an LTable with its slice and map headers
	sizeMapHeader = 48 // a Go map
	sizeMapTable  = 40 // a table and directory of a map over 8 slots
	sizeValueSlot = 32 // a map slot of an LValue key and value
	sizeIndexSlot = 24 // a map slot of an LValue key and an int
	lazyHashHint  = 32 // gopher-lua's defaultHashCap
	// sizeStore is the amortized cost of a new hash key in a table whose
	// maps exist: a slot of each map, twice (they double), and the key's
	// place in the iteration order.
	sizeStore = 2*(sizeValueSlot+1) + 2*(sizeIndexSlot+1) + 2*sizeSlot + sizeString
)

// mapBytes is the size of a Go map holding n entries, made with room for
// hint, with slots of slot bytes.
func mapBytes(n, hint int, slot int64) int64 {
	c := max(n, hint)
	switch {
	case c == 0:
		return sizeMapHeader
	case c <= 8:
		return sizeMapHeader + 8 + 8*slot
	}
	// Big maps are split in tables of at most 1024 slots that split
	// again when full: count a quarter more than one power of two.
	slots := int64(1) << bits.Len(uint(c*8/7))
	return sizeMapHeader + sizeMapTable + slots*(slot+1)*5/4
}

// pow2 is the smallest power of two at or above n (0 for 0).
func pow2(n int) int64 {
	if n <= 0 {
		return 0
	}
	return int64(1) << bits.Len(uint(n-1))
}

// tableBytes is the size of t itself, its contents aside.
func (vm *luaVM) tableBytes(t *lua.LTable) int64 {
	array, dict, strdict, keys := vm.lay.TableParts(t)
	size := sizeTable + int64(cap(array))*sizeSlot
	if strdict != nil {
		hint := 0
		if _, ok := vm.lazy[t]; ok {
			hint = lazyHashHint
		}
		size += mapBytes(len(strdict), hint, sizeValueSlot)
	}
	if dict != nil {
		size += mapBytes(len(dict), 0, sizeValueSlot)
	}
	if keys > 0 {
		size += pow2(keys)*sizeSlot + int64(keys)*sizeString + mapBytes(keys, 0, sizeIndexSlot)
	}
	return size
}

// newTableCost is what a table constructor with room for narray and nhash
// entries allocates.
func newTableCost(narray, nhash int) int64 {
	n := sizeTable + int64(narray)*sizeSlot
	if nhash > 0 {
		n += mapBytes(0, nhash, sizeValueSlot)
	}
	return n
}

// storeSize is what R(a)[RK(b)] = v may allocate, in the function fn
// whose registers start at base.
func (vm *luaVM) storeSize(fn *lua.LFunction, base, a, b int) int64 {
	reg := vm.lay.Registry(vm.L)
	if base+a >= len(reg) {
		return sizeStore
	}
	t, ok := reg[base+a].(*lua.LTable)
	if !ok {
		return sizeStore
	}
	var key lua.LValue
	if b&0x100 != 0 {
		if k := b & 0xff; k < len(fn.Proto.Constants) {
			key = fn.Proto.Constants[k]
		}
	} else if base+b < len(reg) {
		key = reg[base+b]
	}
	return vm.storeCost(t, key)
}

// storeCost is what storing key in t may allocate, in the terms of
// tableBytes, so that a measurement never finds more than was charged:
// for an integer key past the end of the array part, the bigger array
// gopher-lua makes (it fills any gap with nils); for a hash key, what the
// maps and the iteration order grow by if the key is new.
func (vm *luaVM) storeCost(t *lua.LTable, key lua.LValue) int64 {
	array, dict, strdict, keys := vm.lay.TableParts(t)
	if k, ok := key.(lua.LNumber); ok && float64(k) >= 1 && float64(k) < float64(lua.MaxArrayIndex) && k == lua.LNumber(int64(k)) {
		n, length, capacity := int64(k), int64(len(array)), int64(cap(array))
		switch {
		case n <= length:
			return sizeNumber
		case n == length+1 && length < capacity:
			return sizeSlot + sizeNumber
		}
		grown := max(2*capacity, n, 32)
		return (grown-capacity)*sizeSlot + sizeNumber
	}
	cost := sizeNumber + sizeString + (pow2(keys+1)-pow2(keys))*sizeSlot +
		mapBytes(keys+1, 0, sizeIndexSlot) - mapBytes(keys, 0, sizeIndexSlot)
	if keys == 0 {
		cost += sizeMapHeader // mapBytes(0) counted a header that was not there
	}
	if _, ok := key.(lua.LString); ok {
		if strdict == nil {
			if vm.lazy == nil {
				vm.lazy = make(map[*lua.LTable]struct{})
			}
			vm.lazy[t] = struct{}{}
			return cost + mapBytes(1, lazyHashHint, sizeValueSlot)
		}
		hint := 0
		if _, ok := vm.lazy[t]; ok {
			hint = lazyHashHint
		}
		return cost + mapBytes(len(strdict)+1, hint, sizeValueSlot) - mapBytes(len(strdict), hint, sizeValueSlot)
	}
	if dict == nil {
		return cost + mapBytes(1, len(strdict), sizeValueSlot)
	}
	return cost + mapBytes(len(dict)+1, 0, sizeValueSlot) - mapBytes(len(dict), 0, sizeValueSlot)
}
