package script

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lc-voip/lc/internal/script/template"
)

// The tests in this file run rendered templates for real: argv templates
// directly, shell templates through /bin/sh (and bash, when installed),
// with a probe script as the command that records the exact argv it got.
//
// Starting processes is what costs, so the cases of a group (one shape
// under one shell) run in sequence from one driver script, each in a
// fresh working directory, its stdout, stderr and exit status going to
// logs outside that directory. An argv case is its own execve of the
// rendered argv. A shell case is what /bin/sh -c SCRIPT lc-hook VALUE...
// does, without starting a shell per case: in a subshell of the group's
// shell, the values become the positional parameters (set --) and the
// rendered script is parsed and run (eval) by that shell, with the probe
// as a shell function. The values reach the shell's parser exactly as
// lc's values do: only as parameters, never in the script's text. What
// each case should produce is computed from the raw value, so a quoting
// mistake in the driver fails the comparison rather than hiding an
// injection.

const (
	tmplProbeOut   = "probe.out" // the probe's record, in the case directory
	tmplProbeRedir = "out.txt"   // what OUT stands for in the templates
	tmplMarker     = "MARKER"    // what a successful injection would create
)

// tmplProbeFunc is the name of the probe as a shell function, for shell
// cases; tmplProbeBody is its body.
const (
	tmplProbeFunc = "lcprobe"
	tmplProbeBody = `: "${LC_PROBE_OUT:?is not set}"
printf '%s\0' "$#" "$@" >>"$LC_PROBE_OUT" || exit 2
echo ok
`
)

// tmplProbeScript is the probe. It appends one record to $LC_PROBE_OUT:
// the argument count (after $0), then each argument, each followed by a
// NUL byte, which an argument cannot hold. Then it prints "ok".
const tmplProbeScript = "#!/bin/sh\n" + tmplProbeBody

// tmplWriteProbe writes the probe into a temporary directory and returns
// its path. A shell writes the file, not the test binary: a process forked
// by a parallel test while the binary held the file open for writing
// would keep it open, and executing the probe would then fail with "text
// file busy".
func tmplWriteProbe(tb testing.TB) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "lcprobe")
	cmd := exec.Command("/bin/sh", "-c", `printf '%s' "$2" >"$1" && chmod 755 "$1"`, "sh", path, tmplProbeScript)
	if b, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("write probe: %v\n%s", err, b)
	}
	return path
}

var tmplSafeWord = regexp.MustCompile(`^[A-Za-z0-9/._+-]+$`)

// tmplQuoteWord quotes s as one literal template word.
func tmplQuoteWord(s string) string {
	if !tmplSafeWord.MatchString(s) {
		s = "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
	}
	return strings.ReplaceAll(s, "%", "%%")
}

// tmplShQuote quotes s as one word for the driver's shell.
func tmplShQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
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

// tmplCase is one execution, in dir with nothing else in it: argv run
// directly, or, when script is set, script run by the group's shell as
// sh -c would run it with argv as its positional parameters.
type tmplCase struct {
	argv   []string
	script string
	dir    string
}

// tmplProbeRun is what one execution left behind.
type tmplProbeRun struct {
	records        [][]string // one per probe execution
	stdout, stderr string
	out            string   // content of OUT, if any
	files          []string // names in the case directory
	err            string   // how the execution failed, if it did
}

// tmplDriverScript returns a driver script that runs the cases in
// sequence. A case is a simple command with an absolute path as its
// program, which the driver's shell executes directly, with no descriptor
// other than 0, 1 and 2. Its stdout and stderr go to the logs "stdout"
// and "stderr", each followed by sep, and its exit status to the list
// "status", one a line. Its environment is what exec.Cmd would set: PATH,
// from the driver, and LC_PROBE_OUT; cd exports PWD and OLDPWD, so they
// are unset again.
func tmplDriverScript(cases []tmplCase, sep string) string {
	var b strings.Builder
	b.WriteString("exec 3>stdout 4>stderr 5>status\n")
	fmt.Fprintf(&b, "%s() {\n%s}\n", tmplProbeFunc, tmplProbeBody)
	for _, c := range cases {
		if c.script != "" {
			tmplEvalCase(&b, c)
			b.WriteString(" </dev/null >&3 2>&4 3>&- 4>&- 5>&-\n")
		} else {
			fmt.Fprintf(&b, "cd %s && unset PWD OLDPWD && LC_PROBE_OUT=%s",
				tmplShQuote(c.dir), tmplShQuote(filepath.Join(c.dir, tmplProbeOut)))
			for _, a := range c.argv {
				b.WriteString(" ")
				b.WriteString(tmplShQuote(a))
			}
			b.WriteString(" </dev/null >&3 2>&4 3>&- 4>&- 5>&-\n")
		}
		fmt.Fprintf(&b, "echo \"$?\" >&5; printf %%s %s >&3; printf %%s %s >&4\n", tmplShQuote(sep), tmplShQuote(sep))
	}
	return b.String()
}

// tmplEvalCase writes the command of a shell case: a command group that
// goes to the case's directory, exports LC_PROBE_OUT as the only variable
// lc would not set, makes argv the positional parameters and evaluates
// the script. It runs in the driver's shell itself, not in a subshell:
// forking one per case would cost more than the rest of the test, and
// what a rendered script can change there (its variables, the directory)
// the next case sets again.
func tmplEvalCase(b *strings.Builder, c tmplCase) {
	fmt.Fprintf(b, "{ cd %s && unset PWD OLDPWD && LC_PROBE_OUT=%s && export LC_PROBE_OUT && set --",
		tmplShQuote(c.dir), tmplShQuote(filepath.Join(c.dir, tmplProbeOut)))
	for _, a := range c.argv {
		b.WriteString(" ")
		b.WriteString(tmplShQuote(a))
	}
	fmt.Fprintf(b, " && eval %s; }", tmplShQuote(c.script))
}

// tmplRunCases runs the cases in sequence from one driver script, run by
// shell, and returns what each left behind, in the order of cases.
func tmplRunCases(tb testing.TB, shell string, cases []tmplCase) []tmplProbeRun {
	tb.Helper()
	for _, c := range cases {
		if c.script == "" && !filepath.IsAbs(c.argv[0]) {
			tb.Fatalf("program %q: the driver would look it up", c.argv[0])
		}
	}
	// The separator is random so that no output can fake it.
	sep := "\n-- end of case " + rand.Text() + " --\n"
	res := tb.TempDir()
	driver := filepath.Join(res, "driver.sh")
	if err := os.WriteFile(driver, []byte(tmplDriverScript(cases, sep)), 0o600); err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(tb.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, shell, driver)
	cmd.Dir = res
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	cmd.WaitDelay = time.Second
	if out, err := cmd.CombinedOutput(); err != nil || len(out) > 0 {
		tb.Fatalf("driver %s: %v\n%s", driver, err, out)
	}
	stdouts := tmplSplitLog(tb, filepath.Join(res, "stdout"), sep, len(cases))
	stderrs := tmplSplitLog(tb, filepath.Join(res, "stderr"), sep, len(cases))
	statuses := tmplSplitLog(tb, filepath.Join(res, "status"), "\n", len(cases))
	runs := make([]tmplProbeRun, len(cases))
	for i, c := range cases {
		runs[i] = tmplCollect(tb, c.dir)
		runs[i].stdout, runs[i].stderr = stdouts[i], stderrs[i]
		if statuses[i] != "0" {
			runs[i].err = "exit status " + statuses[i]
		}
	}
	return runs
}

// tmplSplitLog reads the driver's log at path and returns the n parts of
// it that each end with sep, without sep.
func tmplSplitLog(tb testing.TB, path, sep string, n int) []string {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	parts := strings.Split(string(b), sep)
	if len(parts) != n+1 || parts[n] != "" {
		tb.Fatalf("%s: %d cases ended, want %d:\n%q", path, len(parts)-1, n, b)
	}
	return parts[:n]
}

// tmplReadOptional returns the content of the file at path, or "" when
// there is no such file.
func tmplReadOptional(tb testing.TB, path string) string {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		tb.Fatal(err)
	}
	return string(b)
}

// tmplCollect gathers what the case run in dir left there: the probe's
// records, OUT and the names of all files.
func tmplCollect(tb testing.TB, dir string) tmplProbeRun {
	tb.Helper()
	run := tmplProbeRun{out: tmplReadOptional(tb, filepath.Join(dir, tmplProbeRedir))}
	data := tmplReadOptional(tb, filepath.Join(dir, tmplProbeOut))
	records, err := tmplParseRecords(data)
	if err != nil {
		tb.Errorf("%s: %v", dir, err)
	}
	run.records = records
	entries, err := os.ReadDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	for _, e := range entries {
		run.files = append(run.files, e.Name())
	}
	return run
}

// tmplParseRecords splits what the probe wrote into records: each is an
// argument count, then that many arguments, every field ended by a NUL.
func tmplParseRecords(data string) ([][]string, error) {
	fields := strings.Split(data, "\x00")
	if fields[len(fields)-1] != "" {
		return nil, fmt.Errorf("bad probe record %q: no final NUL", data)
	}
	fields = fields[:len(fields)-1]
	var records [][]string
	for len(fields) > 0 {
		n, err := strconv.Atoi(fields[0])
		if err != nil || n < 0 || n > len(fields)-1 {
			return nil, fmt.Errorf("bad probe record %q", data)
		}
		records = append(records, slices.Clone(fields[1:1+n:1+n]))
		fields = fields[1+n:]
	}
	return records, nil
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

// tmplInjCase is one hostile value in one shape, under one shell for a
// shell template, with what its execution must leave behind.
type tmplInjCase struct {
	tmplCase
	raw        string     // the value, before Render removes NULs
	marker     string     // what an injection would create
	script     string     // the rendered script, for messages
	want       [][]string // the probe records
	wantOut    string     // the content of OUT
	wantStdout string
}

// tmplInjectionCase renders the hostile value number i with shape, parsed
// as tp, for a run in dir under the shell sh ("" for an argv template).
// plain is the script rendered with harmless values.
func tmplInjectionCase(tb testing.TB, shape tmplInjectionShape, tp *template.Template, plain, sh, dir string, i int) tmplInjCase {
	tb.Helper()
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
	run := tmplCase{argv: cmd.Argv, dir: dir}
	if shape.shell {
		if cmd.Script != plain {
			tb.Errorf("value %q changed the script: %q, with x: %q", raw, cmd.Script, plain)
		}
		if len(cmd.Argv) < 4 || !slices.Equal(cmd.Argv[:2], []string{"/bin/sh", "-c"}) || cmd.Argv[2] != cmd.Script {
			tb.Fatalf("shell command %q: want /bin/sh -c SCRIPT NAME VALUE...", cmd.Argv)
		}
		run = tmplCase{argv: cmd.Argv[4:], script: cmd.Script, dir: dir}
	}
	c := tmplInjCase{tmplCase: run, raw: raw, marker: marker, script: cmd.Script, want: shape.want(clean)}
	c.wantStdout = "ok\n"
	if shape.out {
		c.wantOut, c.wantStdout = strings.Repeat("ok\n", len(c.want)), ""
	}
	return c
}

// tmplCheckInjection returns what is wrong with run, the execution of c.
func tmplCheckInjection(c tmplInjCase, run tmplProbeRun) []string {
	var errs []string
	if run.err != "" {
		errs = append(errs, fmt.Sprintf("run %q: %s", c.argv, run.err))
	}
	if !slices.EqualFunc(run.records, c.want, slices.Equal) {
		errs = append(errs, fmt.Sprintf("value %q: probe got %q, want %q (script %q)", c.raw, run.records, c.want, c.script))
	}
	if run.out != c.wantOut || run.stdout != c.wantStdout || run.stderr != "" {
		errs = append(errs, fmt.Sprintf("value %q: OUT %q, stdout %q, stderr %q; want OUT %q, stdout %q", c.raw, run.out, run.stdout, run.stderr, c.wantOut, c.wantStdout))
	}
	for _, f := range run.files {
		if f != tmplProbeOut && f != tmplProbeRedir {
			errs = append(errs, fmt.Sprintf("value %q: unexpected file %q in the working directory (injection?)", c.raw, f))
		}
	}
	if _, err := os.Stat(c.marker); err == nil {
		errs = append(errs, fmt.Sprintf("value %q: %s exists: injection", c.raw, c.marker))
	}
	return errs
}

// tmplCaseDirs creates n empty case directories and returns their paths.
func tmplCaseDirs(tb testing.TB, n int) []string {
	tb.Helper()
	base := tb.TempDir()
	dirs := make([]string, n)
	for i := range dirs {
		dirs[i] = filepath.Join(base, strconv.Itoa(i))
		if err := os.Mkdir(dirs[i], 0o700); err != nil {
			tb.Fatal(err)
		}
	}
	return dirs
}

// tmplRunInjectionGroup runs every hostile value through shape, parsed as
// tp, under the shell sh ("" for an argv template), and reports what is
// wrong.
func tmplRunInjectionGroup(t *testing.T, shape tmplInjectionShape, tp *template.Template, sh string) {
	plain := tp.Render(func(string) string { return "x" }).Script
	dirs := tmplCaseDirs(t, len(tmplHostileValues("/m")))
	cases := make([]tmplInjCase, len(dirs))
	toRun := make([]tmplCase, len(dirs))
	for i, dir := range dirs {
		cases[i] = tmplInjectionCase(t, shape, tp, plain, sh, dir, i)
		toRun[i] = cases[i].tmplCase
	}
	shell := sh
	if shell == "" {
		shell = "/bin/sh"
	}
	for i, run := range tmplRunCases(t, shell, toRun) {
		for _, e := range tmplCheckInjection(cases[i], run) {
			t.Error(e)
		}
	}
}

// TestTemplateInjection runs every hostile value through every shape, in
// argv and shell mode (and under every shell available), and checks that
// the probe got exactly the expected argv and that nothing else ran.
func TestTemplateInjection(t *testing.T) {
	probe := tmplWriteProbe(t)
	shells := tmplShells()
	nValues := len(tmplHostileValues("/m"))
	runs := 0
	for _, shape := range tmplInjectionShapes {
		program := tmplQuoteWord(probe)
		if shape.shell {
			program = tmplProbeFunc
		}
		tmpl := strings.NewReplacer("PROBE", program, "OUT", tmplProbeRedir).Replace(shape.tmpl)
		tp, err := template.Parse(tmpl, tmplInjectionNames)
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
			runs += nValues
			name := shape.name + "/argv"
			if sh != "" {
				name = shape.name + "/" + filepath.Base(sh)
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				tmplRunInjectionGroup(t, shape, tp, sh)
			})
		}
	}
	t.Logf("%d injection cases (%d values, %d shapes, shells %q)", runs, nValues, len(tmplInjectionShapes), shells)
}

// tmplSpliceInjects runs the hostile values number from to to-1, spliced
// into a script by splice, and reports whether the checks of
// TestTemplateInjection saw an injection in any of them.
func tmplSpliceInjects(tb testing.TB, splice func(v string) string, from, to int) bool {
	tb.Helper()
	var cases []tmplInjCase
	var toRun []tmplCase
	for i, dir := range tmplCaseDirs(tb, to-from) {
		marker := filepath.Join(dir, tmplMarker)
		v := tmplHostileValues(marker)[from+i]
		if strings.Contains(v, "\x00") {
			continue // an argument cannot hold a NUL
		}
		c := tmplCase{script: splice(v), dir: dir}
		cases = append(cases, tmplInjCase{tmplCase: c, raw: v, marker: marker, script: splice(v), want: tmplOne(v), wantStdout: "ok\n"})
		toRun = append(toRun, c)
	}
	for i, run := range tmplRunCases(tb, "/bin/sh", toRun) {
		if slices.ContainsFunc(tmplCheckInjection(cases[i], run), func(e string) bool { return strings.HasSuffix(e, ": injection") }) {
			return true
		}
	}
	return false
}

// TestTemplateInjectionControl checks that the injection test can see an
// injection: splicing a value into a script, as lc must never do, must
// make the checks of TestTemplateInjection report one. The values run a
// batch at a time, until one injects.
func TestTemplateInjectionControl(t *testing.T) {
	const batch = 16
	probe := tmplProbeFunc
	splices := []func(v string) string{
		func(v string) string { return probe + " " + v },
		func(v string) string { return probe + " '" + v + "'" },
		func(v string) string { return probe + ` "` + v + `"` },
	}
	nValues := len(tmplHostileValues("/m"))
	for si, splice := range splices {
		t.Run(strconv.Itoa(si), func(t *testing.T) {
			t.Parallel()
			for from := 0; from < nValues; from += batch {
				if tmplSpliceInjects(t, splice, from, min(from+batch, nValues)) {
					return
				}
			}
			t.Errorf("no hostile value injected into %q: the corpus is too weak", splice("VALUE"))
		})
	}
}

// tmplArgvShellCases returns the cases for one argv template text of
// TestTemplateArgvMatchesShell: every value run directly, then every value
// under each shell, with "; :" appended to make it a shell template.
func tmplArgvShellCases(tb testing.TB, text string, values, shells []string) []tmplCase {
	tb.Helper()
	argvT, err := template.Parse(text, []string{"v", "w"})
	if err != nil {
		tb.Fatalf("%q: %v", text, err)
	}
	shT, err := template.Parse(text+" ; :", []string{"v", "w"})
	if err != nil {
		tb.Fatalf("%q: %v", text+" ; :", err)
	}
	if argvT.Shell() || !shT.Shell() {
		tb.Fatalf("%q: Shell() = %v and %v with \"; :\"", text, argvT.Shell(), shT.Shell())
	}
	dirs := tmplCaseDirs(tb, len(values)*(1+len(shells)))
	var cases []tmplCase
	for _, v := range values {
		val := func(n string) string { return n + v }
		cases = append(cases, tmplCase{argv: argvT.Render(val).Argv, dir: dirs[len(cases)]})
	}
	for _, sh := range shells {
		for _, v := range values {
			val := func(n string) string { return n + v }
			argv := shT.Render(val).Argv
			cases = append(cases, tmplCase{argv: append([]string{sh}, argv[1:]...), dir: dirs[len(cases)]})
		}
	}
	return cases
}

// TestTemplateArgvMatchesShell runs argv templates both directly and, with
// "; :" appended so that they become shell templates, through the real
// shells: both must give the probe the same argv. This checks the argv
// splitting and quoting against the shell itself.
func TestTemplateArgvMatchesShell(t *testing.T) {
	probe := tmplQuoteWord(tmplWriteProbe(t))
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
		t.Run(strconv.Itoa(ti), func(t *testing.T) {
			t.Parallel()
			cases := tmplArgvShellCases(t, text, values, shells)
			runs := tmplRunCases(t, "/bin/sh", cases)
			for i, run := range runs {
				if run.err != "" {
					t.Errorf("run %q: %s", cases[i].argv, run.err)
				}
			}
			for vi, v := range values {
				direct, argv := runs[vi], cases[vi].argv
				if len(direct.records) != 1 || !slices.Equal(direct.records[0], argv[1:]) {
					t.Errorf("direct run of %q recorded %q", argv, direct.records)
					continue
				}
				for si, sh := range shells {
					k := (1+si)*len(values) + vi
					if viaShell := runs[k]; !slices.EqualFunc(viaShell.records, direct.records, slices.Equal) {
						t.Errorf("template %q, v=%q: argv mode gives %q, %s gives %q (script %q)", text, v, direct.records, sh, viaShell.records, cases[k].argv[2])
					}
				}
			}
		})
	}
}
