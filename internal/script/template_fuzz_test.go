package script

import (
	"slices"
	"strings"
	"testing"
)

// FuzzTemplate parses fuzzed templates and renders them with a fuzzed
// value in every placeholder. Parsing must not panic; a parsed template
// must render the same shape whatever the value: in argv mode the same
// number of arguments with the same literal text and the value intact
// where the placeholders are, in shell mode the same script with the value
// only in the parameters.
func FuzzTemplate(f *testing.F) {
	seeds := []string{
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
	}
	values := []string{
		"", "x", "a b", "; touch /tmp/m", "$(touch /tmp/m)", "`id`", "' ; id ; '",
		`" ; id ; "`, `\`, "$1", "*", "~", "a\nb", "a\x00b", "-rf", "%a%", "%%", "%",
		"\xff\xfe", "${IFS}", `"'"'"`, "#", "\t",
	}
	for i, s := range seeds {
		f.Add(s, values[i%len(values)])
	}
	for i, v := range values {
		f.Add(seeds[i%len(seeds)], v)
	}
	allowed := []string{"a", "b", "pcap", "callid", "caller"}
	f.Fuzz(func(t *testing.T, tmpl, value string) {
		tp, err := ParseTemplate(tmpl, allowed)
		if err != nil {
			if _, ok := err.(*TemplateError); !ok {
				t.Fatalf("error %v is a %T", err, err)
			}
			return
		}
		if tp.String() != tmpl {
			t.Fatalf("String() = %q", tp.String())
		}
		for _, n := range tp.Names() {
			if !slices.Contains(allowed, n) {
				t.Fatalf("Names() has %q", n)
			}
		}
		clean := strings.ReplaceAll(value, "\x00", "")
		const mark = "\x01\x02\x03"
		x := tp.Render(func(string) string { return "x" })
		v := tp.Render(func(string) string { return value })
		m := tp.Render(func(string) string { return mark })

		if tp.Shell() {
			if !v.Shell || v.Script != x.Script || v.Script != m.Script {
				t.Fatalf("the value changed the script:\nx:     %q\nvalue: %q", x.Script, v.Script)
			}
			if len(v.Params) != len(tp.Names()) {
				t.Fatalf("%d params for names %q", len(v.Params), tp.Names())
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
			return
		}
		// The same words followed by "; :" are a shell template that must
		// parse the same way.
		if sh, err := ParseTemplate(tmpl+" ; :", allowed); err != nil || !sh.Shell() || !slices.Equal(sh.Names(), tp.Names()) {
			t.Fatalf("argv template %q: with \"; :\" err %v", tmpl, err)
		}
		if v.Shell || v.Script != "" || v.Params != nil {
			t.Fatalf("argv template rendered shell fields: %+v", v)
		}
		if len(v.Argv) != len(x.Argv) || len(v.Argv) != len(m.Argv) || len(v.Argv) == 0 {
			t.Fatalf("argument count depends on the value: %q vs %q", v.Argv, x.Argv)
		}
		if v.Argv[0] == "" || v.Argv[0] != x.Argv[0] {
			t.Fatalf("program %q (with x: %q) is not literal", v.Argv[0], x.Argv[0])
		}
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
