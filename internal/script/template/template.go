package template

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Error reports an invalid command template. It is returned by
// Parse, at start-up, so that a bad template is a configuration
// error rather than a failed hook.
type Error struct {
	Template string // the template text
	Offset   int    // byte offset of the problem in Template, or -1
	Msg      string // what is wrong
}

// Error returns the message with the template and the offset.
func (e *Error) Error() string {
	if e.Offset < 0 {
		return fmt.Sprintf("command template %q: %s", e.Template, e.Msg)
	}
	return fmt.Sprintf("command template %q: at offset %d: %s", e.Template, e.Offset, e.Msg)
}

// Template is a parsed command template such as `gzip -9 %pcap%` or
// `echo %callid% %caller% >> /tmp/calls.txt`. It is immutable and safe for
// concurrent use; the zero value is not usable, get one from Parse.
//
// Placeholder values come from the network (Call-ID, From, To are chosen by
// whoever sends the SIP) and are data, never code:
//
//   - A template without shell syntax is an argv template. It is split into
//     words once, as /bin/sh would split it (blanks separate words; single
//     quotes, double quotes and backslashes quote), and Render puts each
//     value, raw, inside the word its placeholder is in: `--file=%pcap%`
//     is one argument, `%a%%b%` is one argument, and a word that is only a
//     placeholder stays an argument even when the value is empty. A value
//     can never create, split, merge or drop an argument, and it is never
//     parsed again, so a value "%called%" stays that text.
//   - A list placeholder (`%files%`) stands for zero or more values. It
//     must be a whole unquoted word, and that word becomes one argument
//     per element, none for an empty list: `gzip -9 %files%`. Quoted or
//     next to other text (`'%files%'`, `--in=%files%`) it is an error, as
//     it is as a redirection target, a for or function name, or the word
//     or a pattern of a case.
//   - A template with shell syntax (| & ; < > ( ) $ ` * ? [ ] ~ { }, a
//     newline, a # comment, a variable assignment, or a shell keyword or
//     builtin such as if, for, cd or export as a command) is a shell
//     template. It runs as /bin/sh -c SCRIPT lc-hook VALUE..., and SCRIPT
//     is the template text with each placeholder replaced by a quoted
//     reference to a positional parameter: "${1}" outside quotes, ${1}
//     inside double quotes, '"${1}"' inside single quotes. Each scalar name
//     is one parameter, numbered in the order of Names. The elements of
//     each list follow, and a list placeholder becomes one quoted
//     reference per element, blank-separated ("${4}" "${5}"), or nothing
//     for an empty list: the shell sees exactly one word per element, as
//     with "$@". The script never contains a value, and the shell never
//     parses one; only the number of elements of a list changes it.
//   - The program is literal: a placeholder in command position (argv[0],
//     or in a shell template any word the shell would run as a command,
//     such as after ; | && ( { then do, or in a function body) is an
//     error. So is a placeholder where the shell would interpret the value
//     rather than pass it on: inside backquotes, ${...}, $((...)), ((...)),
//     $[...] or [[ ]]; in the arguments of a builtin that runs or evaluates
//     them (eval, exec, command, builtin, time, ., source, trap, let,
//     declare, typeset, unset, coproc, alias); in an argument of export,
//     readonly or local other than after a literal NAME= at its start
//     (`export ID=%callid%`); right after an unquoted $ or backslash.
//     Since the values are positional parameters, a template with
//     placeholders may not change them: shift, and set with an argument
//     other than options (set -- ...), are errors there. Here-documents
//     are not supported.
//   - Render removes NUL bytes from scalar values, since an argument
//     cannot hold one, and uses them to separate the elements of a list
//     value. Nothing else is changed: newlines, quotes, backslashes,
//     leading dashes, "../" and invalid UTF-8 pass through byte for byte.
//
// lc knows the shell's grammar, not what other programs do with their
// arguments: a template that hands a value to an interpreter (sh -c, env,
// xargs, find -exec, an option parser that takes "-rf") is the operator's
// choice. Write `rm -- %pcap%`, not `rm %pcap%`.
type Template struct {
	text   string
	names  []string
	list   []bool // list[i]: names[i] is a list placeholder
	shell  bool
	script string       // shell templates
	slots  []tmplSlot   // shell templates: where the lists go, in script order
	words  [][]tmplPart // argv templates
}

// ListSuffix marks a list placeholder in the allowed names given to
// Parse: "files" + ListSuffix declares %files%.
const ListSuffix = "..."

// Parse parses the command template tmpl once, at start-up.
// allowed lists the placeholder names valid in it, without the % signs;
// names are made of a-z, 0-9 and _. A name followed by ListSuffix
// ("files...") is a list placeholder, %files%; a name given both ways is a
// list.
//
// `%name%` is a placeholder and `%%` a literal `%`. An unknown `%name%` is
// an error. In an argv template every other `%` is an error too ("stray
// %"), which catches typos such as `%callid`. In a shell template a `%`
// that starts neither `%%` nor `%name%` is a literal `%`, so that
// `date +%s` and `printf '%s\n'` work; `%name` without its closing `%` is
// still an error when name is an allowed placeholder, and `%s%` must be
// written `%%s%%`. Inside ${...} and $((...)), where `%` is a shell
// operator, `%%` is kept as is (`${f%%.*}`).
//
// The error, a *Error, names the template and the byte offset of
// the problem: an unknown or unterminated placeholder, a stray `%`, an
// unterminated quote, `$(`, `${`, `$((` or backquote, a trailing
// backslash, an empty template or program, a placeholder in command
// position or anywhere else the Template documentation forbids.
func Parse(tmpl string, allowed []string) (*Template, error) {
	names := make([]string, 0, len(allowed))
	var lists []string
	for _, entry := range allowed {
		name, list := strings.CutSuffix(entry, ListSuffix)
		if name == "" || strings.IndexFunc(name, func(r rune) bool { return r > 0x7f || !tmplNameByte(byte(r)) }) >= 0 {
			return nil, fmt.Errorf("command template %q: invalid placeholder name %q in the allowed list", tmpl, entry)
		}
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
		if list {
			lists = append(lists, name)
		}
	}
	if i := strings.IndexByte(tmpl, 0); i >= 0 {
		return nil, &Error{Template: tmpl, Offset: i, Msg: "NUL byte"}
	}
	if strings.Trim(tmpl, " \t\n") == "" {
		return nil, &Error{Template: tmpl, Offset: -1, Msg: "empty template"}
	}
	l := &tmplLexer{src: tmpl, allowed: names, lists: lists, escaped: -1, stray: -1, posAt: -1}
	if err := l.run(); err != nil {
		return nil, err
	}
	t := &Template{text: tmpl, names: slices.Clip(l.names), list: slices.Clip(l.isList), shell: l.shell}
	if l.shell {
		if !l.hasCmd {
			return nil, l.errorf(-1, "no command to run")
		}
		if l.posAt >= 0 && len(l.names) > 0 {
			return nil, l.errorf(l.posAt, "set with arguments, or shift, would change the positional parameters that hold the placeholders' values (to loop over a list, write: for f in %%files%%; do ...; done)")
		}
		t.script, t.slots = l.script.String(), slices.Clip(l.slots)
		return t, nil
	}
	if l.stray >= 0 {
		return nil, l.errorf(l.stray, "%% starts no placeholder (write %%%% for a literal %%)")
	}
	if len(l.words) == 0 {
		return nil, l.errorf(-1, "empty template")
	}
	if len(l.words[0]) == 0 {
		return nil, l.errorf(0, "empty program")
	}
	t.words = l.words
	return t, nil
}

// String returns the template text as given to Parse.
func (t *Template) String() string { return t.text }

// Shell reports whether the template needs /bin/sh.
func (t *Template) Shell() bool { return t.shell }

// Names returns the placeholder names the template uses, each once, in
// order of first use, scalar and list placeholders alike. For a shell
// template, the scalar names are positional parameters 1, 2, ... in this
// order, and the elements of the lists follow. The caller owns the
// returned slice.
func (t *Template) Names() []string { return slices.Clone(t.names) }

// IsList reports whether the placeholder name is a list placeholder of
// the template.
func (t *Template) IsList(name string) bool {
	i := slices.Index(t.names, name)
	return i >= 0 && t.list[i]
}

// Render fills the template with values. value returns the value of a
// placeholder name; it is called once for each name in Names and never
// for another name. A nil value renders every scalar placeholder empty
// and every list empty. NUL bytes are removed from scalar values; nothing
// else is changed.
//
// For a list placeholder, value returns the elements separated by NUL
// bytes, as JoinList makes them (a NUL cannot be part of an argument, so
// it is free as a separator). Empty elements are dropped: "" is the
// empty list.
func (t *Template) Render(value func(name string) string) Command {
	vals := make([]string, len(t.names))
	lists := make([][]string, len(t.names))
	for i, name := range t.names {
		switch {
		case value == nil:
		case t.list[i]:
			lists[i] = SplitList(value(name))
		default:
			vals[i] = strings.ReplaceAll(value(name), "\x00", "")
		}
	}
	if t.shell {
		return t.renderShell(vals, lists)
	}
	return Command{Argv: t.renderArgv(vals, lists)}
}

// renderShell returns the command of a shell template: the script with a
// run of references for each list, the scalar values, then the elements
// of each list, as positional parameters.
func (t *Template) renderShell(vals []string, lists [][]string) Command {
	params := make([]string, 0, len(vals))
	for i, v := range vals {
		if !t.list[i] {
			params = append(params, v)
		}
	}
	first := make([]int, len(lists)) // positional parameter of a list's first element
	for i, l := range lists {
		first[i] = len(params) + 1
		params = append(params, l...)
	}
	script := t.script
	if len(t.slots) > 0 {
		var b strings.Builder
		prev := 0
		for _, s := range t.slots {
			b.WriteString(t.script[prev:s.at])
			for j := range lists[s.list] {
				if j > 0 {
					b.WriteByte(' ')
				}
				b.WriteString(`"${` + strconv.Itoa(first[s.list]+j) + `}"`)
			}
			prev = s.at
		}
		b.WriteString(t.script[prev:])
		script = b.String()
	}
	argv := make([]string, 0, 4+len(params))
	argv = append(argv, "/bin/sh", "-c", script, "lc-hook")
	return Command{Argv: append(argv, params...), Shell: true, Script: script, Params: params}
}

// renderArgv returns the argv of an argv template.
func (t *Template) renderArgv(vals []string, lists [][]string) []string {
	argv := make([]string, 0, len(t.words))
	for _, w := range t.words {
		switch {
		case len(w) == 1 && w[0].ph < 0:
			argv = append(argv, w[0].lit)
		case len(w) == 1 && t.list[w[0].ph]:
			argv = append(argv, lists[w[0].ph]...)
		default:
			var b strings.Builder
			for _, p := range w {
				if p.ph >= 0 {
					b.WriteString(vals[p.ph])
				} else {
					b.WriteString(p.lit)
				}
			}
			argv = append(argv, b.String())
		}
	}
	return argv
}

// JoinList returns the value of a list placeholder whose elements are
// those of lists, in order: the elements separated by NUL bytes. Empty
// elements, and NUL bytes inside elements, cannot be passed and are left
// out.
func JoinList(lists ...[]string) string {
	var b strings.Builder
	for _, l := range lists {
		for _, e := range l {
			if e = strings.ReplaceAll(e, "\x00", ""); e == "" {
				continue
			}
			if b.Len() > 0 {
				b.WriteByte(0)
			}
			b.WriteString(e)
		}
	}
	return b.String()
}

// SplitList returns the elements of the list value v: its NUL-separated
// parts, without the empty ones.
func SplitList(v string) []string {
	var elems []string
	for e := range strings.SplitSeq(v, "\x00") {
		if e != "" {
			elems = append(elems, e)
		}
	}
	return elems
}

// tmplShellWords are the reserved words and builtins that only a shell
// runs: one of them as a command makes the template a shell template.
var tmplShellWords = []string{
	"!", "{", "}", "[[", "]]", "case", "do", "done", "elif", "else", "esac",
	"fi", "for", "function", "if", "in", "select", "then", "time", "until",
	"while", ".", ":", "alias", "break", "builtin", "cd", "command",
	"continue", "coproc", "declare", "eval", "exec", "exit", "export", "let", "local",
	"readonly", "return", "set", "shift", "source", "trap", "typeset",
	"ulimit", "umask", "unalias", "unset", "wait",
}

// tmplCodeWords are the commands that run their arguments as shell code,
// as a command, or as arithmetic: no placeholder may appear in the rest of
// such a simple command.
var tmplCodeWords = []string{
	"eval", "trap", ".", "source", "exec", "command", "builtin", "time",
	"let", "declare", "typeset", "unset", "coproc", "alias",
}

// tmplDeclWords are the builtins whose arguments name the variables they
// set: a placeholder in their arguments must follow a literal NAME=, so
// that a value such as "PATH=/tmp" cannot choose the variable.
var tmplDeclWords = []string{"export", "readonly", "local"}

// tmplNameByte reports whether c may appear in a placeholder name.
func tmplNameByte(c byte) bool {
	return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_'
}

// tmplAssignment reports whether a word starting with w is a variable
// assignment (NAME=...).
func tmplAssignment(w string) bool {
	name, _, ok := strings.Cut(w, "=")
	if !ok || name == "" || '0' <= name[0] && name[0] <= '9' {
		return false
	}
	for _, c := range []byte(name) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}
