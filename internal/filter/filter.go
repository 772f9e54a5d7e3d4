package filter

import (
	"fmt"

	"golang.org/x/net/bpf"
)

const (
	// maxInstructions is the longest program the Linux kernel accepts
	// (BPF_MAXINSNS).
	maxInstructions = 4096

	// maxTests bounds the tests of an expression before optimization,
	// which keeps the optimizer's dominator sets to a few megabytes.
	maxTests = 4096
)

// Filter is a parsed expression. It is immutable, and safe for concurrent
// use. The zero Filter is not usable; Parse makes one.
type Filter struct {
	expr string
	root node // nil for the empty expression
}

// Parse parses expr. The empty (or all-blank) expression matches
// everything. A syntax error, or a value out of range for its qualifier,
// is an *Error.
func Parse(expr string) (*Filter, error) {
	root, err := parse(expr)
	if err != nil {
		return nil, err
	}
	return &Filter{expr: expr, root: root}, nil
}

// String returns the expression as given to Parse.
func (f *Filter) String() string { return f.expr }

// Compile returns a program for link l that returns snaplen for an
// accepted packet and 0 for a rejected one. It fails with an *Error when a
// primitive does not fit the link (ether and vlan outside Ethernet, ether
// proto on Raw and Cooked), when snaplen is 0, when the expression rejects
// every packet, as libpcap does, and when the program would be longer than
// the 4096 instructions the kernel takes.
func (f *Filter) Compile(l Link, snaplen uint32) ([]bpf.RawInstruction, error) {
	prog, err := f.program(l, snaplen)
	if err != nil {
		return nil, err
	}
	raw, err := bpf.Assemble(prog)
	if err != nil {
		return nil, f.errorf("internal error: assemble: %v", err)
	}
	return raw, nil
}

// Matcher returns a predicate that runs the program for link l over the
// bytes of one frame of that link. Cooked is refused: its programs read
// ancillary data that only the kernel has.
//
// The predicate sees only captured bytes, so "less" and "greater" compare
// the captured length, where the kernel and libpcap use the length on the
// wire. It keeps no state: any number of goroutines may call it at once.
func (f *Filter) Matcher(l Link) (func(pkt []byte) bool, error) {
	if l == Cooked {
		return nil, f.errorf("a Cooked program reads ancillary data only the kernel has; it cannot run in userland")
	}
	prog, err := f.program(l, 1)
	if err != nil {
		return nil, err
	}
	vm, err := bpf.NewVM(prog)
	if err != nil {
		return nil, f.errorf("internal error: load program: %v", err)
	}
	return func(pkt []byte) bool {
		n, err := vm.Run(pkt)
		return err == nil && n > 0
	}, nil
}

// UsesVLAN reports whether the expression has a vlan primitive. Such a
// filter reads tags in the frame; on a live Linux interface the kernel has
// usually taken them out of the frame before a socket filter runs.
func (f *Filter) UsesVLAN() bool { return usesVLAN(f.root) }

func usesVLAN(n node) bool {
	switch n := n.(type) {
	case *andNode:
		return usesVLAN(n.x) || usesVLAN(n.y)
	case *orNode:
		return usesVLAN(n.x) || usesVLAN(n.y)
	case *notNode:
		return usesVLAN(n.x)
	case *vlanPrim:
		return true
	}
	return false
}

func (f *Filter) errorf(format string, args ...any) error {
	return &Error{Expr: f.expr, Pos: -1, Msg: fmt.Sprintf(format, args...)}
}

// program compiles f for l.
func (f *Filter) program(l Link, snaplen uint32) ([]bpf.Instruction, error) {
	lay, ok := l.layout()
	if !ok {
		return nil, f.errorf("unknown link %s", l)
	}
	if snaplen == 0 {
		return nil, f.errorf("snaplen 0 would reject every packet")
	}
	g := &gen{expr: f.expr, link: l, lay: lay}
	p, err := g.pred(f.root)
	if err != nil {
		return nil, err
	}
	reject := &block{ret: true}
	accept := &block{ret: true, accept: true}
	entry := p(accept, reject)
	if n := len(reachable(entry)) - 2; n > maxTests {
		return nil, f.errorf("expression needs %d tests; at most %d are supported", n, maxTests)
	}
	entry = optimize(entry)
	if entry == reject {
		return nil, f.errorf("expression rejects all packets")
	}
	prog, err := emit(entry, snaplen)
	if err != nil {
		return nil, f.errorf("internal error: %v", err)
	}
	if len(prog) > maxInstructions {
		return nil, f.errorf("program needs %d instructions; the kernel takes at most %d", len(prog), maxInstructions)
	}
	return prog, nil
}
