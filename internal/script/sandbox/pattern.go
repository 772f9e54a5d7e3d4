package sandbox

import (
	lua "github.com/yuin/gopher-lua"
)

// Lua 5.1 patterns, after lstrlib.c, with two bounds the C code does not
// have: the matcher counts its steps and checks the invocation's deadline
// every patternCheckEvery steps, so that a pattern that backtracks
// exponentially ends at the deadline; and it recurses at most
// patternMaxDepth levels ("pattern too complex", as Lua 5.2 does).
const (
	patternMaxCaptures = 32
	patternMaxDepth    = 200
	patternCheckEvery  = 1024
	patternSpecials    = "^$*+?.([%-"

	capUnfinished = -1
	capPosition   = -2
)

// patMatcher is the state of matching one pattern against one subject.
type patMatcher struct {
	vm      *luaVM
	L       *lua.LState
	src     string
	pat     string
	level   int
	capture [patternMaxCaptures]struct{ init, len int }
	depth   int
	steps   int
}

func (m *patMatcher) raise(msg string) { m.L.RaiseError("%s", msg) }

// tick counts a step and checks the limits every patternCheckEvery.
func (m *patMatcher) tick() {
	m.steps++
	if m.steps%patternCheckEvery == 0 {
		m.vm.ctx.interrupt(m.L)
	}
}

// match matches the pattern from p against the subject from s and returns
// the end of the match, or -1.
func (m *patMatcher) match(s, p int) int {
	if m.depth >= patternMaxDepth {
		m.raise("pattern too complex")
	}
	m.depth++
	r := m.doMatch(s, p)
	m.depth--
	return r
}

func (m *patMatcher) doMatch(s, p int) int {
	src, pat := m.src, m.pat
	for {
		m.tick()
		if p == len(pat) {
			return s
		}
		switch pat[p] {
		case '(':
			if p+1 < len(pat) && pat[p+1] == ')' {
				return m.startCapture(s, p+2, capPosition)
			}
			return m.startCapture(s, p+1, capUnfinished)
		case ')':
			return m.endCapture(s, p+1)
		case '%':
			if end, next, ok := m.matchItem(s, p); ok {
				if end == -1 {
					return -1
				}
				s, p = end, next
				continue
			}
		case '$':
			if p+1 == len(pat) {
				if s == len(src) {
					return s
				}
				return -1
			}
		}
		// A single-character class, maybe with a repetition.
		ep := m.classEnd(p)
		matched := s < len(src) && m.singleMatch(src[s], p, ep)
		if ep < len(pat) {
			switch pat[ep] {
			case '?':
				if matched {
					if r := m.match(s+1, ep+1); r != -1 {
						return r
					}
				}
				p = ep + 1
				continue
			case '*':
				return m.maxExpand(s, p, ep)
			case '+':
				if !matched {
					return -1
				}
				return m.maxExpand(s+1, p, ep)
			case '-':
				return m.minExpand(s, p, ep)
			}
		}
		if !matched {
			return -1
		}
		s++
		p = ep
	}
}

// matchItem matches the %b, %f or %1-%9 item at p against the subject
// from s: it returns the end of what the item matched (-1 for no match)
// and the pattern index after the item; ok is false when the item at p is
// a single-character class instead.
func (m *patMatcher) matchItem(s, p int) (end, next int, ok bool) {
	if p+1 >= len(m.pat) {
		return s, p, false
	}
	switch c := m.pat[p+1]; {
	case c == 'b':
		return m.matchBalance(s, p+2), p + 4, true
	case c == 'f':
		end, next = m.matchFrontier(s, p+2)
		return end, next, true
	case isDigit(c):
		return m.matchCapture(s, c), p + 2, true
	}
	return s, p, false
}

// matchFrontier matches the frontier %f[set] whose set starts at p: it
// returns s, or -1 when s is not where the set starts to match, and the
// index after the set.
func (m *patMatcher) matchFrontier(s, p int) (end, next int) {
	if p >= len(m.pat) || m.pat[p] != '[' {
		m.raise("missing '[' after '%f' in pattern")
	}
	ep := m.classEnd(p)
	var prev, cur byte
	if s > 0 {
		prev = m.src[s-1]
	}
	if s < len(m.src) {
		cur = m.src[s]
	}
	if m.bracketClass(prev, p, ep-1) || !m.bracketClass(cur, p, ep-1) {
		return -1, ep
	}
	return s, ep
}

func (m *patMatcher) maxExpand(s, p, ep int) int {
	i := 0
	for s+i < len(m.src) && m.singleMatch(m.src[s+i], p, ep) {
		i++
		m.tick()
	}
	for ; i >= 0; i-- {
		if r := m.match(s+i, ep+1); r != -1 {
			return r
		}
	}
	return -1
}

func (m *patMatcher) minExpand(s, p, ep int) int {
	for {
		if r := m.match(s, ep+1); r != -1 {
			return r
		}
		if s < len(m.src) && m.singleMatch(m.src[s], p, ep) {
			s++
		} else {
			return -1
		}
	}
}

func (m *patMatcher) startCapture(s, p, what int) int {
	if m.level >= patternMaxCaptures {
		m.raise("too many captures")
	}
	m.capture[m.level].init = s
	m.capture[m.level].len = what
	m.level++
	r := m.match(s, p)
	if r == -1 {
		m.level--
	}
	return r
}

func (m *patMatcher) endCapture(s, p int) int {
	l := m.captureToClose()
	m.capture[l].len = s - m.capture[l].init
	r := m.match(s, p)
	if r == -1 {
		m.capture[l].len = capUnfinished
	}
	return r
}

func (m *patMatcher) captureToClose() int {
	for l := m.level - 1; l >= 0; l-- {
		if m.capture[l].len == capUnfinished {
			return l
		}
	}
	m.raise("invalid pattern capture")
	return 0
}

func (m *patMatcher) matchBalance(s, p int) int {
	if p+1 >= len(m.pat) {
		m.raise("unbalanced pattern")
	}
	if s >= len(m.src) || m.src[s] != m.pat[p] {
		return -1
	}
	b, e := m.pat[p], m.pat[p+1]
	cont := 1
	for s++; s < len(m.src); s++ {
		m.tick()
		switch m.src[s] {
		case e:
			if cont--; cont == 0 {
				return s + 1
			}
		case b:
			cont++
		}
	}
	return -1
}

func (m *patMatcher) matchCapture(s int, c byte) int {
	l := m.checkCapture(c)
	n := m.capture[l].len
	if n >= 0 && len(m.src)-s >= n && m.src[s:s+n] == m.src[m.capture[l].init:m.capture[l].init+n] {
		return s + n
	}
	return -1
}

func (m *patMatcher) checkCapture(c byte) int {
	l := int(c) - '1'
	if l < 0 || l >= m.level || m.capture[l].len == capUnfinished {
		m.raise("invalid capture index")
	}
	return l
}

// classEnd returns the index just after the single-character class at p.
func (m *patMatcher) classEnd(p int) int {
	pat := m.pat
	c := pat[p]
	p++
	switch c {
	case '%':
		if p >= len(pat) {
			m.raise("malformed pattern (ends with '%')")
		}
		return p + 1
	case '[':
		if p < len(pat) && pat[p] == '^' {
			p++
		}
		for { // look for a ']'
			if p >= len(pat) {
				m.raise("malformed pattern (missing ']')")
			}
			c := pat[p]
			p++
			if c == '%' && p < len(pat) {
				p++ // skip escapes such as %]
			}
			if p < len(pat) && pat[p] == ']' {
				return p + 1
			}
		}
	}
	return p
}

func (m *patMatcher) singleMatch(c byte, p, ep int) bool {
	switch m.pat[p] {
	case '.':
		return true
	case '%':
		return matchClass(c, m.pat[p+1])
	case '[':
		return m.bracketClass(c, p, ep-1)
	}
	return m.pat[p] == c
}

// bracketClass matches c against the set [...] from p to its ']' at ec.
func (m *patMatcher) bracketClass(c byte, p, ec int) bool {
	pat := m.pat
	sig := true
	if pat[p+1] == '^' {
		sig = false
		p++
	}
	for p++; p < ec; p++ {
		switch {
		case pat[p] == '%':
			p++
			if matchClass(c, pat[p]) {
				return sig
			}
		case pat[p+1] == '-' && p+2 < ec:
			p += 2
			if pat[p-2] <= c && c <= pat[p] {
				return sig
			}
		case pat[p] == c:
			return sig
		}
	}
	return !sig
}

// matchClass matches c against the class letter cl (%a, %d, ...), in the
// C locale.
func matchClass(c, cl byte) bool {
	var res bool
	switch cl | 0x20 {
	case 'a':
		res = isAlpha(c)
	case 'c':
		res = c < 32 || c == 127
	case 'd':
		res = isDigit(c)
	case 'l':
		res = 'a' <= c && c <= 'z'
	case 'p':
		res = isPunct(c)
	case 's':
		res = c == ' ' || ('\t' <= c && c <= '\r')
	case 'u':
		res = 'A' <= c && c <= 'Z'
	case 'w':
		res = isAlpha(c) || isDigit(c)
	case 'x':
		res = isDigit(c) || ('a' <= c|0x20 && c|0x20 <= 'f')
	case 'z':
		res = c == 0
	default:
		return cl == c
	}
	if 'A' <= cl && cl <= 'Z' {
		return !res
	}
	return res
}

func isAlpha(c byte) bool { return 'a' <= c|0x20 && c|0x20 <= 'z' }

func isPunct(c byte) bool {
	return (33 <= c && c <= 47) || (58 <= c && c <= 64) || (91 <= c && c <= 96) || (123 <= c && c <= 126)
}

// capture returns capture i of the match src[s:e]: the whole match when
// the pattern has no captures and i is 0.
func (m *patMatcher) captureValue(i, s, e int) lua.LValue {
	if i >= m.level {
		if i == 0 {
			m.vm.alloc(e - s + sizeString)
			return lua.LString(m.src[s:e])
		}
		m.raise("invalid capture index")
	}
	c := m.capture[i]
	switch c.len {
	case capUnfinished:
		m.raise("unfinished capture")
	case capPosition:
		return lua.LNumber(c.init + 1)
	}
	m.vm.alloc(c.len + sizeString)
	return lua.LString(m.src[c.init : c.init+c.len])
}

// pushCaptures pushes the captures of the match src[s:e] (the whole match
// if there are none and whole is set) and returns how many.
func (m *patMatcher) pushCaptures(s, e int, whole bool) int {
	n := m.level
	if n == 0 && whole {
		n = 1
	}
	for i := 0; i < n; i++ {
		m.L.Push(m.captureValue(i, s, e))
	}
	return n
}
