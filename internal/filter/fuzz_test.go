package filter

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/net/bpf"
)

// FuzzParse checks that Parse never panics and reports errors as *Error
// with an offset inside the expression, and that whatever parses compiles
// on every link to a program the BPF VM accepts, or fails with an *Error.
func FuzzParse(f *testing.F) {
	for _, expr := range oracleExprs {
		f.Add(expr)
	}
	for _, expr := range []string{
		"udp port x", "(tcp", "tcp)", "host 10.0.0.1 and (port 22) or 10.0.0.2",
		`ip proto \`, "net 2001:db8::/129", "ether host 0011.2233.4455", "vlan 4096",
		"tcp[13] & 2 != 0", "not not not ip", "port (5060 or not 5061)",
	} {
		f.Add(expr)
	}
	pkts := prefixes(syntheticFrames()[:3])
	f.Fuzz(func(t *testing.T, expr string) {
		flt, err := Parse(expr)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Expr != expr || e.Pos < -1 || e.Pos > len(expr) {
				t.Fatalf("Parse(%q): %#v", expr, err)
			}
			return
		}
		if flt.String() != expr {
			t.Fatalf("String() = %q, want %q", flt.String(), expr)
		}
		for _, l := range []Link{Ethernet, Raw, LinuxSLL, LinuxSLL2, Cooked} {
			raw, err := flt.Compile(l, 65535)
			if err != nil {
				var e *Error
				if !errors.As(err, &e) || e.Pos < -1 || e.Pos > len(expr) || strings.HasPrefix(e.Msg, "internal") {
					t.Fatalf("Compile(%q, %s): %#v", expr, l, err)
				}
				continue
			}
			prog, ok := bpf.Disassemble(raw)
			if !ok {
				t.Fatalf("Compile(%q, %s): cannot disassemble\n%s", expr, l, disasm(raw))
			}
			vm, err := bpf.NewVM(withProtocol(prog, 0x0800))
			if err != nil {
				t.Fatalf("Compile(%q, %s): %v\n%s", expr, l, err, disasm(raw))
			}
			for _, p := range pkts {
				if _, err := vm.Run(p); err != nil {
					t.Fatalf("Compile(%q, %s): run: %v", expr, l, err)
				}
			}
		}
	})
}
