package filter

import "slices"

// valKind says where a tested value comes from.
type valKind uint8

const (
	vAbs   valKind = iota // packet bytes at off
	vInd                  // packet bytes at X+off, X being 4*(pkt[xoff]&0xf)
	vLen                  // the packet length
	vProto                // the kernel's SKF_AD_PROTOCOL
)

// value is a quantity the code loads into the accumulator. Two equal
// values are equal for the same packet, which is what lets the optimizer
// reuse a test's outcome and the emitter skip a load.
type value struct {
	kind valKind
	size uint8 // 1, 2 or 4 bytes, for vAbs and vInd
	off  uint32
	xoff uint32 // vInd
	mask uint32 // ANDed after the load; 0 means none
}

// unmasked is v before its mask is applied.
func (v value) unmasked() value {
	v.mask = 0
	return v
}

// jumpOp is a BPF conditional jump.
type jumpOp uint8

const (
	jeq  jumpOp = iota // A == k
	jgt                // A > k
	jge                // A >= k
	jset               // A & k != 0
)

// test is one comparison: load v, compare it with k.
type test struct {
	v  value
	op jumpOp
	k  uint32
}

// block is a node of the decision graph a filter compiles to: a test with
// a successor for each outcome, or a return. The graph has the shape
// libpcap's code generator gives the same expression, because libpcap's
// optimizer, which the optimize pass reproduces, works on that shape.
type block struct {
	test   test
	jt, jf *block
	ret    bool // a return block; accept says which
	accept bool

	// pre holds values loaded, and dropped, before the test: the loads of
	// tests removed from the top of the program, which still reject a
	// packet too short for them.
	pre []value

	// Scratch space of one optimizer pass.
	mark  int       // the pass that last numbered the block
	idx   int       // number within the pass
	level int       // longest path to a return
	dom   bitset    // blocks that dominate this one
	edom  [2]bitset // edges that dominate the true and false edges
	in    []*block  // predecessors, most recently linked last

	label int // emitter: position of the block's first instruction
}

// succ returns the successor for outcome side (0 true, 1 false).
func (b *block) succ(side int) *block {
	if side == 0 {
		return b.jt
	}
	return b.jf
}

func (b *block) setSucc(side int, s *block) {
	if side == 0 {
		b.jt = s
	} else {
		b.jf = s
	}
}

// pred is a condition under construction. Given the blocks to continue at
// when the condition holds (t) and when it does not (f), it builds the
// blocks that test it and returns the first. Building from the end this
// way makes every jump go forward and shares t and f instead of copying.
type pred func(t, f *block) *block

func always(t, f *block) *block { return t }

func never(t, f *block) *block { return f }

// and holds when all of ps hold, tested in order.
func and(ps ...pred) pred {
	return func(t, f *block) *block {
		for i := len(ps) - 1; i >= 0; i-- {
			t = ps[i](t, f)
		}
		return t
	}
}

// or holds when any of ps holds, tested in order.
func or(ps ...pred) pred {
	return func(t, f *block) *block {
		for i := len(ps) - 1; i >= 0; i-- {
			f = ps[i](t, f)
		}
		return f
	}
}

func not(p pred) pred {
	return func(t, f *block) *block { return p(f, t) }
}

// reachable returns the blocks reachable from root in the order a program
// lays them out: every block before its successors, root first, and, as
// libpcap lays them out, a block's false successors after its true ones.
func reachable(root *block) []*block {
	var post []*block
	seen := map[*block]bool{}
	var walk func(b *block)
	walk = func(b *block) {
		if seen[b] {
			return
		}
		seen[b] = true
		if !b.ret {
			walk(b.jf)
			walk(b.jt)
		}
		post = append(post, b)
	}
	walk(root)
	slices.Reverse(post)
	return post
}
