package script

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// The tests in this file run rendered templates for real: argv templates
// directly, shell templates through /bin/sh (and bash, when installed),
// with a probe program as the command that records the exact argv it got.

const (
	tmplProbeOut   = "probe.out" // the probe's record, in the case directory
	tmplProbeRedir = "out.txt"   // what OUT stands for in the templates
	tmplMarker     = "MARKER"    // what a successful injection would create
)

// tmplBuildProbe builds testdata/probe into a temporary directory and
// returns the program's path.
func tmplBuildProbe(tb testing.TB) string {
	tb.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		tb.Skipf("go tool not found: %v", err)
	}
	out := filepath.Join(tb.TempDir(), "lcprobe")
	cmd := exec.Command(goTool, "build", "-o", out, "./testdata/probe")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("build probe: %v\n%s", err, b)
	}
	return out
}

var tmplSafeWord = regexp.MustCompile(`^[A-Za-z0-9/._+-]+$`)

// tmplQuoteWord quotes s as one literal template word.
func tmplQuoteWord(s string) string {
	if !tmplSafeWord.MatchString(s) {
		s = "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
	}
	return strings.ReplaceAll(s, "%", "%%")
}

// tmplShells returns the shells to run shell templates with: /bin/sh, as
// rendered, and bash when it is installed and is not /bin/sh.
func tmplShells() []string {
	shells := []string{"/bin/sh"}
	sh, _ := filepath.EvalSymlinks("/bin/sh")
	if bash, err := exec.LookPath("bash"); err == nil {
		if b, _ := filepath.EvalSymlinks(bash); b != sh {
			shells = append(shells, bash)
		}
	}
	return shells
}

// tmplProbeRun is what one execution left behind.
type tmplProbeRun struct {
	records        [][]string // one per probe execution
	stdout, stderr string
	out            string   // content of OUT, if any
	files          []string // names in the case directory
}

// tmplRunProbe executes argv in dir, without a shell of its own, and
// collects what the probe recorded.
func tmplRunProbe(tb testing.TB, argv []string, dir string) tmplProbeRun {
	tb.Helper()
	ctx, cancel := context.WithTimeout(tb.Context(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "LC_PROBE_OUT=" + filepath.Join(dir, tmplProbeOut)}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		tb.Errorf("run %q: %v", argv, err)
	}
	run := tmplProbeRun{stdout: stdout.String(), stderr: stderr.String()}
	data, err := os.ReadFile(filepath.Join(dir, tmplProbeOut))
	if err != nil && !os.IsNotExist(err) {
		tb.Fatal(err)
	}
	for len(data) > 0 {
		argc, n := binary.Uvarint(data)
		if n <= 0 {
			tb.Fatalf("bad probe record %q", data)
		}
		data = data[n:]
		rec := []string{}
		for range argc {
			l, n := binary.Uvarint(data)
			if n <= 0 || uint64(len(data)-n) < l {
				tb.Fatalf("bad probe record %q", data)
			}
			rec = append(rec, string(data[n:n+int(l)]))
			data = data[n+int(l):]
		}
		run.records = append(run.records, rec)
	}
	if b, err := os.ReadFile(filepath.Join(dir, tmplProbeRedir)); err == nil {
		run.out = string(b)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	for _, e := range entries {
		run.files = append(run.files, e.Name())
	}
	return run
}

// tmplHostileValues returns the values an attacker might put in a Call-ID,
// From or To. marker is the absolute path that a successful injection
// would create.
func tmplHostileValues(marker string) []string {
	m := marker
	return []string{
		"; touch " + m,
		"$(touch " + m + ")",
		"`touch " + m + "`",
		"| touch " + m,
		"&& touch " + m,
		"|| touch " + m,
		"& touch " + m,
		"' ; touch " + m + " ; '",
		`" ; touch ` + m + ` ; "`,
		`'"$(touch ` + m + `)"'`,
		`"'"'"; touch ` + m + `; "'"'"`,
		`\"; touch ` + m + `; \"`,
		"\n touch " + m,
		"x\ntouch " + m + "\n",
		"${IFS}touch${IFS}" + m,
		"a[$(touch " + m + ")]",
		"$IFS", "$HOME", "$1", "$@", "$*", "$0", "${1}", "$$", "$((1+1))", "${PATH:0:1}", "$'\\x41'",
		`\`, `\\'`, `\\`, `\n`, "x\\\ny",
		"*", "?", "[a]", "/*", "~", "~root", "~/x",
		"a\nb", "\r\n", "a\x00b", "\x00", "\x00\x00; touch " + m,
		"-rf", "--help", "-", "--", "-n", "-e",
		"../../etc/passwd",
		strings.Repeat("A", 5<<10),
		strings.Repeat(`'"$(touch `+m+")`;|\\\n", 5<<10/(len(m)+20)),
		"\xff\xfe", "\xc3\x28", "\xed\xa0\x80",
		"%called%", "%%", "%", "%v%", "%w%", "%p1%",
		"#comment", "# ; touch " + m,
		">" + m, ">>" + m, "<" + m, "<", "2>&1", "&>" + m,
		"!", "!!", "!-1", "{a,b}", "{,touch," + m + "}",
		"héllo wörld ☎ 📞", "\u202etxt.exe", "\ufeff",
		"", " ", "   ", "\t", " \t\n ",
		"'", `"`, "''", `""`, `"'"'"`, "`",
		"a b c", "(", ")", "$(", "${", ";", "&&",
		"a=b", "IFS=x", "PATH=/nonexistent",
		"sip:alice@example.com;tag=1", `"Alice" <sip:alice@example.com>;tag=x`,
	}
}

// tmplInjectionShape is a template with PROBE (the probe program), OUT (a
// file in the case directory) and placeholders %v%, %w% or %p0%..%p10%.
type tmplInjectionShape struct {
	name  string
	tmpl  string
	shell bool
	out   bool // the probe's stdout goes to OUT rather than the command's
	// want returns the expected probe records, given the (NUL-free) value
	// of each placeholder.
	want func(val func(string) string) [][]string
}

func tmplOne(args ...string) [][]string { return [][]string{args} }

var tmplInjectionShapes = []tmplInjectionShape{
	{name: "bare", tmpl: "PROBE %v%", want: func(v func(string) string) [][]string { return tmplOne(v("v")) }},
	{name: "single", tmpl: "PROBE '%v%'", want: func(v func(string) string) [][]string { return tmplOne(v("v")) }},
	{name: "double", tmpl: `PROBE "%v%"`, want: func(v func(string) string) [][]string { return tmplOne(v("v")) }},
	{name: "adjacent", tmpl: "PROBE x%v%y", want: func(v func(string) string) [][]string { return tmplOne("x" + v("v") + "y") }},
	{name: "option and twice", tmpl: "PROBE --a=%v% %v%", want: func(v func(string) string) [][]string { return tmplOne("--a="+v("v"), v("v")) }},
	{name: "mixed quoting", tmpl: `PROBE 'a'%v%"b"\ c %w%%v%`, want: func(v func(string) string) [][]string { return tmplOne("a"+v("v")+"b c", v("w")+v("v")) }},
	{name: "empty neighbours", tmpl: `PROBE "" %v% '' "%w%"`, want: func(v func(string) string) [][]string { return tmplOne("", v("v"), "", v("w")) }},

	{name: "sh bare", tmpl: "PROBE %v% >> OUT", shell: true, out: true, want: func(v func(string) string) [][]string { return tmplOne(v("v")) }},
	{name: "sh single pipe", tmpl: "PROBE '%v%' | cat >> OUT", shell: true, out: true, want: func(v func(string) string) [][]string { return tmplOne(v("v")) }},
	{name: "sh double", tmpl: `PROBE "%v%"; true`, shell: true, want: func(v func(string) string) [][]string { return tmplOne(v("v")) }},
	{name: "sh pre post", tmpl: `PROBE "pre-%v%-post" && true`, shell: true, want: func(v func(string) string) [][]string { return tmplOne("pre-" + v("v") + "-post") }},
	{name: "sh adjacent", tmpl: `PROBE x%v%y 'a%v%b'"c%w%d" > OUT`, shell: true, out: true, want: func(v func(string) string) [][]string {
		return tmplOne("x"+v("v")+"y", "a"+v("v")+"bc"+v("w")+"d")
	}},
	{name: "sh command substitution", tmpl: `PROBE "$(printf '%s' %v%)" >> OUT`, shell: true, out: true, want: func(v func(string) string) [][]string {
		return tmplOne(strings.TrimRight(v("v"), "\n"))
	}},
	{name: "sh stdin", tmpl: `printf '%s\n' "%v%" | PROBE "$(cat)" >> OUT`, shell: true, out: true, want: func(v func(string) string) [][]string {
		return tmplOne(strings.TrimRight(v("v"), "\n"))
	}},
	{name: "sh variable", tmpl: `V=%v%; PROBE "$V" "${V}x" >> OUT`, shell: true, out: true, want: func(v func(string) string) [][]string { return tmplOne(v("v"), v("v")+"x") }},
	{name: "sh group comment", tmpl: "{ PROBE %v%; } 2>&1 >> OUT # it's %w%", shell: true, out: true, want: func(v func(string) string) [][]string { return tmplOne(v("v")) }},
	{name: "sh loop", tmpl: `for a in %v% '%w%'; do PROBE "$a" x%v%; done >> OUT`, shell: true, out: true, want: func(v func(string) string) [][]string {
		return [][]string{{v("v"), "x" + v("v")}, {v("w"), "x" + v("v")}}
	}},
	{name: "sh if", tmpl: "if true; then\n  PROBE \\\n   %w% \"%v%\"\nelse false; fi >> OUT", shell: true, out: true, want: func(v func(string) string) [][]string { return tmplOne(v("w"), v("v")) }},
	{name: "sh eleven", tmpl: "PROBE %p0% %p1% %p2% %p3% %p4% %p5% %p6% %p7% %p8% %p9% \"%p10%\" '%p1%' | cat > OUT", shell: true, out: true, want: func(v func(string) string) [][]string {
		var args []string
		for i := range 11 {
			args = append(args, v(fmt.Sprintf("p%d", i)))
		}
		return tmplOne(append(args, v("p1"))...)
	}},
}

var tmplInjectionNames = []string{"v", "w", "p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8", "p9", "p10"}

// TestTemplateInjection runs every hostile value through every shape, in
// argv and shell mode (and under every shell available), and checks that
// the probe got exactly the expected argv and that nothing else ran.
func TestTemplateInjection(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns thousands of processes")
	}
	probe := tmplBuildProbe(t)
	shells := tmplShells()
	nValues := len(tmplHostileValues("/m"))
	runs := 0
	for _, shape := range tmplInjectionShapes {
		tmpl := strings.NewReplacer("PROBE", tmplQuoteWord(probe), "OUT", tmplProbeRedir).Replace(shape.tmpl)
		tp, err := ParseTemplate(tmpl, tmplInjectionNames)
		if err != nil {
			t.Fatalf("%s: %v", shape.name, err)
		}
		if tp.Shell() != shape.shell {
			t.Fatalf("%s: Shell() = %v, want %v", shape.name, tp.Shell(), shape.shell)
		}
		shellList := []string{""}
		if shape.shell {
			shellList = shells
		}
		for _, sh := range shellList {
			for i := range nValues {
				runs++
				name := fmt.Sprintf("%s/%s/%d", shape.name, filepath.Base(sh), i)
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					dir := t.TempDir()
					marker := filepath.Join(dir, tmplMarker)
					raw := tmplHostileValues(marker)[i]
					val := func(n string) string {
						if n == "v" {
							return raw
						}
						return n + ":" + raw
					}
					clean := func(n string) string { return strings.ReplaceAll(val(n), "\x00", "") }
					cmd := tp.Render(val)
					argv := cmd.Argv
					if shape.shell {
						if plain := tp.Render(func(string) string { return "x" }); cmd.Script != plain.Script {
							t.Fatalf("value %q changed the script: %q, with x: %q", raw, cmd.Script, plain.Script)
						}
						argv = append([]string{sh}, argv[1:]...)
					}
					run := tmplRunProbe(t, argv, dir)
					if want := shape.want(clean); !slices.EqualFunc(run.records, want, slices.Equal) {
						t.Errorf("value %q: probe got %q, want %q (script %q)", raw, run.records, want, cmd.Script)
					}
					wantOut, wantStdout := "", "ok\n"
					if shape.out {
						wantOut, wantStdout = strings.Repeat("ok\n", len(shape.want(clean))), ""
					}
					if run.out != wantOut || run.stdout != wantStdout || run.stderr != "" {
						t.Errorf("value %q: OUT %q, stdout %q, stderr %q; want OUT %q, stdout %q", raw, run.out, run.stdout, run.stderr, wantOut, wantStdout)
					}
					for _, f := range run.files {
						if f != tmplProbeOut && f != tmplProbeRedir {
							t.Errorf("value %q: unexpected file %q in the working directory (injection?)", raw, f)
						}
					}
					if _, err := os.Stat(marker); err == nil {
						t.Errorf("value %q: %s exists: injection", raw, marker)
					}
				})
			}
		}
	}
	t.Logf("%d injection cases (%d values, %d shapes, shells %q)", runs, nValues, len(tmplInjectionShapes), shells)
}

// TestTemplateInjectionControl checks that the injection test can see an
// injection: splicing a value into a script, as lc must never do, creates
// the marker.
func TestTemplateInjectionControl(t *testing.T) {
	probe := tmplBuildProbe(t)
	for _, tmplFor := range []func(v string) string{
		func(v string) string { return tmplQuoteWord(probe) + " " + v },
		func(v string) string { return tmplQuoteWord(probe) + " '" + v + "'" },
		func(v string) string { return tmplQuoteWord(probe) + ` "` + v + `"` },
	} {
		dir := t.TempDir()
		marker := filepath.Join(dir, tmplMarker)
		injected := false
		for _, v := range tmplHostileValues(marker) {
			if strings.Contains(v, "\x00") {
				continue
			}
			cmd := exec.Command("/bin/sh", "-c", tmplFor(v))
			cmd.Dir = dir
			cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "LC_PROBE_OUT=" + filepath.Join(dir, tmplProbeOut)}
			_ = cmd.Run() // many spliced values are syntax errors
			if _, err := os.Stat(marker); err == nil {
				injected = true
				break
			}
		}
		if !injected {
			t.Errorf("no hostile value injected into %q: the corpus is too weak", tmplFor("VALUE"))
		}
	}
}

// TestTemplateArgvMatchesShell runs argv templates both directly and, with
// "; :" appended so that they become shell templates, through the real
// shells: both must give the probe the same argv. This checks the argv
// splitting and quoting against the shell itself.
func TestTemplateArgvMatchesShell(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	probe := tmplQuoteWord(tmplBuildProbe(t))
	templates := []string{
		"PROBE %v%",
		`PROBE '' "" %v%'' x""`,
		`PROBE a\ b \; \| \$x \\ \' \" %v%\ %w%`,
		"PROBE \"\\\" \\\\ \\$ \\` \\a \\%%\" %v%",
		`PROBE 'a\b\' "%v%\q" '\'`,
		"PROBE a\\\nb%v% \"c\\\nd\"",
		`PROBE '|;&<>()$*?[]~{}#' "|;&<>()*?[]~{}#!" a#b%v% a=b %v%=%w%`,
		"PROBE 'a\nb' %v%",
		"PROBE\t%v%\t\tx  ",
		`PROBE 100%% %%v%% '%%'"%%"`,
		`PROBE x'%v%'"%w%"\ y`,
		`PROBE "it's" 'say "hi"' "%v%'%w%'" '%v%"%w%"'`,
		`PROBE --opt=%v% -- %w%`,
		`PROBE "%v%"'%v%'%v%`,
		`PROBE \%% a\%%b "\%%" '\%%'`,
	}
	values := []string{"", "plain", "a b", `'"\$x`, "$(touch x)", "*", "-n", "\n", "%w%", "\xff"}
	shells := tmplShells()
	for ti, text := range templates {
		text = strings.ReplaceAll(text, "PROBE", probe)
		argvT, err := ParseTemplate(text, []string{"v", "w"})
		if err != nil {
			t.Fatalf("%q: %v", text, err)
		}
		shT, err := ParseTemplate(text+" ; :", []string{"v", "w"})
		if err != nil {
			t.Fatalf("%q: %v", text+" ; :", err)
		}
		if argvT.Shell() || !shT.Shell() {
			t.Fatalf("%q: Shell() = %v and %v with \"; :\"", text, argvT.Shell(), shT.Shell())
		}
		for vi, v := range values {
			t.Run(fmt.Sprintf("%d/%d", ti, vi), func(t *testing.T) {
				t.Parallel()
				val := func(n string) string { return n + v }
				direct := tmplRunProbe(t, argvT.Render(val).Argv, t.TempDir())
				if len(direct.records) != 1 || !slices.Equal(direct.records[0], argvT.Render(val).Argv[1:]) {
					t.Fatalf("direct run of %q recorded %q", argvT.Render(val).Argv, direct.records)
				}
				for _, sh := range shells {
					argv := shT.Render(val).Argv
					viaShell := tmplRunProbe(t, append([]string{sh}, argv[1:]...), t.TempDir())
					if !slices.EqualFunc(viaShell.records, direct.records, slices.Equal) {
						t.Errorf("template %q, v=%q: argv mode gives %q, %s gives %q (script %q)", text, v, direct.records, sh, viaShell.records, argv[2])
					}
				}
			})
		}
	}
}
