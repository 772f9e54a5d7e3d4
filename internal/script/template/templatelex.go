package template

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// tmplPart is one piece of an argv word: literal text, or the placeholder
// names[ph] when ph >= 0. A word that holds a list placeholder holds only
// that part.
type tmplPart struct {
	lit string
	ph  int
}

// tmplSlot is where a list placeholder stands in a shell script: at byte
// at of the script text, Render writes one quoted reference per element
// of the list names[list].
type tmplSlot struct {
	at   int
	list int
}

// tmplFrameKind is a level of shell quoting or nesting.
type tmplFrameKind uint8

const (
	frameCode     tmplFrameKind = iota // the top level, or inside $( )
	frameSingle                        // '...'
	frameANSI                          // $'...'
	frameDouble                        // "..." or $"..."
	frameBacktick                      // `...`
	frameParam                         // ${...}
	frameArith                         // $((...)), ((...)) or $[...]
)

// tmplFrameNames name the frame kinds in error messages.
var tmplFrameNames = [...]string{
	frameCode:     "$(...)",
	frameSingle:   "single quote",
	frameANSI:     "$'...' quote",
	frameDouble:   "double quote",
	frameBacktick: "backquotes",
	frameParam:    "${...}",
	frameArith:    "$((...))",
}

// tmplFrame is one level of the lexer's stack.
type tmplFrame struct {
	kind  tmplFrameKind
	open  int  // offset of the opening token
	depth int  // open parentheses (frameArith; frameCode inside $( ))
	close byte // frameArith: ')' or, for $[...], ']'
	sub   bool // frameCode inside $( ) rather than the top level

	// Command state (frameCode only).
	cmd       bool   // the next word is in command position
	redir     bool   // the next word is a redirection target
	comment   bool   // inside a # comment
	runs      string // the command word of the current simple command, if it runs or interprets its arguments
	declares  string // the command word of the current simple command, if it assigns variables its arguments name
	setArgs   uint8  // 1: in the arguments of "set", 2: the next one is the option name after -o
	dbracket  bool   // inside [[ ]]
	forState  uint8  // 1: after "for", 2: after "for NAME", 3: after "function", 4: after "function NAME"
	caseState uint8  // 1: after "case", 2: after "case WORD", 3: after "case WORD in"
	cases     int    // open case ... esac

	// Current word (frameCode only).
	inWord    bool
	plain     bool   // the word so far is unquoted, unescaped literal text
	prefix    []byte // the leading unquoted literal text of the word
	value     []byte // the word's text after quote removal, placeholders left out
	opaque    bool   // the word holds a $'...' quote, whose value is not tracked
	wordPH    int    // offset of the word's first placeholder, or -1
	wordCmd   bool   // the word started in command position
	wordRedir bool   // the word is a redirection target
	wordAt    int    // offset of the word's start
}

// tmplLexer reads a template once, as /bin/sh would, and produces both
// forms at once: argv words (used when no shell syntax is found) and the
// script text with placeholders turned into positional parameters.
type tmplLexer struct {
	src     string
	allowed []string // placeholder names, scalar and list
	lists   []string // the allowed names that are list placeholders
	i       int
	stack   []tmplFrame
	script  strings.Builder
	names   []string // the names used, in order of first use
	isList  []bool   // isList[i]: names[i] is a list placeholder
	nums    []int    // nums[i]: the positional parameter of a scalar names[i]
	scalars int      // scalar names used so far
	slots   []tmplSlot
	words   [][]tmplPart
	arg     []tmplPart // the top-level word being built
	lit     []byte     // pending literal text of arg
	escaped int        // offset of a % that follows an active backslash
	stray   int        // offset of the first % that starts no placeholder, or -1
	posAt   int        // offset of the first "set" or "shift" that changes the positional parameters, or -1
	shell   bool
	hasCmd  bool
}

func (l *tmplLexer) errorf(off int, format string, args ...any) error {
	return &Error{Template: l.src, Offset: off, Msg: fmt.Sprintf(format, args...)}
}

func (l *tmplLexer) top() *tmplFrame { return &l.stack[len(l.stack)-1] }

// peek returns the byte n after the current one, or 0 past the end (the
// template holds no NUL).
func (l *tmplLexer) peek(n int) byte {
	if l.i+n < len(l.src) {
		return l.src[l.i+n]
	}
	return 0
}

func (l *tmplLexer) push(k tmplFrameKind, depth int) {
	l.stack = append(l.stack, tmplFrame{kind: k, open: l.i, depth: depth, close: ')', wordPH: -1})
}

func (l *tmplLexer) pushCode() {
	l.stack = append(l.stack, tmplFrame{kind: frameCode, open: l.i, sub: true, cmd: true, wordPH: -1})
}

func (l *tmplLexer) pop() { l.stack = l.stack[:len(l.stack)-1] }

// emit copies n template bytes to the script.
func (l *tmplLexer) emit(n int) {
	l.script.WriteString(l.src[l.i : l.i+n])
	l.i += n
}

// argLit adds literal text, after quote removal, to the current word.
func (l *tmplLexer) argLit(s string) {
	l.lit = append(l.lit, s...)
	n := len(l.stack) - 1
	if k := l.stack[n].kind; (k == frameSingle || k == frameDouble) && n > 0 {
		n--
	}
	if f := &l.stack[n]; f.kind == frameCode {
		f.value = append(f.value, s...)
	}
}

func (l *tmplLexer) flushLit() {
	if len(l.lit) > 0 {
		l.arg = append(l.arg, tmplPart{lit: string(l.lit), ph: -1})
		l.lit = l.lit[:0]
	}
}

func (l *tmplLexer) run() error {
	l.stack = append(l.stack, tmplFrame{kind: frameCode, cmd: true, wordPH: -1})
	for l.i < len(l.src) {
		var err error
		f, c := l.top(), l.src[l.i]
		switch {
		case c == '%':
			err = l.percent()
		case f.kind == frameCode:
			err = l.code(f, c)
		case f.kind == frameSingle:
			if c == '\'' {
				l.pop()
			} else {
				l.argLit(l.src[l.i : l.i+1])
			}
			l.emit(1)
		case f.kind == frameDouble:
			err = l.double(c)
		default:
			err = l.nested(f, c)
		}
		if err != nil {
			return err
		}
	}
	if f := l.top(); len(l.stack) > 1 {
		return l.errorf(f.open, "unterminated %s", tmplFrameNames[f.kind])
	}
	return l.endWord(l.top())
}

// code handles a byte outside quotes, at the top level or inside $( ).
func (l *tmplLexer) code(f *tmplFrame, c byte) error {
	if f.comment && c != '\n' {
		l.emit(1)
		return nil
	}
	switch c {
	case ' ', '\t':
		err := l.endWord(f)
		l.emit(1)
		return err
	case '\n', ';', '&', '|':
		return l.separator(f)
	case '(':
		return l.openParen(f)
	case ')':
		return l.closeParen(f)
	case '<', '>':
		return l.redirect(f, c)
	case '\\':
		return l.escape(f)
	case '\'', '"', '`', '$':
		return l.quote(f, c)
	case '#':
		if !f.inWord {
			l.shell = true
			f.comment = true
			l.emit(1)
			return nil
		}
	case '*', '?', '[', ']', '~', '{', '}':
		l.shell = true
	}
	l.wordByte(f, c)
	return nil
}

// startCommand puts f in command position: the next word is a command
// word, and what the previous simple command left is dropped.
func (f *tmplFrame) startCommand() {
	f.cmd, f.redir, f.runs, f.declares, f.setArgs, f.caseState = true, false, "", "", 0, 0
}

// separator handles a newline, ;, & or |, which ends the current command
// (and a newline, a comment).
func (l *tmplLexer) separator(f *tmplFrame) error {
	l.shell = true
	err := l.endWord(f)
	f.comment, f.forState = false, 0
	f.startCommand()
	l.emit(1)
	return err
}

// openParen handles a ( outside quotes: the start of a subshell or, when
// doubled, of Bash arithmetic ((...)).
func (l *tmplLexer) openParen(f *tmplFrame) error {
	l.shell = true
	if err := l.endWord(f); err != nil {
		return err
	}
	if l.peek(1) == '(' {
		// Bash arithmetic: ((...)) and for ((...)).
		l.hasCmd = true
		l.push(frameArith, 2)
		l.emit(2)
		return nil
	}
	if f.sub {
		f.depth++
	}
	f.startCommand()
	l.emit(1)
	return nil
}

// closeParen handles a ) outside quotes: the end of a subshell, of a case
// pattern, or of the $( ) that f is.
func (l *tmplLexer) closeParen(f *tmplFrame) error {
	l.shell = true
	if err := l.endWord(f); err != nil {
		return err
	}
	l.emit(1)
	switch {
	case f.sub && f.depth == 0 && f.cases == 0:
		l.pop()
		return nil
	case f.depth > 0:
		f.depth--
	}
	f.startCommand()
	return nil
}

// escape handles a backslash outside quotes: a line continuation, a
// backslash before a %, or a quoted byte.
func (l *tmplLexer) escape(f *tmplFrame) error {
	switch next := l.peek(1); next {
	case 0:
		return l.errorf(l.i, "trailing backslash")
	case '\n':
		l.emit(2)
	case '%':
		l.startWord(f)
		f.plain = false
		l.escaped = l.i + 1
		l.emit(1)
	default:
		l.startWord(f)
		f.plain = false
		l.argLit(l.src[l.i+1 : l.i+2])
		l.emit(2)
	}
	return nil
}

// quote handles a ', ", ` or $ outside quotes, which starts a quote, a
// substitution or an expansion inside the current word.
func (l *tmplLexer) quote(f *tmplFrame, c byte) error {
	l.startWord(f)
	f.plain = false
	switch c {
	case '$':
		return l.dollar(true)
	case '`':
		l.shell = true
		l.push(frameBacktick, 0)
	case '\'':
		l.push(frameSingle, 0)
	default:
		l.push(frameDouble, 0)
	}
	l.emit(1)
	return nil
}

// wordByte adds an unquoted byte that neither ends nor quotes a word to
// the current word.
func (l *tmplLexer) wordByte(f *tmplFrame, c byte) {
	l.startWord(f)
	if f.plain {
		f.prefix = append(f.prefix, c)
	}
	l.argLit(l.src[l.i : l.i+1])
	l.emit(1)
}

// redirect handles a redirection operator. Digits right before it are a
// file descriptor number, not a word.
func (l *tmplLexer) redirect(f *tmplFrame, c byte) error {
	l.shell = true
	if f.inWord && f.plain && len(f.prefix) > 0 && strings.Trim(string(f.prefix), "0123456789") == "" {
		f.inWord = false
	} else if err := l.endWord(f); err != nil {
		return err
	}
	next := l.peek(1)
	if c == '<' && next == '<' {
		return l.errorf(l.i, "here-documents (<<) are not supported")
	}
	n := 1
	if c == '>' && (next == '>' || next == '&' || next == '|') || c == '<' && (next == '&' || next == '>') {
		n = 2
	}
	f.redir = true
	l.emit(n)
	return nil
}

// double handles a byte inside double quotes.
func (l *tmplLexer) double(c byte) error {
	switch c {
	case '"':
		l.pop()
		l.emit(1)
	case '\\':
		switch next := l.peek(1); next {
		case 0:
			return l.errorf(l.i, "trailing backslash")
		case '"', '\\', '$', '`':
			l.argLit(l.src[l.i+1 : l.i+2])
			l.emit(2)
		case '\n':
			l.emit(2)
		case '%':
			l.argLit(`\`)
			l.escaped = l.i + 1
			l.emit(1)
		default:
			l.argLit(l.src[l.i : l.i+2])
			l.emit(2)
		}
	case '$':
		return l.dollar(false)
	case '`':
		l.shell = true
		l.push(frameBacktick, 0)
		l.emit(1)
	default:
		l.argLit(l.src[l.i : l.i+1])
		l.emit(1)
	}
	return nil
}

// nested handles a byte inside $'...', backquotes, ${...} or $((...)),
// where placeholders are not allowed: it only has to find the end.
func (l *tmplLexer) nested(f *tmplFrame, c byte) error {
	switch {
	case c == '\\':
		if l.peek(1) == '%' {
			l.escaped = l.i + 1
			l.emit(1)
		} else {
			l.emit(min(2, len(l.src)-l.i))
		}
		return nil
	case f.kind == frameANSI && c == '\'', f.kind == frameBacktick && c == '`', f.kind == frameParam && c == '}':
		l.pop()
	case f.kind == frameANSI || f.kind == frameBacktick:
	case f.kind == frameArith && (c == '(' && f.close == ')' || c == '[' && f.close == ']'):
		f.depth++
	case f.kind == frameArith && c == f.close:
		if f.depth--; f.depth == 0 {
			l.pop()
		}
	case c == '\'':
		l.push(frameSingle, 0)
	case c == '"':
		l.push(frameDouble, 0)
	case c == '`':
		l.push(frameBacktick, 0)
	case c == '$':
		return l.dollar(false)
	}
	l.emit(1)
	return nil
}

// dollar handles a $ outside single quotes; code is true outside double
// quotes, where $'...' and $"..." are quotes.
func (l *tmplLexer) dollar(code bool) error {
	l.shell = true
	switch next := l.peek(1); {
	case next == '(' && l.peek(2) == '(':
		l.push(frameArith, 2)
		l.emit(3)
	case next == '(':
		l.pushCode()
		l.emit(2)
	case next == '{':
		l.push(frameParam, 0)
		l.emit(2)
	case next == '[':
		l.push(frameArith, 1)
		l.top().close = ']'
		l.emit(2)
	case next == '\'' && code:
		l.top().opaque = true
		l.push(frameANSI, 0)
		l.emit(2)
	case next == '"' && code:
		l.push(frameDouble, 0)
		l.emit(2)
	case next == '%' && l.placeholderAt(l.i+1) != "":
		return l.errorf(l.i, "$ before placeholder %%%s%% (write \\$ for a literal $)", l.placeholderAt(l.i+1))
	default:
		l.emit(1)
	}
	return nil
}

// placeholderAt returns the name of the %name% starting at i, or "".
func (l *tmplLexer) placeholderAt(i int) string {
	j := i + 1
	for j < len(l.src) && tmplNameByte(l.src[j]) {
		j++
	}
	if j > i+1 && j < len(l.src) && l.src[j] == '%' {
		return l.src[i+1 : j]
	}
	return ""
}

// percent handles a %: %%, a placeholder, or a stray %.
func (l *tmplLexer) percent() error {
	start, f := l.i, l.top()
	if l.peek(1) == '%' {
		// In ${...} and $((...)), % is a shell operator: %% stays as is.
		if f.kind == frameParam || f.kind == frameArith {
			l.emit(2)
			return nil
		}
		l.literal("%")
		l.i += 2
		return nil
	}
	if name := l.placeholderAt(start); name != "" {
		return l.placeholder(name, start)
	}
	j := start + 1
	for j < len(l.src) && tmplNameByte(l.src[j]) {
		j++
	}
	operator := f.kind == frameParam || f.kind == frameArith
	if name := l.src[start+1 : j]; !operator && name != "" && slices.Contains(l.allowed, name) {
		return l.errorf(start, "unterminated placeholder %%%s (missing closing %%)", name)
	}
	if l.stray < 0 {
		l.stray = start
	}
	l.literal("%")
	l.i++
	return nil
}

// literal adds template text s (not copied verbatim) to the current word.
func (l *tmplLexer) literal(s string) {
	if f := l.top(); f.kind == frameCode && !f.comment {
		l.startWord(f)
		if f.plain {
			f.prefix = append(f.prefix, s...)
		}
	}
	l.script.WriteString(s)
	l.argLit(s)
}

// placeholder handles %name% at start.
func (l *tmplLexer) placeholder(name string, start int) error {
	if !slices.Contains(l.allowed, name) {
		known := make([]string, len(l.allowed))
		for i, n := range l.allowed {
			known[i] = "%" + n + "%"
		}
		return l.errorf(start, "unknown placeholder %%%s%% (known: %s; write %%%% for a literal %%)", name, strings.Join(known, ", "))
	}
	if l.escaped == start {
		return l.errorf(start-1, "backslash before placeholder %%%s%%", name)
	}
	if err := l.checkFrames(name, start); err != nil {
		return err
	}
	list := slices.Contains(l.lists, name)
	if list {
		if err := l.checkList(name, start); err != nil {
			return err
		}
	}
	idx := l.use(name, list)
	f := l.top()
	switch ref := "${" + strconv.Itoa(l.nums[idx]) + "}"; {
	case list:
		if !f.comment {
			l.startWord(f)
		}
		l.slots = append(l.slots, tmplSlot{at: l.script.Len(), list: idx})
	case f.kind == frameCode:
		if !f.comment {
			l.startWord(f)
		}
		l.script.WriteString(`"` + ref + `"`)
	case f.kind == frameDouble:
		l.script.WriteString(ref)
	case f.kind == frameSingle:
		l.script.WriteString(`'"` + ref + `"'`)
	case f.kind == frameANSI:
		l.script.WriteString(`'"` + ref + `"$'`)
	}
	for i := range l.stack {
		if fr := &l.stack[i]; fr.kind == frameCode && fr.inWord {
			fr.plain = false
			if fr.wordPH < 0 {
				fr.wordPH = start
			}
		}
	}
	l.flushLit()
	l.arg = append(l.arg, tmplPart{ph: idx})
	l.i = start + len(name) + 2
	return nil
}

// checkFrames reports an error if any level of the stack forbids the
// placeholder %name% at start: backquotes, ${...}, $((...)), [[ ]], the
// arguments of a command that runs or interprets them, and those of a
// command that assigns the variables they name, outside NAME=value.
func (l *tmplLexer) checkFrames(name string, start int) error {
	for i := range l.stack {
		switch fr := &l.stack[i]; {
		case fr.kind == frameBacktick:
			return l.errorf(start, "placeholder %%%s%% inside backquotes (opened at offset %d) is not supported; use \"$(...)\"", name, fr.open)
		case fr.kind == frameParam || fr.kind == frameArith:
			return l.errorf(start, "placeholder %%%s%% inside %s (opened at offset %d) is not supported", name, tmplFrameNames[fr.kind], fr.open)
		case fr.kind == frameCode && fr.dbracket:
			return l.errorf(start, "placeholder %%%s%% inside [[ ]] is not supported", name)
		case fr.kind == frameCode && fr.runs != "":
			return l.errorf(start, "placeholder %%%s%% in the arguments of %q, which runs or interprets them", name, fr.runs)
		case fr.kind == frameCode && fr.declares != "" && (!fr.inWord || !tmplAssignment(string(fr.prefix))):
			return l.errorf(start, "placeholder %%%s%% in the arguments of %q, where a value could name a variable: write NAME=%%%s%%", name, fr.declares, name)
		}
	}
	return nil
}

// use returns the index of name in l.names, adding it on its first use.
// A scalar gets the next positional parameter; a list's elements are
// numbered at Render time, after all the scalars.
func (l *tmplLexer) use(name string, list bool) int {
	if idx := slices.Index(l.names, name); idx >= 0 {
		return idx
	}
	num := 0
	if !list {
		l.scalars++
		num = l.scalars
	}
	l.names = append(l.names, name)
	l.isList = append(l.isList, list)
	l.nums = append(l.nums, num)
	return len(l.names) - 1
}

// tmplListEnd lists the bytes that may follow a list placeholder: those
// that end an unquoted word.
const tmplListEnd = " \t\n;&|)<>"

// checkList reports an error unless the list placeholder %name% at start
// stands alone as an unquoted word where any number of words, none
// included, may stand: an argument of a simple command or of "for NAME
// in". Anywhere else one placeholder could make a word other than one per
// element, or a syntax the template's author did not write.
func (l *tmplLexer) checkList(name string, start int) error {
	f := l.top()
	end := start + len(name) + 2
	switch {
	case f.kind != frameCode:
		return l.errorf(start, "list placeholder %%%s%% inside a %s: it becomes one argument per file and must stand alone as a whole unquoted word", name, tmplFrameNames[f.kind])
	case f.comment:
		return nil
	case f.inWord || end < len(l.src) && !strings.ContainsRune(tmplListEnd, rune(l.src[end])):
		return l.errorf(start, "list placeholder %%%s%% next to other text: it becomes one argument per file and must stand alone as a whole unquoted word", name)
	case f.redir:
		return l.errorf(start, "list placeholder %%%s%% as a redirection target, which must be one word", name)
	case f.forState == 1 || f.forState == 3:
		return l.errorf(start, "list placeholder %%%s%% as a name after \"for\" or \"function\"", name)
	case f.caseState == 1:
		return l.errorf(start, "list placeholder %%%s%% as the word of \"case\", which must be one word", name)
	case f.caseState == 3:
		return l.errorf(start, "list placeholder %%%s%% as a \"case\" pattern", name)
	}
	return nil
}

func (l *tmplLexer) startWord(f *tmplFrame) {
	if f.inWord {
		return
	}
	f.inWord, f.plain, f.opaque, f.wordPH, f.wordAt = true, true, false, -1, l.i
	f.prefix, f.value = f.prefix[:0], f.value[:0]
	f.wordCmd, f.wordRedir, f.redir = f.cmd && !f.redir, f.redir, false
	if f == &l.stack[0] {
		l.arg, l.lit = nil, l.lit[:0]
	}
}

// endWord ends the current word of f and updates the command state.
func (l *tmplLexer) endWord(f *tmplFrame) error {
	if !f.inWord {
		return nil
	}
	f.inWord = false
	if f == &l.stack[0] {
		l.flushLit()
		l.words = append(l.words, l.arg)
		l.arg = nil
	}
	w := string(f.prefix)
	switch {
	case f.wordRedir:
	case f.wordCmd && tmplAssignment(w):
		l.shell = true
	case f.wordCmd:
		return l.commandWord(f, w)
	default:
		l.argument(f, w)
	}
	return nil
}

// commandWord updates the command state after the command word w, the
// leading literal text of the word: what the command does with its
// arguments, and the shell keyword it may be.
func (l *tmplLexer) commandWord(f *tmplFrame, w string) error {
	if f.wordPH >= 0 {
		return l.errorf(f.wordPH, "placeholder in command position: the program must be literal")
	}
	l.hasCmd = true
	f.cmd = false
	switch v := string(f.value); {
	case f.opaque:
		f.runs = "$'...'"
	case slices.Contains(tmplCodeWords, v):
		f.runs = v
	case slices.Contains(tmplDeclWords, v):
		f.declares = v
	case v == "set":
		f.setArgs = 1
	case v == "shift":
		l.positional(f.wordAt)
	}
	if f.plain {
		l.keyword(f, w)
	}
	return nil
}

// argument updates the command state after an argument word, whose
// leading literal text is w: the words after "for" and "function", the
// end of [[ ]], the arguments of "set", and the word and "in" of "case".
func (l *tmplLexer) argument(f *tmplFrame, w string) {
	switch f.forState {
	case 1, 3:
		f.forState++
	case 2, 4:
		f.cmd = f.plain && (f.forState == 2 && w == "do" || f.forState == 4 && w == "{")
		f.forState = 0
	}
	if f.dbracket && f.plain && w == "]]" {
		f.dbracket = false
	}
	l.setArg(f)
	switch f.caseState {
	case 1:
		f.caseState = 2
	case 2:
		f.caseState = 0
		if f.plain && w == "in" {
			f.caseState = 3
		}
	case 3:
		f.caseState = 0
	}
}

// setArg follows the arguments of "set": an option name after -o, an
// option, or an argument that replaces the positional parameters.
func (l *tmplLexer) setArg(f *tmplFrame) {
	v := string(f.value)
	switch {
	case f.setArgs == 0:
	case f.setArgs == 2:
		f.setArgs = 1
	case f.wordPH >= 0 || f.opaque || v == "-" || v == "--" || !strings.HasPrefix(v, "-") && !strings.HasPrefix(v, "+"):
		l.positional(f.wordAt)
	case strings.HasSuffix(v, "o"):
		f.setArgs = 2
	}
}

// positional records a command, at offset at, that changes the positional
// parameters, which hold the placeholders' values in a shell template.
func (l *tmplLexer) positional(at int) {
	if l.posAt < 0 {
		l.posAt = at
	}
}

// keyword updates the command state after the literal command word w.
func (l *tmplLexer) keyword(f *tmplFrame, w string) {
	if slices.Contains(tmplShellWords, w) {
		l.shell = true
	}
	switch w {
	case "!", "{", "}", "then", "do", "else", "elif", "if", "while", "until", "fi", "done":
		f.cmd = true
	case "esac":
		f.cases = max(0, f.cases-1)
		f.cmd = true
	case "case":
		f.cases++
		f.caseState = 1
	case "for", "select":
		f.forState = 1
	case "function":
		f.forState = 3
	case "[[":
		f.dbracket = true
	}
}
