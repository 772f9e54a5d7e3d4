package sandbox

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unsafe"

	lua "github.com/yuin/gopher-lua"
)

// The string functions that build a string in proportion to their input
// are replaced by versions that reserve the result's size in the memory
// budget before allocating it. Their semantics are Lua 5.1's (bytes, the C
// locale).

// posrelat turns a Lua string position (negative from the end) into a
// 1-based one; 0 or less means before the start.
func posrelat(pos, n int) int {
	if pos < 0 {
		pos += n + 1
	}
	return max(pos, 0)
}

// strByte is string.byte(s [, i [, j]]).
func (vm *luaVM) strByte(L *lua.LState) int {
	s := L.CheckString(1)
	i := posrelat(L.OptInt(2, 1), len(s))
	j := posrelat(L.OptInt(3, i), len(s))
	i = max(i, 1)
	j = min(j, len(s))
	if i > j {
		return 0
	}
	n := j - i + 1
	if n > maxResults {
		L.RaiseError("string slice too long")
	}
	vm.alloc(n * sizeNumber)
	for k := i; k <= j; k++ {
		L.Push(lua.LNumber(s[k-1]))
	}
	return n
}

// strSub is string.sub(s, i [, j]).
func (vm *luaVM) strSub(L *lua.LState) int {
	s := L.CheckString(1)
	i := max(posrelat(L.CheckInt(2), len(s)), 1)
	j := min(posrelat(L.OptInt(3, -1), len(s)), len(s))
	if i > j {
		L.Push(lua.LString(""))
		return 1
	}
	vm.alloc(j - i + 1 + sizeString)
	L.Push(lua.LString(s[i-1 : j]))
	return 1
}

// strChar is string.char(...).
func (vm *luaVM) strChar(L *lua.LState) int {
	n := L.GetTop()
	vm.alloc(n + sizeString)
	b := make([]byte, n)
	for i := range b {
		c := L.CheckInt(i + 1)
		if c < 0 || c > 255 {
			L.ArgError(i+1, "invalid value")
		}
		b[i] = byte(c)
	}
	L.Push(lua.LString(b))
	return 1
}

// strRep is string.rep(s, n).
func (vm *luaVM) strRep(L *lua.LState) int {
	s := L.CheckString(1)
	n := float64(L.CheckNumber(2))
	if !(n >= 1) || s == "" {
		L.Push(lua.LString(""))
		return 1
	}
	size := float64(len(s)) * math.Floor(n)
	if size > float64(vm.meter.limit) {
		vm.memoryError(L)
	}
	vm.alloc(int(size) + sizeString)
	L.Push(lua.LString(strings.Repeat(s, int(n))))
	return 1
}

// strUpper is string.upper(s): a-z become A-Z.
func (vm *luaVM) strUpper(L *lua.LState) int {
	return vm.mapBytes(L, func(c byte) byte {
		if 'a' <= c && c <= 'z' {
			return c - 'a' + 'A'
		}
		return c
	})
}

// strLower is string.lower(s): A-Z become a-z.
func (vm *luaVM) strLower(L *lua.LState) int {
	return vm.mapBytes(L, func(c byte) byte {
		if 'A' <= c && c <= 'Z' {
			return c - 'A' + 'a'
		}
		return c
	})
}

// stringCheckEvery is how many bytes the string built-ins handle between
// two checks of the deadline.
const stringCheckEvery = 64 << 10

func (vm *luaVM) mapBytes(L *lua.LState, f func(byte) byte) int {
	return vm.rebuild(L, func(i, _ int) int { return i }, f)
}

// strReverse is string.reverse(s), byte by byte.
func (vm *luaVM) strReverse(L *lua.LState) int {
	return vm.rebuild(L, func(i, n int) int { return n - 1 - i }, func(c byte) byte { return c })
}

// rebuild returns a string as long as argument 1 in which byte i, mapped
// by f, stands at at(i, len). The result is charged to the budget before
// it is built, and the deadline is checked as it is filled.
func (vm *luaVM) rebuild(L *lua.LState, at func(i, n int) int, f func(byte) byte) int {
	s := L.CheckString(1)
	vm.alloc(len(s) + sizeString)
	b := make([]byte, len(s))
	for i := 0; i < len(s); i++ {
		if i%stringCheckEvery == stringCheckEvery-1 {
			vm.ctx.interrupt(L)
		}
		b[at(i, len(s))] = f(s[i])
	}
	L.Push(lua.LString(unsafe.String(unsafe.SliceData(b), len(b))))
	return 1
}

// Lua 5.1's format items: at most 5 flags, 2 digits of width and 2 of
// precision, so one number item is at most formatNumberMax bytes.
const (
	formatFlags     = "-+ #0"
	formatNumberMax = 99 + 400 // width, or a %f of 1e308 with 99 digits of precision
)

// formatItem is one parsed %... item of a format string.
type formatItem struct {
	flags     string
	width     int // -1 when absent
	precision int // -1 when absent
	verb      byte
}

// strFormat is string.format(fmt, ...). The size of the result is
// bounded before anything is formatted: literal text, at most
// formatNumberMax bytes per number item, the string (or its precision,
// or its width) per %s, 4 bytes per byte plus 2 per %q.
func (vm *luaVM) strFormat(L *lua.LState) int {
	format := L.CheckString(1)
	// Pass 1: parse and bound.
	items := make([]formatItem, 0, 8)
	bound, hint := 0, 0 // the most and the likely length of the result
	arg := 1
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			bound++
			hint++
			continue
		}
		i++
		if i < len(format) && format[i] == '%' {
			bound++
			hint++
			continue
		}
		arg++
		if arg > L.GetTop() {
			L.ArgError(arg, "no value")
		}
		it, next := parseFormatItem(L, format, i)
		i = next
		items = append(items, it)
		switch it.verb {
		case 's':
			s := vm.formatString(L, arg)
			n := len(s)
			if it.precision >= 0 {
				n = min(n, it.precision)
			}
			bound += max(n, it.width)
			hint += max(n, it.width)
		case 'q':
			q := quotedLen(L.CheckString(arg))
			bound += q
			hint += q
		default:
			L.CheckNumber(arg)
			bound += formatNumberMax
			hint += 24
		}
	}
	vm.alloc(bound + sizeString)

	// Pass 2: format.
	var b strings.Builder
	b.Grow(hint)
	arg = 1
	k := 0
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		i++
		if format[i] == '%' {
			b.WriteByte('%')
			continue
		}
		_, next := parseFormatItem(L, format, i)
		i = next
		it := items[k]
		k++
		arg++
		switch it.verb {
		case 's':
			writeFormatString(&b, it, vm.formatString(L, arg))
		case 'q':
			writeQuoted(&b, L.CheckString(arg), func() { vm.ctx.interrupt(L) })
		default:
			writeFormatNumber(&b, it, float64(L.CheckNumber(arg)))
		}
	}
	L.Push(lua.LString(b.String()))
	return 1
}

// formatString is the string a %s item prints for argument arg:
// tostring() of it, __tostring included.
func (vm *luaVM) formatString(L *lua.LState, arg int) string {
	switch v := L.Get(arg).(type) {
	case lua.LString:
		return string(v)
	case lua.LNumber:
		return v.String()
	default:
		s := L.ToStringMeta(v).String()
		L.Replace(arg, lua.LString(s)) // pass 2 must see the same string
		return s
	}
}

// parseFormatItem parses the item that starts at format[i] (just after
// the %) and returns it with the index of its verb.
func parseFormatItem(L *lua.LState, format string, i int) (formatItem, int) {
	it := formatItem{width: -1, precision: -1}
	start := i
	for i < len(format) && strings.IndexByte(formatFlags, format[i]) >= 0 {
		i++
	}
	if i-start >= len(formatFlags) {
		L.RaiseError("invalid format (repeated flags)")
	}
	it.flags = format[start:i]
	digits := func() int {
		n, d := 0, 0
		for d < 2 && i < len(format) && isDigit(format[i]) {
			n = n*10 + int(format[i]-'0')
			i++
			d++
		}
		if d == 0 {
			return -1
		}
		return n
	}
	it.width = digits()
	if i < len(format) && format[i] == '.' {
		i++
		it.precision = max(digits(), 0)
	}
	if i < len(format) && isDigit(format[i]) {
		L.RaiseError("invalid format (width or precision too long)")
	}
	if i >= len(format) {
		L.RaiseError("invalid option '%%' to 'format'")
	}
	it.verb = format[i]
	switch it.verb {
	case 'c', 'd', 'i', 'o', 'u', 'x', 'X', 'e', 'E', 'f', 'g', 'G', 'q', 's':
	default:
		L.RaiseError("invalid option '%%%c' to 'format'", it.verb)
	}
	return it, i
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// sprintf formats one value with a printf spec built at run time.
func sprintf(spec []byte, v any) string { return fmt.Sprintf(string(spec), v) }

// writeFormatString writes s as %s does in C: cut to the precision, padded
// to the width, on the left unless the - flag is set.
func writeFormatString(b *strings.Builder, it formatItem, s string) {
	if it.precision >= 0 && len(s) > it.precision {
		s = s[:it.precision]
	}
	pad := it.width - len(s)
	left := strings.IndexByte(it.flags, '-') >= 0
	if !left {
		writeRepeat(b, ' ', pad)
	}
	b.WriteString(s)
	if left {
		writeRepeat(b, ' ', pad)
	}
}

func writeRepeat(b *strings.Builder, c byte, n int) {
	for ; n > 0; n-- {
		b.WriteByte(c)
	}
}

// quotedLen is the length of s written by %q.
func quotedLen(s string) int {
	n := len(s) + 2
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"', '\\', '\n', '\r':
			n++
		case 0:
			n += 3
		}
	}
	return n
}

// writeQuoted writes s as %q does in Lua 5.1, calling check every
// stringCheckEvery bytes.
func writeQuoted(b *strings.Builder, s string, check func()) {
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if i%stringCheckEvery == stringCheckEvery-1 {
			check()
		}
		switch c := s[i]; c {
		case '"', '\\', '\n':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\r':
			b.WriteString(`\r`)
		case 0:
			b.WriteString(`\000`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
}

// writeFormatNumber writes x as the C printf item it does, with Lua 5.1's
// conversions: %d and %i truncate to an integer, %o %u %x %X to an
// unsigned one, %c to a byte.
func writeFormatNumber(b *strings.Builder, it formatItem, x float64) {
	if math.IsInf(x, 0) || math.IsNaN(x) {
		s := "nan"
		switch {
		case math.IsInf(x, 1) && strings.IndexByte(it.flags, '+') >= 0:
			s = "+inf"
		case math.IsInf(x, 1):
			s = "inf"
		case math.IsInf(x, -1):
			s = "-inf"
		}
		if it.verb == 'E' || it.verb == 'G' || it.verb == 'X' {
			s = strings.ToUpper(s)
		}
		writeFormatString(b, formatItem{flags: it.flags, width: it.width, precision: -1}, s)
		return
	}
	spec := make([]byte, 0, 16)
	spec = append(spec, '%')
	spec = append(spec, it.flags...)
	if it.width >= 0 {
		spec = strconv.AppendInt(spec, int64(it.width), 10)
	}
	if it.precision >= 0 {
		spec = append(spec, '.')
		spec = strconv.AppendInt(spec, int64(it.precision), 10)
	}
	switch it.verb {
	case 'c':
		writeFormatString(b, formatItem{flags: it.flags, width: it.width, precision: -1}, string([]byte{byte(int64(x))}))
	case 'd', 'i':
		b.WriteString(sprintf(append(spec, 'd'), int64(x)))
	case 'u':
		b.WriteString(sprintf(append(spec, 'd'), uint64(int64(x))))
	case 'o', 'x', 'X':
		b.WriteString(sprintf(append(spec, it.verb), uint64(int64(x))))
	case 'g', 'G':
		if it.precision < 0 {
			// C's default precision; Go's %g would print the shortest form.
			spec = append(spec, ".6"...)
		}
		b.WriteString(sprintf(append(spec, it.verb), x))
	default: // e E f
		b.WriteString(sprintf(append(spec, it.verb), x))
	}
}
