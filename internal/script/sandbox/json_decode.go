package sandbox

import (
	"math"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	lua "github.com/yuin/gopher-lua"
)

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
	d.vm.hold(int(newTableCost(0, 0)))
	t := d.L.CreateTable(0, 0)
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
		if !d.more(']', "array") {
			return t
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
		if !d.more('}', "object") {
			return t
		}
	}
}

// more consumes what follows an element of an array or object: true after
// a comma, false after the closing byte; anything else fails.
func (d *jsonDecoder) more(closing byte, container string) bool {
	d.space()
	if d.i >= len(d.s) {
		d.fail("unterminated " + container)
	}
	switch d.s[d.i] {
	case ',':
		d.i++
		return true
	case closing:
		d.i++
		return false
	}
	d.fail("expected , or " + string(closing))
	return false
}
