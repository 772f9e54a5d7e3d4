package sandbox

import (
	"math"
	"slices"
	"strconv"
	"unicode/utf8"

	lua "github.com/yuin/gopher-lua"
)

// Bounds of json.encode and json.decode. The output of encode is reserved
// in the memory budget as it grows, and so are the values decode makes;
// decode refuses an input larger than a quarter of the budget.
const (
	jsonMaxDepth   = 64
	jsonCheckEvery = 1024
)

// jsonArray is json.array(t): it marks t (nil: a new table) so that
// json.encode writes it as an array even when it is empty, and returns it.
func (vm *luaVM) jsonArray(L *lua.LState) int {
	var t *lua.LTable
	if L.Get(1) == lua.LNil {
		vm.alloc(int(newTableCost(0, 0)))
		t = L.CreateTable(0, 0)
	} else {
		t = L.CheckTable(1)
	}
	if t.Metatable != lua.LNil && t.Metatable != vm.sandbox.arrayMeta {
		L.ArgError(1, "table has a metatable")
	}
	t.Metatable = vm.sandbox.arrayMeta
	L.Push(t)
	return 1
}

// jsonEncode is json.encode(value). Tables whose keys are exactly 1..n,
// and tables marked by json.array, are arrays; other tables are objects
// with their keys sorted; json.null is null. NaN, infinities, functions,
// cycles and nesting deeper than 64 are errors. Strings that are not
// UTF-8 get U+FFFD for each bad byte.
func (vm *luaVM) jsonEncode(L *lua.LState) int {
	defer vm.release(vm.meter.held)
	e := &jsonEncoder{vm: vm, L: L, open: make(map[*lua.LTable]bool)}
	e.buf.vm = vm
	e.value(L.CheckAny(1), 0)
	L.Push(e.buf.lstring())
	return 1
}

type jsonEncoder struct {
	vm    *luaVM
	L     *lua.LState
	buf   heldBuffer
	open  map[*lua.LTable]bool // tables being written: a cycle
	steps int
}

func (e *jsonEncoder) write(s string) { e.buf.write(s) }

func (e *jsonEncoder) tick() {
	if e.steps++; e.steps%jsonCheckEvery == 0 {
		e.vm.ctx.interrupt(e.L)
	}
}

func (e *jsonEncoder) value(v lua.LValue, depth int) {
	e.tick()
	switch v := v.(type) {
	case *lua.LNilType:
		e.write("null")
	case lua.LBool:
		e.write(strconv.FormatBool(bool(v)))
	case lua.LNumber:
		f := float64(v)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			e.L.RaiseError("json.encode: cannot encode NaN or an infinity")
		}
		switch abs := math.Abs(f); {
		case f == math.Trunc(f) && abs < 1e15:
			e.write(strconv.FormatInt(int64(f), 10))
		case abs < 1e-6 || abs >= 1e21:
			e.write(strconv.FormatFloat(f, 'g', -1, 64))
		default:
			e.write(strconv.FormatFloat(f, 'f', -1, 64))
		}
	case lua.LString:
		e.string(string(v))
	case *lua.LTable:
		e.table(v, depth)
	default:
		e.L.RaiseError("json.encode: cannot encode a %s", v.Type().String())
	}
}

// table writes t: json.null as null, an array, or an object.
func (e *jsonEncoder) table(t *lua.LTable, depth int) {
	if t == e.vm.sandbox.null {
		e.write("null")
		return
	}
	if depth >= jsonMaxDepth {
		e.L.RaiseError("json.encode: nesting deeper than %d", jsonMaxDepth)
	}
	if e.open[t] {
		e.L.RaiseError("json.encode: cycle (a table contains itself)")
	}
	e.open[t] = true
	defer delete(e.open, t)

	keys, isArray := e.keys(t)
	switch {
	case len(keys) == 0 && t.Metatable == e.vm.sandbox.arrayMeta:
		e.write("[]")
	case len(keys) == 0:
		e.write("{}")
	case isArray:
		e.array(t, len(keys), depth)
	default:
		e.object(t, keys, depth)
	}
}

// keys returns the keys of t, and whether they are exactly 1..n.
func (e *jsonEncoder) keys(t *lua.LTable) ([]lua.LValue, bool) {
	var keys []lua.LValue
	isArray := true
	t.ForEach(func(k, _ lua.LValue) {
		e.tick()
		keys = append(keys, k)
		if n, ok := k.(lua.LNumber); !ok || n < 1 || n != lua.LNumber(int64(n)) {
			isArray = false
		}
	})
	e.vm.hold(len(keys) * sizeSlot)
	if isArray {
		n := len(keys)
		for _, k := range keys {
			if int(k.(lua.LNumber)) > n {
				isArray = false
				break
			}
		}
	}
	return keys, isArray
}

// array writes t[1..n] as an array.
func (e *jsonEncoder) array(t *lua.LTable, n, depth int) {
	e.write("[")
	for i := 1; i <= n; i++ {
		if i > 1 {
			e.write(",")
		}
		e.value(t.RawGetInt(i), depth+1)
	}
	e.write("]")
}

// object writes the keys of t, strings or numbers, and their values as an
// object, sorted by key.
func (e *jsonEncoder) object(t *lua.LTable, keys []lua.LValue, depth int) {
	names := make([]string, len(keys))
	for i, k := range keys {
		switch k := k.(type) {
		case lua.LString:
			names[i] = string(k)
		case lua.LNumber:
			names[i] = k.String()
		default:
			e.L.RaiseError("json.encode: cannot encode a %s key", k.Type().String())
		}
	}
	order := make([]int, len(keys))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		e.tick()
		switch {
		case names[a] < names[b]:
			return -1
		case names[a] > names[b]:
			return 1
		}
		return 0
	})
	e.write("{")
	for i, k := range order {
		if i > 0 {
			e.write(",")
		}
		e.string(names[k])
		e.write(":")
		e.value(t.RawGet(keys[k]), depth+1)
	}
	e.write("}")
}

// string writes s quoted: ", \ and control characters escaped, each
// byte that is not UTF-8 as U+FFFD.
func (e *jsonEncoder) string(s string) {
	n := 2
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t':
				n += 2
			case c < 0x20:
				n += 6
			default:
				n++
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			n += 6
		} else {
			n += size
		}
		i += size
	}
	e.tick()
	e.buf.grow(n)
	b := append(e.buf.b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', "0123456789abcdef"[c>>4], "0123456789abcdef"[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	e.buf.b = append(b, '"')
}
