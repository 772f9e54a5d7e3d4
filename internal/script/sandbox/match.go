package sandbox

import (
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// The pattern functions of the string library, on the bounded matcher of
// pattern.go.

// strFind is string.find(s, pattern [, init [, plain]]).
func (vm *luaVM) strFind(L *lua.LState) int { return vm.findAux(L, true) }

// strMatch is string.match(s, pattern [, init]).
func (vm *luaVM) strMatch(L *lua.LState) int { return vm.findAux(L, false) }

func (vm *luaVM) findAux(L *lua.LState, find bool) int {
	s := L.CheckString(1)
	pat := L.CheckString(2)
	init := posrelat(L.OptInt(3, 1), len(s)) - 1
	init = min(max(init, 0), len(s))
	if find && (lua.LVAsBool(L.Get(4)) || !strings.ContainsAny(pat, patternSpecials)) {
		if i := strings.Index(s[init:], pat); i >= 0 {
			L.Push(lua.LNumber(init + i + 1))
			L.Push(lua.LNumber(init + i + len(pat)))
			return 2
		}
		L.Push(lua.LNil)
		return 1
	}
	anchor := len(pat) > 0 && pat[0] == '^'
	if anchor {
		pat = pat[1:]
	}
	m := &patMatcher{vm: vm, L: L, src: s, pat: pat}
	for s1 := init; ; s1++ {
		m.level = 0
		if e := m.match(s1, 0); e != -1 {
			if find {
				L.Push(lua.LNumber(s1 + 1))
				L.Push(lua.LNumber(e))
				return m.pushCaptures(-1, -1, false) + 2
			}
			return m.pushCaptures(s1, e, true)
		}
		if s1 >= len(s) || anchor {
			break
		}
	}
	L.Push(lua.LNil)
	return 1
}

// strGmatch is string.gmatch(s, pattern): an iterator over the matches.
// As in Lua 5.1, a leading ^ is not an anchor.
func (vm *luaVM) strGmatch(L *lua.LState) int {
	s := L.CheckString(1)
	pat := L.CheckString(2)
	pos := 0
	L.Push(L.NewFunction(func(L *lua.LState) int {
		m := &patMatcher{vm: vm, L: L, src: s, pat: pat}
		for src := pos; src <= len(s); src++ {
			m.level = 0
			if e := m.match(src, 0); e != -1 {
				pos = e
				if e == src {
					pos++ // empty match: move on at least one byte
				}
				return m.pushCaptures(src, e, true)
			}
		}
		pos = len(s) + 1
		return 0
	}))
	return 1
}

// strGsub is string.gsub(s, pattern, repl [, n]). The result is reserved
// in the memory budget piece by piece as it grows.
func (vm *luaVM) strGsub(L *lua.LState) int {
	src := L.CheckString(1)
	pat := L.CheckString(2)
	repl := L.CheckAny(3)
	switch repl.(type) {
	case lua.LString, lua.LNumber, *lua.LTable, *lua.LFunction:
	default:
		L.ArgError(3, "string/function/table expected")
	}
	maxN := L.OptInt(4, len(src)+1)
	anchor := len(pat) > 0 && pat[0] == '^'
	if anchor {
		pat = pat[1:]
	}
	m := &patMatcher{vm: vm, L: L, src: src, pat: pat}
	defer vm.release(vm.meter.held)
	out := heldBuffer{vm: vm}
	add := out.write
	var tmpl []replPart
	if rs, ok := repl.(lua.LString); ok {
		tmpl = parseRepl(string(rs))
	} else if rn, ok := repl.(lua.LNumber); ok {
		tmpl = parseRepl(rn.String())
	}
	n := 0
	run, s := 0, 0 // src[run:s] is copied as is
	for n < maxN {
		m.level = 0
		e := m.match(s, 0)
		if e != -1 {
			n++
			add(src[run:s])
			vm.addReplacement(m, repl, tmpl, s, e, add)
			run = s
			if e > s {
				s, run = e, e
			} else if s < len(src) {
				s++
			} else {
				break
			}
		} else if s < len(src) {
			s++
		} else {
			break
		}
		if anchor {
			break
		}
	}
	add(src[run:])
	L.Push(out.lstring())
	L.Push(lua.LNumber(n))
	return 2
}

// replPart is a piece of a gsub replacement string: literal text, or
// capture ref (0 for the whole match).
type replPart struct {
	lit string
	ref int // -1 for literal text
}

// parseRepl splits a replacement string: %0-%9 are captures, % before any
// other character quotes it.
func parseRepl(r string) []replPart {
	var parts []replPart
	var lit []byte
	for i := 0; i < len(r); i++ {
		c := r[i]
		if c != '%' {
			lit = append(lit, c)
			continue
		}
		i++
		if i == len(r) {
			lit = append(lit, 0) // as lstrlib.c does, reading the terminator
			break
		}
		if !isDigit(r[i]) {
			lit = append(lit, r[i])
			continue
		}
		if len(lit) > 0 {
			parts = append(parts, replPart{lit: string(lit), ref: -1})
			lit = lit[:0]
		}
		parts = append(parts, replPart{ref: int(r[i] - '0')})
	}
	if len(lit) > 0 {
		parts = append(parts, replPart{lit: string(lit), ref: -1})
	}
	return parts
}

// addReplacement adds the replacement of the match src[s:e].
func (vm *luaVM) addReplacement(m *patMatcher, repl lua.LValue, tmpl []replPart, s, e int, add func(string)) {
	L := m.L
	var v lua.LValue
	switch r := repl.(type) {
	case lua.LString, lua.LNumber:
		for _, part := range tmpl {
			switch {
			case part.ref < 0:
				add(part.lit)
			case part.ref == 0:
				add(m.src[s:e])
			default:
				add(m.captureValue(part.ref-1, s, e).String())
			}
		}
		return
	case *lua.LFunction:
		L.Push(r)
		nargs := m.pushCaptures(s, e, true)
		L.Call(nargs, 1)
		v = L.Get(-1)
		L.Pop(1)
	case *lua.LTable:
		v = L.GetTable(r, m.captureValue(0, s, e))
	}
	switch x := v.(type) {
	case *lua.LNilType:
		add(m.src[s:e])
	case lua.LBool:
		if !x {
			add(m.src[s:e])
		} else {
			L.RaiseError("invalid replacement value (a boolean)")
		}
	case lua.LString:
		add(string(x))
	case lua.LNumber:
		add(x.String())
	default:
		L.RaiseError("invalid replacement value (a %s)", v.Type().String())
	}
}
