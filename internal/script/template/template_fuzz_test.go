package template

import (
	"slices"
	"strconv"
	"strings"
	"testing"
)

// fuzzTemplateSeeds are the templates FuzzTemplate starts from.
var fuzzTemplateSeeds = []string{
	"gzip -9 %pcap%",
	"echo %pcap% >> /tmp/pcap-list.txt",
	"myscript '%callid%'",
	`myscript "%caller%"`,
	"echo %callid% %caller% >> /tmp/calls.txt",
	`cmd --file=%pcap% %a%%b% '' "x%a%y" 'p%b%q' a\ b \%% "\%%" 100%%`,
	"cmd a\\\nb\t%a%",
	`PROBE 'a'%a%"b"\ c %b%%a%`,
	"PROBE %a% >> OUT; PROBE '%a%' | cat; PROBE \"%a%\" && true",
	`V=%a%; PROBE "$V" "${V}x" "$(printf '%s' %a%)" >> OUT`,
	"{ PROBE %a%; } 2>&1 >> OUT # it's %b%",
	"for a in %a% '%b%'; do PROBE \"$a\"; done",
	"if true; then\n PROBE \\\n %b% \"%a%\"\nelse false; fi",
	"date +%s%N > f",
	"date +%s > f",
	"echo ${f%%.*} $((7 %% 3)) %a% > x",
	`echo $'a%a%\n' "$'x%b%'" > f`,
	"echo `date +%s` %a% > f",
	"case %a% in x) echo x;; esac",
	"echo \"$(case x in x) echo '%a%';; esac)\" > f",
	"2>&1 %a%",
	"eval \"%a%\"",
	"[[ %a% ]]",
	"cat <<EOF\n%a%\nEOF",
	"echo $%a% \\%a% \"$%a%\"",
	"%a% x",
	"'' x",
	"# %a%",
	"gzip -9 %files%",
	"cmd %a% %files% '%b%' %rtp% %files%",
	"cmd %files% %rtp% >> f",
	"for f in %files% %rtp%; do gzip \"$f\"; done",
	"echo \"$(ls %files%)\" %a% | cat",
	"cat %files%>out; case %a% in x) gzip %rtp%;; esac",
	"cmd '%files%' \"%rtp%\" x%files% %files%y",
	"case %files% in %rtp%) ;; esac",
	"cmd > %files%",
	"cmd %files%\\\nx",
	"true # %files%",
	"export A=%a% B=\"x%b%\"; set -eu -o pipefail; cmd %files%",
	"export %a%; set -- %files%; shift; alias x=%a%",
}

// fuzzTemplateValues are the values FuzzTemplate starts from.
var fuzzTemplateValues = []string{
	"", "x", "a b", "; touch /tmp/m", "$(touch /tmp/m)", "`id`", "' ; id ; '",
	`" ; id ; "`, `\`, "$1", "*", "~", "a\nb", "a\x00b", "-rf", "%a%", "%%", "%",
	"\xff\xfe", "${IFS}", `"'"'"`, "#", "\t", "\x00",
}

// FuzzTemplate parses fuzzed templates and renders them with a fuzzed
// value in every placeholder, and lists of n%5 copies of it in the list
// placeholders. Parsing must not panic; a parsed template must render the
// same shape whatever the value: in argv mode the same arguments with the
// same literal text and the value intact where the placeholders are, one
// argument per list element; in shell mode the same script, which depends
// only on the number of list elements, with the values only in the
// parameters.
func FuzzTemplate(f *testing.F) {
	seeds, values := fuzzTemplateSeeds, fuzzTemplateValues
	for i, s := range seeds {
		f.Add(s, values[i%len(values)], uint8(i))
	}
	for i, v := range values {
		f.Add(seeds[i%len(seeds)], v, uint8(i))
	}
	allowed := []string{"a", "b", "pcap", "callid", "caller", "files" + ListSuffix, "rtp" + ListSuffix}
	f.Fuzz(func(t *testing.T, tmpl, value string, n uint8) {
		tp, err := Parse(tmpl, allowed)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error %v is a %T", err, err)
			}
			return
		}
		if tp.String() != tmpl {
			t.Fatalf("String() = %q", tp.String())
		}
		for _, n := range tp.Names() {
			if !slices.Contains(allowed, n) && !slices.Contains(allowed, n+ListSuffix) {
				t.Fatalf("Names() has %q", n)
			}
		}
		tp.Render(nil)
		clean := strings.ReplaceAll(value, "\x00", "")
		k := int(n % 5)
		if clean == "" {
			k = 0 // empty elements are dropped
		}
		const mark = "\x01\x02\x03"
		v := tp.Render(fuzzValues(tp, value, k))
		x := tp.Render(fuzzValues(tp, "x", k))
		m := tp.Render(fuzzValues(tp, mark, k))
		// One argument, or one reference, per list element.
		var sizes [3]int
		for i := range sizes {
			c := tp.Render(fuzzValues(tp, "x", i))
			sizes[i] = len(c.Argv) + strings.Count(c.Script, "${")
		}
		xSize := len(x.Argv) + strings.Count(x.Script, "${")
		if sizes[2]-sizes[1] != sizes[1]-sizes[0] || xSize-sizes[0] != k*(sizes[1]-sizes[0]) {
			t.Fatalf("sizes %v and %d for %d elements", sizes, xSize, k)
		}
		if tp.Shell() {
			fuzzCheckShell(t, tp, v, x, m, clean)
			return
		}
		// The same words followed by "; :" are a shell template that must
		// parse the same way.
		if sh, err := Parse(tmpl+" ; :", allowed); err != nil || !sh.Shell() || !slices.Equal(sh.Names(), tp.Names()) {
			t.Fatalf("argv template %q: with \"; :\" err %v", tmpl, err)
		}
		fuzzCheckArgv(t, tp, v, x, m)
		if strings.Contains(tmpl, "\x01") {
			return // the marker could come from the template text
		}
		for i := range m.Argv {
			if want := strings.ReplaceAll(m.Argv[i], mark, clean); v.Argv[i] != want {
				t.Fatalf("argument %d = %q, want %q (template %q)", i, v.Argv[i], want, tmpl)
			}
		}
	})
}

// fuzzValues returns the value function that gives every scalar of tp the
// value v and every list k copies of it.
func fuzzValues(tp *Template, v string, k int) func(string) string {
	return func(name string) string {
		if tp.IsList(name) {
			return JoinList(slices.Repeat([]string{v}, k))
		}
		return v
	}
}

// fuzzCheckShell checks the rendering of a shell template with the value
// (v), with "x" (x) and with a marker (m), lists of the same length.
func fuzzCheckShell(t *testing.T, tp *Template, v, x, m Command, clean string) {
	t.Helper()
	if !v.Shell || v.Script != x.Script || v.Script != m.Script {
		t.Fatalf("the value changed the script:\nx:     %q\nvalue: %q", x.Script, v.Script)
	}
	if len(v.Params) != len(x.Params) {
		t.Fatalf("%d params, %d with x", len(v.Params), len(x.Params))
	}
	for _, p := range v.Params {
		if p != clean {
			t.Fatalf("param %q, want %q", p, clean)
		}
	}
	want := append([]string{"/bin/sh", "-c", x.Script, "lc-hook"}, v.Params...)
	if !slices.Equal(v.Argv, want) {
		t.Fatalf("Argv = %q, want %q", v.Argv, want)
	}
	// Without lists, every name is one parameter; with them, the script
	// refers to no parameter beyond the last.
	if !slices.ContainsFunc(tp.Names(), tp.IsList) && len(v.Params) != len(tp.Names()) {
		t.Fatalf("%d params for names %q", len(v.Params), tp.Names())
	}
	if strings.Contains(v.Script, "${"+strconv.Itoa(len(v.Params)+1)+"}") {
		t.Fatalf("script %q refers past its %d params", v.Script, len(v.Params))
	}
}

// fuzzCheckArgv checks the rendering of an argv template as fuzzCheckShell
// does for a shell template.
func fuzzCheckArgv(t *testing.T, tp *Template, v, x, m Command) {
	t.Helper()
	if v.Shell || v.Script != "" || v.Params != nil {
		t.Fatalf("argv template rendered shell fields: %+v", v)
	}
	if len(v.Argv) != len(x.Argv) || len(v.Argv) != len(m.Argv) || len(v.Argv) == 0 {
		t.Fatalf("argument count depends on the value: %q vs %q", v.Argv, x.Argv)
	}
	if v.Argv[0] == "" || v.Argv[0] != x.Argv[0] || tp.Render(nil).Argv[0] != x.Argv[0] {
		t.Fatalf("program %q (with x: %q) is not literal", v.Argv[0], x.Argv[0])
	}
}
