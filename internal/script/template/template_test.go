package template

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
)

// tmplTestNames are the placeholders allowed in the table tests.
var tmplTestNames = []string{"pcap", "callid", "caller", "called", "a", "b"}

// tmplValues returns a value function that serves m and fails the test
// when asked for a name twice or for a name outside m.
func tmplValues(tb testing.TB, m map[string]string) func(string) string {
	tb.Helper()
	var mu sync.Mutex
	asked := map[string]bool{}
	return func(name string) string {
		mu.Lock()
		defer mu.Unlock()
		if asked[name] {
			tb.Errorf("value(%q) asked twice", name)
		}
		asked[name] = true
		v, ok := m[name]
		if !ok {
			tb.Errorf("value(%q) asked, not in %v", name, m)
		}
		return v
	}
}

func mustParse(tb testing.TB, tmpl string) *Template {
	tb.Helper()
	tp, err := Parse(tmpl, tmplTestNames)
	if err != nil {
		tb.Fatalf("Parse(%q): %v", tmpl, err)
	}
	return tp
}

func TestTemplateSeedExamples(t *testing.T) {
	tp := mustParse(t, "echo %pcap% >> /tmp/pcap-list.txt")
	got := tp.Render(tmplValues(t, map[string]string{"pcap": "/out/a b;$(x).pcap"}))
	want := Command{
		Argv:   []string{"/bin/sh", "-c", `echo "${1}" >> /tmp/pcap-list.txt`, "lc-hook", "/out/a b;$(x).pcap"},
		Shell:  true,
		Script: `echo "${1}" >> /tmp/pcap-list.txt`,
		Params: []string{"/out/a b;$(x).pcap"},
	}
	if !tp.Shell() || !slices.Equal(got.Argv, want.Argv) || got.Script != want.Script || !slices.Equal(got.Params, want.Params) || !got.Shell {
		t.Errorf("pcap-list: got %+v, want %+v", got, want)
	}

	hostile := `x' ; touch /tmp/p "$(id)" \`
	for _, tmpl := range []string{"myscript '%callid%'", `myscript "%callid%"`, "myscript %callid%"} {
		tp := mustParse(t, tmpl)
		got := tp.Render(tmplValues(t, map[string]string{"callid": hostile}))
		if tp.Shell() || got.Shell || !slices.Equal(got.Argv, []string{"myscript", hostile}) {
			t.Errorf("%s: got %+v, want argv [myscript %q]", tmpl, got, hostile)
		}
	}
	tp = mustParse(t, `myscript "%caller%"`)
	if got := tp.Render(tmplValues(t, map[string]string{"caller": `"Bob" <sip:bob@x>;tag=1`})); !slices.Equal(got.Argv, []string{"myscript", `"Bob" <sip:bob@x>;tag=1`}) {
		t.Errorf("caller: got %q", got.Argv)
	}
}

func TestTemplateArgv(t *testing.T) {
	tests := []struct {
		name string
		tmpl string
		vals map[string]string
		want []string
	}{
		{name: "gzip", tmpl: "gzip -9 %pcap%", vals: map[string]string{"pcap": "/o/a b.pcap"}, want: []string{"gzip", "-9", "/o/a b.pcap"}},
		{name: "in option", tmpl: "cmd --file=%pcap%", vals: map[string]string{"pcap": "x y"}, want: []string{"cmd", "--file=x y"}},
		{name: "adjacent placeholders", tmpl: "cmd %a%%b%", vals: map[string]string{"a": "1 2", "b": "'3"}, want: []string{"cmd", "1 2'3"}},
		{name: "empty value kept", tmpl: "cmd %a% x", vals: map[string]string{"a": ""}, want: []string{"cmd", "", "x"}},
		{name: "empty quoted value kept", tmpl: `cmd '%a%' "%a%"`, vals: map[string]string{"a": ""}, want: []string{"cmd", "", ""}},
		{name: "empty literal words", tmpl: `cmd '' "" x''`, want: []string{"cmd", "", "", "x"}},
		{name: "repeated", tmpl: "cmd %a% %a%-%a%", vals: map[string]string{"a": "v"}, want: []string{"cmd", "v", "v-v"}},
		{name: "single quoted with text", tmpl: "cmd 'a %a% b'", vals: map[string]string{"a": "\n"}, want: []string{"cmd", "a \n b"}},
		{name: "double quoted with text", tmpl: `cmd "a %a% b"`, vals: map[string]string{"a": `"`}, want: []string{"cmd", `a " b`}},
		{name: "mixed quoting", tmpl: `cmd x'%a%'"%b%"\ y`, vals: map[string]string{"a": "1", "b": "2"}, want: []string{"cmd", "x12 y"}},
		{name: "value not reparsed", tmpl: "cmd %a%", vals: map[string]string{"a": "%b% %% $x"}, want: []string{"cmd", "%b% %% $x"}},
		{name: "NUL removed", tmpl: "cmd %a%", vals: map[string]string{"a": "x\x00y\x00"}, want: []string{"cmd", "xy"}},
		{name: "bytes kept", tmpl: "cmd %a%", vals: map[string]string{"a": "\xff\xfe-rf ../\r\n\\"}, want: []string{"cmd", "\xff\xfe-rf ../\r\n\\"}},
		{name: "percent", tmpl: "cmd 100%% %%a%% '%%'", want: []string{"cmd", "100%", "%a%", "%"}},
		{name: "blanks", tmpl: "  cmd\t\ta  \t b ", want: []string{"cmd", "a", "b"}},
		{name: "backslash outside quotes", tmpl: `cmd a\ b \; \| \$x \\ \'`, want: []string{"cmd", "a b", ";", "|", "$x", `\`, "'"}},
		{name: "backslash in double quotes", tmpl: `cmd "\" \\ \$ \` + "`" + ` \a \%%"`, want: []string{"cmd", "\" \\ $ ` \\a \\%"}},
		{name: "backslash in single quotes", tmpl: `cmd 'a\b\'`, want: []string{"cmd", `a\b\`}},
		{name: "line continuation", tmpl: "cmd a\\\nb \"c\\\nd\"", want: []string{"cmd", "ab", "cd"}},
		{name: "quoted shell characters", tmpl: `cmd '|;&<>()$*?[]~{}#' "|;&<>()*?[]~{}#" a#b`, want: []string{"cmd", "|;&<>()$*?[]~{}#", "|;&<>()*?[]~{}#", "a#b"}},
		{name: "quoted newline", tmpl: "cmd 'a\nb'", want: []string{"cmd", "a\nb"}},
		{name: "quoted program", tmpl: `'/opt/my hooks/run' "%callid%"`, vals: map[string]string{"callid": "c"}, want: []string{"/opt/my hooks/run", "c"}},
		{name: "value in many words", tmpl: "cmd %caller% %called% --id=%callid%", vals: map[string]string{"caller": "a b", "called": "", "callid": "-x"}, want: []string{"cmd", "a b", "", "--id=-x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tp := mustParse(t, tt.tmpl)
			if tp.Shell() {
				t.Fatalf("Shell() = true, want an argv template")
			}
			got := tp.Render(tmplValues(t, tt.vals))
			if got.Shell || got.Script != "" || got.Params != nil {
				t.Errorf("argv template rendered shell fields: %+v", got)
			}
			if !slices.Equal(got.Argv, tt.want) {
				t.Errorf("Argv = %q, want %q", got.Argv, tt.want)
			}
		})
	}
}

func TestTemplateShellScript(t *testing.T) {
	tests := []struct {
		name   string
		tmpl   string
		script string
		names  []string
	}{
		{name: "append", tmpl: "echo %pcap% >> /tmp/l", script: `echo "${1}" >> /tmp/l`, names: []string{"pcap"}},
		{name: "single quotes", tmpl: "echo 'abc%a%def' | cat", script: `echo 'abc'"${1}"'def' | cat`, names: []string{"a"}},
		{name: "single quotes only placeholder", tmpl: "echo '%a%' | cat", script: `echo ''"${1}"'' | cat`, names: []string{"a"}},
		{name: "double quotes", tmpl: `echo "x%a%y"; true`, script: `echo "x${1}y"; true`, names: []string{"a"}},
		{name: "double quote then digit", tmpl: `echo "%a%1"; true`, script: `echo "${1}1"; true`, names: []string{"a"}},
		{name: "reuse per name", tmpl: "echo %a% %b% %a% >x", script: `echo "${1}" "${2}" "${1}" >x`, names: []string{"a", "b"}},
		{name: "adjacent", tmpl: "echo x%a%%b%y >x", script: `echo x"${1}""${2}"y >x`, names: []string{"a", "b"}},
		{name: "percent", tmpl: "echo 100%% %%a%% > f", script: "echo 100% %a% > f", names: nil},
		{name: "date format", tmpl: "date +%s > f; printf '%d\\n' 1 | cat", script: "date +%s > f; printf '%d\\n' 1 | cat", names: nil},
		{name: "suffix removal", tmpl: "f=%pcap%; gzip -- \"$f\" && echo \"${f%%.*}\" >> l", script: `f="${1}"; gzip -- "$f" && echo "${f%%.*}" >> l`, names: []string{"pcap"}},
		{name: "arithmetic modulo", tmpl: "echo $((7 %% 3)) %a% > f", script: `echo $((7 %% 3)) "${1}" > f`, names: []string{"a"}},
		{name: "command substitution", tmpl: `echo "$(basename %pcap% .pcap)" > f`, script: `echo "$(basename "${1}" .pcap)" > f`, names: []string{"pcap"}},
		{name: "single quotes in command substitution", tmpl: `echo "$(echo '%a%')" > f`, script: `echo "$(echo ''"${1}"'')" > f`, names: []string{"a"}},
		{name: "ansi quote", tmpl: `echo $'a%a%\n' > f`, script: `echo $'a'"${1}"$'\n' > f`, names: []string{"a"}},
		{name: "redirect target", tmpl: "gzip -c -- %pcap% > %pcap%.gz", script: `gzip -c -- "${1}" > "${1}".gz`, names: []string{"pcap"}},
		{name: "assignment prefix", tmpl: "ID=%callid% /usr/bin/hook %pcap%", script: `ID="${1}" /usr/bin/hook "${2}"`, names: []string{"callid", "pcap"}},
		{name: "comment", tmpl: "echo %a% > f # it's %b%", script: `echo "${1}" > f # it's "${2}"`, names: []string{"a", "b"}},
		{name: "for list", tmpl: "for f in %a% %b%; do gzip \"$f\"; done", script: `for f in "${1}" "${2}"; do gzip "$f"; done`, names: []string{"a", "b"}},
		{name: "case subject", tmpl: "case %a% in x) echo x;; esac", script: `case "${1}" in x) echo x;; esac`, names: []string{"a"}},
		{name: "escaped dollar", tmpl: `echo \$%a% "\$%a%" > f`, script: `echo \$"${1}" "\$${1}" > f`, names: []string{"a"}},
		{name: "escaped backslash", tmpl: `echo \\%a% "\\%a%" > f`, script: `echo \\"${1}" "\\${1}" > f`, names: []string{"a"}},
		{name: "fd redirect", tmpl: "echo a 2>&1 %a%", script: `echo a 2>&1 "${1}"`, names: []string{"a"}},
		{name: "export assignments", tmpl: `export ID=%callid% X="a%a%" Y=$(echo %b%); hook`, script: `export ID="${1}" X="a${2}" Y=$(echo "${3}"); hook`, names: []string{"callid", "a", "b"}},
		{name: "after export", tmpl: "export A; echo %a% > f", script: `export A; echo "${1}" > f`, names: []string{"a"}},
		{name: "set options", tmpl: "set -eu -o pipefail +x; gzip %pcap% | cat", script: `set -eu -o pipefail +x; gzip "${1}" | cat`, names: []string{"pcap"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tp := mustParse(t, tt.tmpl)
			if !tp.Shell() {
				t.Fatalf("Shell() = false, want a shell template")
			}
			vals := map[string]string{}
			params := make([]string, len(tt.names))
			for i, n := range tt.names {
				vals[n] = fmt.Sprintf("'v%d\"$(x)", i)
				params[i] = vals[n]
			}
			got := tp.Render(tmplValues(t, vals))
			if got.Script != tt.script {
				t.Errorf("Script = %q, want %q", got.Script, tt.script)
			}
			if !slices.Equal(tp.Names(), tt.names) {
				t.Errorf("Names() = %q, want %q", tp.Names(), tt.names)
			}
			want := append([]string{"/bin/sh", "-c", tt.script, "lc-hook"}, params...)
			if !got.Shell || !slices.Equal(got.Argv, want) || !slices.Equal(got.Params, params) {
				t.Errorf("Render = %+v, want argv %q", got, want)
			}
		})
	}
}

func TestTemplateManyParameters(t *testing.T) {
	names := make([]string, 12)
	var b strings.Builder
	b.WriteString("echo")
	for i := range names {
		names[i] = fmt.Sprintf("p%d", i)
		fmt.Fprintf(&b, ` %%p%d%% "%%p%d%%0"`, i, i)
	}
	b.WriteString(" > f")
	tp, err := Parse(b.String(), names)
	if err != nil {
		t.Fatal(err)
	}
	got := tp.Render(func(n string) string { return n })
	if !strings.Contains(got.Script, ` "${10}" "${10}0" "${11}" "${11}0" "${12}" "${12}0" > f`) {
		t.Errorf("Script = %q, want braced references past 9", got.Script)
	}
	if !slices.Equal(got.Params, names) || !slices.Equal(tp.Names(), names) {
		t.Errorf("Params = %q, Names = %q, want %q", got.Params, tp.Names(), names)
	}
}

func TestTemplateShellDetection(t *testing.T) {
	tests := []struct {
		tmpl  string
		shell bool
	}{
		{"gzip -9 %pcap%", false},
		{"/usr/local/bin/hook --id=%callid% '%caller%' \"%called%\"", false},
		{`cmd "a;b" 'c|d' e\&f \$x`, false},
		{"cmd a#b", false},
		{"cmd a=b", false},
		{"cmd %a% | cat", true},
		{"cmd %a% & x", true},
		{"cmd ; x", true},
		{"cmd < f", true},
		{"cmd > f", true},
		{"(cmd)", true},
		{"cmd $HOME", true},
		{`cmd "$HOME"`, true},
		{"cmd \"`date`\"", true},
		{"cmd `date`", true},
		{"cmd *.pcap", true},
		{"cmd ?", true},
		{"cmd [a]", true},
		{"cmd ~/x", true},
		{"cmd {a,b}", true},
		{"cmd\ncmd2", true},
		{"cmd # comment", true},
		{"if true; then cmd; fi", true},
		{"for f in a b; do cmd \"$f\"; done", true},
		{"while false; do :; done", true},
		{"cd /tmp && ls", true},
		{"export A=%a%", true},
		{"set -- a b; shift; echo \"$1\"", true},
		{"A=%a% cmd", true},
		{"! cmd", true},
		{"{ cmd; }", true},
	}
	for _, tt := range tests {
		tp, err := Parse(tt.tmpl, tmplTestNames)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.tmpl, err)
			continue
		}
		if tp.Shell() != tt.shell {
			t.Errorf("Parse(%q).Shell() = %v, want %v", tt.tmpl, tp.Shell(), tt.shell)
		}
		if tp.String() != tt.tmpl {
			t.Errorf("String() = %q, want %q", tp.String(), tt.tmpl)
		}
	}
}

// TestTemplateStrayPercent pins the rule for a % that starts no
// placeholder: an error in argv templates, a literal in shell templates;
// an unknown %name% and an unterminated known %name are errors in both.
func TestTemplateStrayPercent(t *testing.T) {
	tests := []struct {
		tmpl   string
		script string // "" for an error
	}{
		{"echo 50%", ""},
		{"echo %Y", ""},
		{"echo %calid", ""},
		{"echo 50% > f", "echo 50% > f"},
		{"date +%Y-%m-%d > f", "date +%Y-%m-%d > f"},
		{"date +%s >> f", "date +%s >> f"},
		{"printf '%s %s\\n' a %a% | cat", `printf '%s %s\n' a "${1}" | cat`},
		{"printf '%%s%%s' a %a% | cat", `printf '%s%s' a "${1}" | cat`},
		{"date +%s%N > f", ""},
		{"echo %pcap > f", ""},
		{"echo %calid% > f", ""},
	}
	for _, tt := range tests {
		tp, err := Parse(tt.tmpl, tmplTestNames)
		switch {
		case tt.script == "" && err == nil:
			t.Errorf("Parse(%q) = %q, want an error", tt.tmpl, tp.Render(nil).Script)
		case tt.script != "" && err != nil:
			t.Errorf("Parse(%q): %v", tt.tmpl, err)
		case tt.script != "" && tp.Render(func(string) string { return "v" }).Script != tt.script:
			t.Errorf("Parse(%q) script = %q, want %q", tt.tmpl, tp.Render(nil).Script, tt.script)
		}
	}
}

func TestTemplateParseErrors(t *testing.T) {
	tests := []struct {
		name    string
		tmpl    string
		allowed []string // tmplTestNames if nil
		msg     string
		offset  int
	}{
		{name: "empty", tmpl: "", msg: "empty template", offset: -1},
		{name: "blank", tmpl: " \t \n", msg: "empty template", offset: -1},
		{name: "unknown", tmpl: "gzip %foo%", msg: "unknown placeholder %foo% (known: %pcap%, %callid%", offset: 5},
		{name: "unknown uppercase-free", tmpl: "gzip %pcap_2%", msg: "unknown placeholder %pcap_2%", offset: 5},
		{name: "unterminated", tmpl: "gzip -9 %pcap", msg: "unterminated placeholder %pcap", offset: 8},
		{name: "unterminated before space", tmpl: "gzip %pcap -9", msg: "unterminated placeholder %pcap", offset: 5},
		{name: "stray", tmpl: "gzip 5%", msg: "% starts no placeholder", offset: 6},
		{name: "stray before upper", tmpl: "gzip %PCAP%", msg: "% starts no placeholder", offset: 5},
		{name: "single quote", tmpl: "gzip 'a b", msg: "unterminated single quote", offset: 5},
		{name: "double quote", tmpl: `gzip "a b`, msg: "unterminated double quote", offset: 5},
		{name: "quote in shell", tmpl: `echo "a | b`, msg: "unterminated double quote", offset: 5},
		{name: "command substitution", tmpl: `echo "$(echo x`, msg: "unterminated $(...)", offset: 6},
		{name: "backquote", tmpl: "echo `x", msg: "unterminated backquotes", offset: 5},
		{name: "parameter", tmpl: "echo ${x", msg: "unterminated ${...}", offset: 5},
		{name: "arithmetic", tmpl: "echo $((1", msg: "unterminated $((...))", offset: 5},
		{name: "trailing backslash", tmpl: `gzip a\`, msg: "trailing backslash", offset: 6},
		{name: "trailing backslash in double quotes", tmpl: `gzip "a\`, msg: "trailing backslash", offset: 7},
		{name: "empty program", tmpl: `'' %pcap%`, msg: "empty program", offset: 0},
		{name: "placeholder program", tmpl: "%pcap% -9", msg: "command position", offset: 0},
		{name: "quoted placeholder program", tmpl: `"%pcap%" -9`, msg: "command position", offset: 1},
		{name: "placeholder in program", tmpl: "/usr/bin/%pcap% -9", msg: "command position", offset: 9},
		{name: "placeholder program in shell", tmpl: "%pcap% > f", msg: "command position", offset: 0},
		{name: "after semicolon", tmpl: "echo a; %pcap%", msg: "command position", offset: 8},
		{name: "after pipe", tmpl: "echo a | x%pcap%", msg: "command position", offset: 10},
		{name: "after and", tmpl: `echo a && "%pcap%"`, msg: "command position", offset: 11},
		{name: "after newline", tmpl: "echo a\n'%pcap%' x", msg: "command position", offset: 8},
		{name: "after redirection", tmpl: "> f %pcap%", msg: "command position", offset: 4},
		{name: "after fd redirection", tmpl: "2>&1 %pcap%", msg: "command position", offset: 5},
		{name: "after assignment", tmpl: "A=1 %pcap%", msg: "command position", offset: 4},
		{name: "in subshell", tmpl: "(%pcap%)", msg: "command position", offset: 1},
		{name: "in group", tmpl: "{ %pcap%; }", msg: "command position", offset: 2},
		{name: "after then", tmpl: "if true; then %pcap%; fi", msg: "command position", offset: 14},
		{name: "after if", tmpl: "if %pcap%; then :; fi", msg: "command position", offset: 3},
		{name: "after do", tmpl: "for x do %pcap%; done", msg: "command position", offset: 9},
		{name: "after bang", tmpl: "! %pcap%", msg: "command position", offset: 2},
		{name: "in case branch", tmpl: "case a in a) %pcap%;; esac", msg: "command position", offset: 13},
		{name: "command substitution program", tmpl: "echo $(%pcap%)", msg: "command position", offset: 7},
		{name: "command substitution as program", tmpl: "$(echo %pcap%) x", msg: "command position", offset: 7},
		{name: "eval", tmpl: `eval "echo %pcap%"`, msg: `arguments of "eval"`, offset: 11},
		{name: "quoted eval", tmpl: `"ev"al %pcap%`, msg: `arguments of "eval"`, offset: 7},
		{name: "eval of substitution", tmpl: `eval "$(echo %pcap%)"`, msg: `arguments of "eval"`, offset: 13},
		{name: "exec", tmpl: "exec %pcap%", msg: `arguments of "exec"`, offset: 5},
		{name: "command", tmpl: "command -p %pcap%", msg: `arguments of "command"`, offset: 11},
		{name: "time", tmpl: "time -p %pcap%", msg: `arguments of "time"`, offset: 8},
		{name: "source", tmpl: ". %pcap%", msg: `arguments of "."`, offset: 2},
		{name: "trap", tmpl: "trap %pcap% EXIT", msg: `arguments of "trap"`, offset: 5},
		{name: "let", tmpl: "let x=%pcap%", msg: `arguments of "let"`, offset: 6},
		{name: "backquotes", tmpl: "echo `echo %pcap%`", msg: "inside backquotes", offset: 11},
		{name: "parameter expansion", tmpl: "echo ${x:-%pcap%}", msg: "inside ${...}", offset: 10},
		{name: "substring", tmpl: `echo "${x:%pcap%}"`, msg: "inside ${...}", offset: 10},
		{name: "arithmetic expansion", tmpl: "echo $((%pcap% + 1))", msg: "inside $((...))", offset: 8},
		{name: "arithmetic command", tmpl: "(( %pcap% > 1 ))", msg: "inside $((...))", offset: 3},
		{name: "arithmetic for", tmpl: "for ((i=0; i<%pcap%; i++)); do :; done", msg: "inside $((...))", offset: 13},
		{name: "old arithmetic", tmpl: "echo $[%pcap%+1]", msg: "inside $((...))", offset: 7},
		{name: "function body", tmpl: "function f { %pcap%; }", msg: "command position", offset: 13},
		{name: "posix function body", tmpl: "f() { %pcap%; }", msg: "command position", offset: 6},
		{name: "coproc", tmpl: "coproc %pcap%", msg: `arguments of "coproc"`, offset: 7},
		{name: "alias", tmpl: "alias x=%pcap%", msg: `arguments of "alias"`, offset: 8},
		{name: "export name", tmpl: "export %pcap%", msg: `arguments of "export", where a value could name a variable`, offset: 7},
		{name: "export quoted assignment", tmpl: `export "A=%pcap%"`, msg: `arguments of "export"`, offset: 10},
		{name: "export second word", tmpl: "export A=1 %pcap%", msg: `arguments of "export"`, offset: 11},
		{name: "export substitution", tmpl: "export $(echo %pcap%)", msg: `arguments of "export"`, offset: 14},
		{name: "export name part", tmpl: "export A%pcap%=1", msg: `arguments of "export"`, offset: 8},
		{name: "readonly", tmpl: "readonly %pcap%", msg: `arguments of "readonly"`, offset: 9},
		{name: "local", tmpl: "f() { local %pcap%; }", msg: `arguments of "local"`, offset: 12},
		{name: "set --", tmpl: "set -- %pcap%; gzip \"$@\"", msg: "positional parameters", offset: 4},
		{name: "set value", tmpl: "set %pcap%", msg: "positional parameters", offset: 4},
		{name: "set after option name", tmpl: "set -o errexit x; echo %pcap%", msg: "positional parameters", offset: 15},
		{name: "set later", tmpl: "echo %pcap%; set -e x", msg: "positional parameters", offset: 20},
		{name: "shift", tmpl: "shift; echo %pcap%", msg: "positional parameters", offset: 0},
		{name: "shift later", tmpl: "echo %pcap% && shift", msg: "positional parameters", offset: 15},
		{name: "double brackets", tmpl: "[[ %pcap% -eq 1 ]]", msg: "inside [[ ]]", offset: 3},
		{name: "backslash", tmpl: `echo \%pcap% > f`, msg: "backslash before placeholder", offset: 5},
		{name: "backslash argv", tmpl: `echo \%pcap%`, msg: "backslash before placeholder", offset: 5},
		{name: "backslash in double quotes", tmpl: `echo "\%pcap%"`, msg: "backslash before placeholder", offset: 6},
		{name: "dollar", tmpl: "echo $%pcap%", msg: "$ before placeholder", offset: 5},
		{name: "dollar in double quotes", tmpl: `echo "$%pcap%"`, msg: "$ before placeholder", offset: 6},
		{name: "here-document", tmpl: "cat <<EOF > f\n%pcap%\nEOF", msg: "here-documents", offset: 4},
		{name: "only a comment", tmpl: "# %pcap%", msg: "no command", offset: -1},
		{name: "only an assignment", tmpl: "A=%pcap%", msg: "no command", offset: -1},
		{name: "NUL", tmpl: "echo a\x00", msg: "NUL byte", offset: 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			allowed := tt.allowed
			if allowed == nil {
				allowed = tmplTestNames
			}
			tp, err := Parse(tt.tmpl, allowed)
			if err == nil {
				t.Fatalf("Parse(%q) = %+v, want an error", tt.tmpl, tp.Render(nil))
			}
			var te *Error
			if !errors.As(err, &te) {
				t.Fatalf("error %v is a %T, want *Error", err, err)
			}
			if !strings.Contains(te.Msg, tt.msg) || te.Offset != tt.offset || te.Template != tt.tmpl {
				t.Errorf("error = %+v, want message containing %q at offset %d", te, tt.msg, tt.offset)
			}
			if !strings.Contains(err.Error(), fmt.Sprintf("%q", tt.tmpl)) {
				t.Errorf("Error() = %q does not name the template", err)
			}
		})
	}
}

func TestTemplateInvalidAllowedName(t *testing.T) {
	for _, name := range []string{"", "Pcap", "a-b", "a%", "é"} {
		if _, err := Parse("echo", []string{"pcap", name}); err == nil {
			t.Errorf("allowed name %q accepted", name)
		}
	}
}

func TestTemplateNames(t *testing.T) {
	tp := mustParse(t, "cmd %b% '%a%' %b% --x=%callid%")
	if got, want := tp.Names(), []string{"b", "a", "callid"}; !slices.Equal(got, want) {
		t.Fatalf("Names() = %q, want %q", got, want)
	}
	tp.Names()[0] = "changed"
	if tp.Names()[0] != "b" {
		t.Errorf("Names() returned the template's own slice")
	}
	if names := mustParse(t, "cmd x").Names(); len(names) != 0 {
		t.Errorf("Names() = %q for a template without placeholders", names)
	}
	if got := mustParse(t, "cmd %a% %b%").Render(nil).Argv; !slices.Equal(got, []string{"cmd", "", ""}) {
		t.Errorf("Render(nil) = %q, want empty values", got)
	}
}

func TestTemplateConcurrentRender(t *testing.T) {
	argvT := mustParse(t, "cmd --id=%callid% '%caller%'")
	shT := mustParse(t, "cmd %callid% '%caller%' >> f")
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 200 {
				v := fmt.Sprintf("v%d-%d", i, j)
				val := func(string) string { return v }
				if got := argvT.Render(val).Argv; !slices.Equal(got, []string{"cmd", "--id=" + v, v}) {
					t.Errorf("argv Render = %q", got)
					return
				}
				if got := shT.Render(val); !slices.Equal(got.Params, []string{v, v}) || got.Script != `cmd "${1}" ''"${2}"'' >> f` {
					t.Errorf("shell Render = %+v", got)
					return
				}
			}
		})
	}
	wg.Wait()
}
