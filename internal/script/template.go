package script

import (
	"fmt"
	"slices"
	"strings"
)

// TemplateError reports an invalid command template. It is returned by
// ParseTemplate, at start-up, so that a bad template is a configuration
// error rather than a failed hook.
type TemplateError struct {
	Template string // the template text
	Offset   int    // byte offset of the problem in Template, or -1
	Msg      string // what is wrong
}

// Error returns the message with the template and the offset.
func (e *TemplateError) Error() string {
	if e.Offset < 0 {
		return fmt.Sprintf("command template %q: %s", e.Template, e.Msg)
	}
	return fmt.Sprintf("command template %q: at offset %d: %s", e.Template, e.Offset, e.Msg)
}

// Template is a parsed command template such as `gzip -9 %pcap%` or
// `echo %callid% %caller% >> /tmp/calls.txt`. It is immutable and safe for
// concurrent use; the zero value is not usable, get one from ParseTemplate.
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
//   - A template with shell syntax (| & ; < > ( ) $ ` * ? [ ] ~ { }, a
//     newline, a # comment, a variable assignment, or a shell keyword or
//     builtin such as if, for, cd or export as a command) is a shell
//     template. It runs as /bin/sh -c SCRIPT lc-hook VALUE..., and SCRIPT
//     is the template text with each placeholder replaced by a quoted
//     reference to a positional parameter: "${1}" outside quotes, ${1}
//     inside double quotes, '"${1}"' inside single quotes. Each name is one
//     parameter, numbered in the order of Names. The script never contains
//     a value, and the shell never parses one.
//   - The program is literal: a placeholder in command position (argv[0],
//     or in a shell template any word the shell would run as a command,
//     such as after ; | && ( { then do, or in a function body) is an
//     error. So is a placeholder where the shell would interpret the value
//     rather than pass it on: inside backquotes, ${...}, $((...)), ((...)),
//     $[...] or [[ ]]; in the arguments of a builtin that runs or evaluates
//     them (eval, exec, command, builtin, time, ., source, trap, let,
//     declare, typeset, unset, coproc); right after an unquoted $ or
//     backslash. Here-documents are not supported.
//   - Render removes NUL bytes from values, since an argument cannot hold
//     one. Nothing else is changed: newlines, quotes, backslashes, leading
//     dashes, "../" and invalid UTF-8 pass through byte for byte.
//
// lc knows the shell's grammar, not what other programs do with their
// arguments: a template that hands a value to an interpreter (sh -c, env,
// xargs, find -exec, an option parser that takes "-rf") is the operator's
// choice. Write `rm -- %pcap%`, not `rm %pcap%`.
type Template struct {
	text   string
	names  []string
	shell  bool
	script string       // shell templates
	words  [][]tmplPart // argv templates
}

// ParseTemplate parses the command template tmpl once, at start-up.
// allowed lists the placeholder names valid in it, without the % signs;
// names are made of a-z, 0-9 and _.
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
// The error, a *TemplateError, names the template and the byte offset of
// the problem: an unknown or unterminated placeholder, a stray `%`, an
// unterminated quote, `$(`, `${`, `$((` or backquote, a trailing
// backslash, an empty template or program, a placeholder in command
// position or anywhere else the Template documentation forbids.
func ParseTemplate(tmpl string, allowed []string) (*Template, error) {
	for _, name := range allowed {
		if name == "" || strings.IndexFunc(name, func(r rune) bool { return r > 0x7f || !tmplNameByte(byte(r)) }) >= 0 {
			return nil, fmt.Errorf("command template %q: invalid placeholder name %q in the allowed list", tmpl, name)
		}
	}
	if i := strings.IndexByte(tmpl, 0); i >= 0 {
		return nil, &TemplateError{Template: tmpl, Offset: i, Msg: "NUL byte"}
	}
	if strings.Trim(tmpl, " \t\n") == "" {
		return nil, &TemplateError{Template: tmpl, Offset: -1, Msg: "empty template"}
	}
	l := &tmplLexer{src: tmpl, allowed: allowed, escaped: -1, stray: -1}
	if err := l.run(); err != nil {
		return nil, err
	}
	t := &Template{text: tmpl, names: slices.Clip(l.names), shell: l.shell}
	if l.shell {
		if !l.hasCmd {
			return nil, l.errorf(-1, "no command to run")
		}
		t.script = l.script.String()
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

// String returns the template text as given to ParseTemplate.
func (t *Template) String() string { return t.text }

// Shell reports whether the template needs /bin/sh.
func (t *Template) Shell() bool { return t.shell }

// Names returns the placeholder names the template uses, each once, in
// order of first use. For a shell template, the value of Names()[i] is
// positional parameter i+1. The caller owns the returned slice.
func (t *Template) Names() []string { return slices.Clone(t.names) }

// Render fills the template with values. value returns the value of a
// placeholder name; it is called once for each name in Names and never
// for another name. A nil value renders every placeholder empty. NUL bytes
// are removed from values; nothing else is changed.
func (t *Template) Render(value func(name string) string) Command {
	vals := make([]string, len(t.names))
	for i, name := range t.names {
		if value != nil {
			vals[i] = strings.ReplaceAll(value(name), "\x00", "")
		}
	}
	if t.shell {
		argv := make([]string, 0, 4+len(vals))
		argv = append(argv, "/bin/sh", "-c", t.script, "lc-hook")
		return Command{Argv: append(argv, vals...), Shell: true, Script: t.script, Params: vals}
	}
	argv := make([]string, len(t.words))
	for i, w := range t.words {
		if len(w) == 1 && w[0].ph < 0 {
			argv[i] = w[0].lit
			continue
		}
		var b strings.Builder
		for _, p := range w {
			if p.ph >= 0 {
				b.WriteString(vals[p.ph])
			} else {
				b.WriteString(p.lit)
			}
		}
		argv[i] = b.String()
	}
	return Command{Argv: argv}
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
	"let", "declare", "typeset", "unset", "coproc",
}

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
