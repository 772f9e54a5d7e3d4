package template

import (
	"bytes"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// listTestNames are the placeholders of the list tests: scalars a and b,
// lists files and rtp.
var listTestNames = []string{"a", "b", "files" + ListSuffix, "rtp" + ListSuffix}

// listParse parses tmpl with listTestNames.
func listParse(tb testing.TB, tmpl string) *Template {
	tb.Helper()
	tp, err := Parse(tmpl, listTestNames)
	if err != nil {
		tb.Fatalf("Parse(%q): %v", tmpl, err)
	}
	return tp
}

// listValues returns a value function for scalars and lists.
func listValues(scalars map[string]string, lists map[string][]string) func(string) string {
	return func(name string) string {
		if l, ok := lists[name]; ok {
			return JoinList(l)
		}
		return scalars[name]
	}
}

func TestTemplateListArgv(t *testing.T) {
	three := []string{"/o/a b_sip.pcap", "-n", "$(touch x)'\"\n*"}
	tests := []struct {
		name  string
		tmpl  string
		files []string
		want  []string
	}{
		{name: "none", tmpl: "gzip -9 %files%", want: []string{"gzip", "-9"}},
		{name: "one", tmpl: "gzip -9 %files%", files: three[:1], want: []string{"gzip", "-9", three[0]}},
		{name: "three", tmpl: "gzip -9 %files%", files: three, want: append([]string{"gzip", "-9"}, three...)},
		{name: "between words", tmpl: "cmd -- %files% end", files: three[:2], want: []string{"cmd", "--", three[0], three[1], "end"}},
		{name: "none between words", tmpl: "cmd x %files% y", want: []string{"cmd", "x", "y"}},
		{name: "twice", tmpl: "cmd %files% %files%", files: three[:2], want: []string{"cmd", three[0], three[1], three[0], three[1]}},
		{name: "with scalars", tmpl: "cmd %a% %files% '%b%' %rtp%", files: three[:1], want: []string{"cmd", "A", three[0], ""}},
		{name: "blanks around", tmpl: "cmd\t%files%\t", files: three[:1], want: []string{"cmd", three[0]}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tp := listParse(t, tt.tmpl)
			if tp.Shell() {
				t.Fatal("Shell() = true, want an argv template")
			}
			got := tp.Render(listValues(map[string]string{"a": "A"}, map[string][]string{"files": tt.files}))
			if !slices.Equal(got.Argv, tt.want) || got.Shell {
				t.Errorf("Render = %+v, want argv %q", got, tt.want)
			}
		})
	}
}

func TestTemplateListShell(t *testing.T) {
	tests := []struct {
		name   string
		tmpl   string
		files  []string
		rtp    []string
		script string
		params []string
	}{
		{name: "none", tmpl: "gzip -9 %files% >> log", script: "gzip -9  >> log"},
		{name: "one", tmpl: "gzip -9 %files% >> log", files: []string{"f1"}, script: `gzip -9 "${1}" >> log`, params: []string{"f1"}},
		{name: "scalars first", tmpl: "cmd %a% %files% %b% %rtp% %a% | cat", files: []string{"f1", "f2"}, rtp: []string{"r1"},
			script: `cmd "${1}" "${3}" "${4}" "${2}" "${5}" "${1}" | cat`, params: []string{"A", "B", "f1", "f2", "r1"}},
		{name: "list before scalar", tmpl: "cmd %files% %a%; true", files: []string{"f1"}, script: `cmd "${2}" "${1}"; true`, params: []string{"A", "f1"}},
		{name: "twice", tmpl: "cmd %files% && cmd2 %files%", files: []string{"f1", "f2"}, script: `cmd "${1}" "${2}" && cmd2 "${1}" "${2}"`, params: []string{"f1", "f2"}},
		{name: "for loop", tmpl: `for f in %files%; do gzip "$f"; done`, files: []string{"f1", "f2"}, script: `for f in "${1}" "${2}"; do gzip "$f"; done`, params: []string{"f1", "f2"}},
		{name: "for loop empty", tmpl: `for f in %files%; do gzip "$f"; done`, script: `for f in ; do gzip "$f"; done`},
		{name: "command substitution", tmpl: `echo "$(ls %files%)" > f`, files: []string{"f1"}, script: `echo "$(ls "${1}")" > f`, params: []string{"f1"}},
		{name: "before redirection", tmpl: "cat %files%>out", files: []string{"f1", "f2"}, script: `cat "${1}" "${2}">out`, params: []string{"f1", "f2"}},
		{name: "case body", tmpl: "case %a% in completed) gzip %files%;; esac", files: []string{"f1"}, script: `case "${1}" in completed) gzip "${2}";; esac`, params: []string{"A", "f1"}},
		{name: "comment", tmpl: "true # %files%", files: []string{"f1"}, script: `true # "${1}"`, params: []string{"f1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tp := listParse(t, tt.tmpl)
			if !tp.Shell() {
				t.Fatal("Shell() = false, want a shell template")
			}
			got := tp.Render(listValues(map[string]string{"a": "A", "b": "B"}, map[string][]string{"files": tt.files, "rtp": tt.rtp}))
			want := append([]string{"/bin/sh", "-c", tt.script, "lc-hook"}, tt.params...)
			if got.Script != tt.script || !slices.Equal(got.Params, tt.params) || !slices.Equal(got.Argv, want) || !got.Shell {
				t.Errorf("Render = %+v\nwant script %q params %q", got, tt.script, tt.params)
			}
		})
	}
}

func TestTemplateListIsList(t *testing.T) {
	tp := listParse(t, "cmd %files% %a%")
	if !tp.IsList("files") || tp.IsList("a") || tp.IsList("rtp") || tp.IsList("x") {
		t.Errorf("IsList: files %v, a %v, rtp %v, x %v", tp.IsList("files"), tp.IsList("a"), tp.IsList("rtp"), tp.IsList("x"))
	}
	if got := tp.Names(); !slices.Equal(got, []string{"files", "a"}) {
		t.Errorf("Names() = %q", got)
	}
	// A name given both as a scalar and as a list is a list.
	tp, err := Parse("cmd %files%", []string{"files", "files" + ListSuffix})
	if err != nil || !tp.IsList("files") {
		t.Errorf("scalar and list: %v, IsList %v", err, err == nil && tp.IsList("files"))
	}
	if got := listParse(t, "cmd %files% %a%").Render(nil).Argv; !slices.Equal(got, []string{"cmd", ""}) {
		t.Errorf("Render(nil) = %q, want an empty list and an empty scalar", got)
	}
	for _, bad := range []string{ListSuffix, "x..." + ListSuffix, "X" + ListSuffix, "a.."} {
		if _, err := Parse("cmd", []string{bad}); err == nil {
			t.Errorf("allowed name %q accepted", bad)
		}
	}
}

func TestTemplateListValues(t *testing.T) {
	if got := JoinList(nil); got != "" {
		t.Errorf("JoinList(nil) = %q", got)
	}
	v := JoinList([]string{"a", "", "b\x00c"}, nil, []string{"d e"})
	if v != "a\x00bc\x00d e" {
		t.Errorf("JoinList = %q", v)
	}
	if got := SplitList(v); !slices.Equal(got, []string{"a", "bc", "d e"}) {
		t.Errorf("SplitList(%q) = %q", v, got)
	}
	if got := SplitList("\x00\x00x\x00"); !slices.Equal(got, []string{"x"}) {
		t.Errorf("SplitList drops empty elements: %q", got)
	}
	if got := SplitList(""); len(got) != 0 {
		t.Errorf("SplitList(\"\") = %q", got)
	}
	// A scalar value keeps being one argument, NUL bytes removed.
	got := listParse(t, "cmd %a% %files%").Render(func(n string) string { return "x\x00y" })
	if !slices.Equal(got.Argv, []string{"cmd", "xy", "x", "y"}) {
		t.Errorf("Argv = %q", got.Argv)
	}
}

func TestTemplateListErrors(t *testing.T) {
	tests := []struct {
		tmpl   string
		msg    string
		offset int
	}{
		{"cmd '%files%'", "inside a single quote", 5},
		{`cmd "%files%"`, "inside a double quote", 5},
		{`cmd "x %files% y" > f`, "inside a double quote", 7},
		{`cmd $'%files%' > f`, "inside a $'...' quote", 6},
		{"cmd --in=%files%", "next to other text", 9},
		{"cmd %files%.gz", "next to other text", 4},
		{"cmd %files%%a%", "next to other text", 4},
		{"cmd %a%%files%", "next to other text", 7},
		{"cmd %files%%files%", "next to other text", 4},
		{"cmd %files%''", "next to other text", 4},
		{`cmd ""%files%`, "next to other text", 6},
		{`cmd \ %files%`, "next to other text", 6},
		{"cmd %files%%%", "next to other text", 4},
		{"cmd %files%\\\nx", "next to other text", 4},
		{"cmd %files%\\\n x", "next to other text", 4},
		{"cmd %files%2>f", "next to other text", 4},
		{"cmd %files%(", "next to other text", 4},
		{"cmd %files%$x", "next to other text", 4},
		{"cmd %files%#x", "next to other text", 4},
		{"cmd > %files%", "redirection target", 6},
		{"cmd 2>>%files%", "redirection target", 7},
		{"cmd < %files%", "redirection target", 6},
		{"for %files% in a; do :; done", "name after", 4},
		{"function %files% { :; }", "name after", 9},
		{"case %files% in a) :;; esac", "word of \"case\"", 5},
		{"case a in %files%) :;; esac", "\"case\" pattern", 10},
		{"case a in (%files%) :;; esac", "command position", 11},
		{"case a in x) :;; %files%) :;; esac", "command position", 17},
		{"%files% x", "command position", 0},
		{"true; %files%", "command position", 6},
		{"A=1 %files%", "command position", 4},
		{"eval %files%", `arguments of "eval"`, 5},
		{"echo `ls %files%`", "inside backquotes", 9},
		{"echo ${x:-%files%}", "inside ${...}", 10},
		{"echo $((%files%))", "inside $((...))", 8},
		{"[[ -e %files% ]]", "inside [[ ]]", 6},
		{`echo \%files%`, "backslash before placeholder", 5},
		{`echo $%files%`, "$ before placeholder", 5},
	}
	for _, tt := range tests {
		t.Run(tt.tmpl, func(t *testing.T) {
			tp, err := Parse(tt.tmpl, listTestNames)
			if err == nil {
				t.Fatalf("Parse(%q) = %+v, want an error", tt.tmpl, tp.Render(nil))
			}
			var te *Error
			if !errors.As(err, &te) {
				t.Fatalf("error %v is a %T, want *Error", err, err)
			}
			if !strings.Contains(te.Msg, tt.msg) || te.Offset != tt.offset {
				t.Errorf("error = %q at %d, want %q at offset %d", te.Msg, te.Offset, tt.msg, tt.offset)
			}
		})
	}
	// The message says what to do.
	_, err := Parse("cmd '%files%'", listTestNames)
	if err == nil || !strings.Contains(err.Error(), "one argument per file and must stand alone as a whole unquoted word") {
		t.Errorf("error = %v", err)
	}
}

// listRecorder is the program of the real-shell tests: a literal sh -c
// script that prints its argument count and its arguments, each followed
// by a NUL byte.
const listRecorder = `/bin/sh -c 'printf "%%s\0" "$#" "$@"' rec`

// listRun runs argv and returns the arguments the recorder got, or, for a
// loop that prints only elements, the printed elements.
func listRun(tb testing.TB, argv []string, counted bool) []string {
	tb.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = tb.TempDir()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		tb.Fatalf("%q: %v\n%s", argv, err, stderr.Bytes())
	}
	if files, _ := filepath.Glob(filepath.Join(cmd.Dir, "*")); len(files) > 0 {
		tb.Fatalf("%q left %q behind", argv, files)
	}
	fields := strings.Split(string(out), "\x00")
	if len(fields) == 0 || fields[len(fields)-1] != "" {
		tb.Fatalf("%q printed %q", argv, out)
	}
	fields = fields[:len(fields)-1]
	if !counted {
		return fields
	}
	if n, err := strconv.Atoi(fields[0]); err != nil || n != len(fields)-1 {
		tb.Fatalf("%q printed %q", argv, out)
	}
	return fields[1:]
}

// listShells returns /bin/sh and bash, when it is installed.
func listShells() []string {
	shells := []string{"/bin/sh"}
	if bash, err := exec.LookPath("bash"); err == nil {
		shells = append(shells, bash)
	}
	return shells
}

// TestTemplateListRealShell runs list placeholders with hostile file
// names, of every count from 0 to 12, directly and through each shell:
// every run must get exactly one argument per element, byte for byte.
func TestTemplateListRealShell(t *testing.T) {
	hostile := []string{
		"/o/a b.pcap", "-n", "$(touch p)", "`touch q`", "*", "'", `"`, "\n", "x\ny", "$1", "${IFS}", ";touch r",
	}
	argvT := listParse(t, listRecorder+" %a% %files% %rtp% '%b%'")
	shT := listParse(t, listRecorder+" %a% %files% %rtp% '%b%' | cat")
	loopT := listParse(t, `for f in %files% %rtp%; do printf '%%s\0' "$f"; done | cat`)
	for n := range len(hostile) + 1 {
		files := hostile[:n]
		rtp := hostile[len(hostile)-n%3:]
		val := listValues(map[string]string{"a": "$(touch a)", "b": ""}, map[string][]string{"files": files, "rtp": rtp})
		want := slices.Concat([]string{"$(touch a)"}, files, rtp, []string{""})
		if got := listRun(t, argvT.Render(val).Argv, true); !slices.Equal(got, want) {
			t.Errorf("argv mode, %d files: got %q, want %q", n, got, want)
		}
		for _, sh := range listShells() {
			cmd := shT.Render(val)
			if got := listRun(t, append([]string{sh}, cmd.Argv[1:]...), true); !slices.Equal(got, want) {
				t.Errorf("%s, %d files: got %q, want %q (script %q)", sh, n, got, want, cmd.Script)
			}
			loop := loopT.Render(val)
			if got, want := listRun(t, append([]string{sh}, loop.Argv[1:]...), false), slices.Concat(files, rtp); !slices.Equal(got, want) {
				t.Errorf("%s loop, %d files: got %q, want %q (script %q)", sh, n, got, want, loop.Script)
			}
		}
	}
}

// TestTemplateListScriptDependsOnCount checks that the script of a shell
// template depends only on the number of elements of each list.
func TestTemplateListScriptDependsOnCount(t *testing.T) {
	tp := listParse(t, "cmd %a% %files% '%b%' %rtp% > f")
	for n := range 4 {
		var scripts []string
		for _, v := range []string{"x", "$(id)", "\"'", "%files%"} {
			files := slices.Repeat([]string{v}, n)
			cmd := tp.Render(listValues(map[string]string{"a": v, "b": v}, map[string][]string{"files": files, "rtp": files}))
			scripts = append(scripts, cmd.Script)
			if len(cmd.Params) != 2+2*n {
				t.Errorf("n=%d v=%q: %+v", n, v, cmd)
			}
		}
		if len(slices.Compact(slices.Clone(scripts))) != 1 {
			t.Errorf("n=%d: scripts differ: %q", n, scripts)
		}
		if want := fmt.Sprintf("\"${%d}\"", 2+2*n); n > 0 && !strings.Contains(scripts[0], want) {
			t.Errorf("n=%d: script %q has no %s", n, scripts[0], want)
		}
	}
}
