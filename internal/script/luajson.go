package script

import (
	"math"
	"slices"
	"strconv"
	"unicode/utf16"
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
		t = L.NewTable()
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
	e.value(L.CheckAny(1), 0)
	L.Push(lua.LString(e.buf))
	return 1
}

type jsonEncoder struct {
	vm    *luaVM
	L     *lua.LState
	buf   []byte
	open  map[*lua.LTable]bool // tables being written: a cycle
	steps int
}

func (e *jsonEncoder) write(s string) {
	e.vm.hold(len(s))
	e.buf = append(e.buf, s...)
}

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
	if len(keys) == 0 {
		if t.Metatable == e.vm.sandbox.arrayMeta {
			e.write("[]")
		} else {
			e.write("{}")
		}
		return
	}
	if isArray {
		e.write("[")
		for i := 1; i <= len(keys); i++ {
			if i > 1 {
				e.write(",")
			}
			e.value(t.RawGetInt(i), depth+1)
		}
		e.write("]")
		return
	}
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

func (e *jsonEncoder) string(s string) {
	e.vm.hold(len(s) + 2)
	b := append(e.buf, '"')
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
				e.vm.hold(4)
				b = append(b, '\\', 'u', '0', '0', "0123456789abcdef"[c>>4], "0123456789abcdef"[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			e.vm.hold(6)
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	e.buf = append(b, '"')
}

// jsonDecode is json.decode(s): objects become tables, arrays tables
// marked as by json.array, null nil (a key with a null value is absent).
// Invalid JSON, nesting deeper than 64 and an input larger than a quarter
// of the memory budget are errors.
func (vm *luaVM) jsonDecode(L *lua.LState) int {
	s := L.CheckString(1)
	if int64(len(s)) > vm.meter.limit/4 {
		L.RaiseError("json.decode: input of %d bytes is larger than %d", len(s), vm.meter.limit/4)
	}
	defer vm.release(vm.meter.held)
	d := &jsonDecoder{vm: vm, L: L, s: s}
	d.space()
	v := d.value(0)
	d.space()
	if d.i < len(s) {
		d.fail("unexpected data after the value")
	}
	L.Push(v)
	return 1
}

type jsonDecoder struct {
	vm    *luaVM
	L     *lua.LState
	s     string
	i     int
	steps int
}

func (d *jsonDecoder) fail(msg string) {
	d.L.RaiseError("json.decode: %s at offset %d", msg, d.i)
}

func (d *jsonDecoder) space() {
	for d.i < len(d.s) {
		switch d.s[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *jsonDecoder) value(depth int) lua.LValue {
	if d.steps++; d.steps%jsonCheckEvery == 0 {
		d.vm.ctx.interrupt(d.L)
	}
	if d.i >= len(d.s) {
		d.fail("unexpected end of input")
	}
	switch c := d.s[d.i]; {
	case c == '{':
		return d.object(depth)
	case c == '[':
		return d.array(depth)
	case c == '"':
		s := d.string()
		d.vm.hold(len(s) + sizeString)
		return lua.LString(s)
	case c == 't':
		return d.literal("true", lua.LTrue)
	case c == 'f':
		return d.literal("false", lua.LFalse)
	case c == 'n':
		return d.literal("null", lua.LNil)
	case c == '-' || isDigit(c):
		return d.number()
	}
	d.fail("invalid character")
	return lua.LNil
}

func (d *jsonDecoder) literal(word string, v lua.LValue) lua.LValue {
	if len(d.s)-d.i < len(word) || d.s[d.i:d.i+len(word)] != word {
		d.fail("invalid literal")
	}
	d.i += len(word)
	return v
}

func (d *jsonDecoder) number() lua.LValue {
	start := d.i
	if d.s[d.i] == '-' {
		d.i++
	}
	digits := func() int {
		n := 0
		for d.i < len(d.s) && isDigit(d.s[d.i]) {
			d.i++
			n++
		}
		return n
	}
	if d.i < len(d.s) && d.s[d.i] == '0' {
		d.i++
	} else if digits() == 0 {
		d.fail("invalid number")
	}
	if d.i < len(d.s) && d.s[d.i] == '.' {
		d.i++
		if digits() == 0 {
			d.fail("invalid number")
		}
	}
	if d.i < len(d.s) && (d.s[d.i] == 'e' || d.s[d.i] == 'E') {
		d.i++
		if d.i < len(d.s) && (d.s[d.i] == '+' || d.s[d.i] == '-') {
			d.i++
		}
		if digits() == 0 {
			d.fail("invalid number")
		}
	}
	f, err := strconv.ParseFloat(d.s[start:d.i], 64)
	if err != nil && !math.IsInf(f, 0) {
		d.fail("invalid number")
	}
	d.vm.hold(sizeNumber)
	return lua.LNumber(f)
}

func (d *jsonDecoder) string() string {
	d.i++ // the opening quote
	start := d.i
	var b []byte // nil while there is no escape
	for {
		if d.i >= len(d.s) {
			d.fail("unterminated string")
		}
		c := d.s[d.i]
		switch {
		case c == '"':
			var s string
			if b == nil {
				s = d.s[start:d.i]
			} else {
				s = string(append(b, d.s[start:d.i]...))
			}
			d.i++
			return s
		case c < 0x20:
			d.fail("control character in string")
		case c == '\\':
			b = append(b, d.s[start:d.i]...)
			d.i++
			if d.i >= len(d.s) {
				d.fail("unterminated string")
			}
			switch e := d.s[d.i]; e {
			case '"', '\\', '/':
				b = append(b, e)
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				r := d.hex4()
				if utf16.IsSurrogate(r) {
					r2 := rune(-1)
					if d.i+2 < len(d.s) && d.s[d.i+1] == '\\' && d.s[d.i+2] == 'u' {
						d.i += 2
						r2 = d.hex4()
					}
					r = utf16.DecodeRune(r, r2)
				}
				b = utf8.AppendRune(b, r)
			default:
				d.fail("invalid escape")
			}
			d.i++
			start = d.i
		default:
			d.i++
		}
	}
}

// hex4 reads the 4 hex digits after \u; d.i is left on the last one.
func (d *jsonDecoder) hex4() rune {
	if len(d.s)-d.i < 5 {
		d.fail("invalid \\u escape")
	}
	n, err := strconv.ParseUint(d.s[d.i+1:d.i+5], 16, 16)
	if err != nil {
		d.fail("invalid \\u escape")
	}
	d.i += 4
	return rune(n)
}

func (d *jsonDecoder) array(depth int) lua.LValue {
	if depth >= jsonMaxDepth {
		d.fail("nesting deeper than 64")
	}
	d.vm.hold(sizeTable)
	t := d.L.NewTable()
	t.Metatable = d.vm.sandbox.arrayMeta
	d.i++
	d.space()
	if d.i < len(d.s) && d.s[d.i] == ']' {
		d.i++
		return t
	}
	for n := 1; ; n++ {
		d.space()
		v := d.value(depth + 1)
		d.vm.hold(int(d.vm.storeCost(t, lua.LNumber(n))))
		t.RawSetInt(n, v)
		d.space()
		if d.i >= len(d.s) {
			d.fail("unterminated array")
		}
		switch d.s[d.i] {
		case ',':
			d.i++
		case ']':
			d.i++
			return t
		default:
			d.fail("expected , or ]")
		}
	}
}

func (d *jsonDecoder) object(depth int) lua.LValue {
	if depth >= jsonMaxDepth {
		d.fail("nesting deeper than 64")
	}
	d.vm.hold(int(newTableCost(0, 1)))
	t := d.L.CreateTable(0, 1)
	d.i++
	d.space()
	if d.i < len(d.s) && d.s[d.i] == '}' {
		d.i++
		return t
	}
	for {
		d.space()
		if d.i >= len(d.s) || d.s[d.i] != '"' {
			d.fail("expected a string key")
		}
		k := d.string()
		d.space()
		if d.i >= len(d.s) || d.s[d.i] != ':' {
			d.fail("expected :")
		}
		d.i++
		d.space()
		v := d.value(depth + 1)
		d.vm.hold(len(k) + sizeString + int(d.vm.storeCost(t, lua.LString(k))))
		t.RawSetString(k, v)
		d.space()
		if d.i >= len(d.s) {
			d.fail("unterminated object")
		}
		switch d.s[d.i] {
		case ',':
			d.i++
		case '}':
			d.i++
			return t
		default:
			d.fail("expected , or }")
		}
	}
}
