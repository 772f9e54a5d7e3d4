package filter

import (
	"errors"
	"fmt"
	"slices"

	"golang.org/x/net/bpf"
)

// regs is what the emitter knows the registers hold.
type regs struct {
	a        value
	x        uint32 // the offset X was loaded from with ldxb 4*([x]&0xf)
	aOK, xOK bool
}

// loads is the code that brings a value into the accumulator.
type loads struct {
	v         value
	x, a, and bool
}

// plan returns the loads that bring v into the accumulator when the
// registers hold r, and what they hold afterwards.
func plan(r regs, v value) (loads, regs) {
	l := loads{v: v, x: v.kind == vInd && !(r.xOK && r.x == v.xoff)}
	switch {
	case v.mask == 0 && r.aOK && r.a == v:
	case v.mask != 0 && r.aOK && r.a == v.unmasked():
		l.and = true
	default:
		// A masked value already in A is loaded again all the same:
		// libpcap does, and the programs stay alike.
		l.a, l.and = true, v.mask != 0
	}
	out := regs{a: v, aOK: true, x: r.x, xOK: r.xOK}
	if v.kind == vInd {
		out.x, out.xOK = v.xoff, true
	}
	return l, out
}

// appendRev appends the instructions of l to rev, a program being built
// back to front.
func (l loads) appendRev(rev []bpf.Instruction) []bpf.Instruction {
	if l.and {
		rev = append(rev, bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: l.v.mask})
	}
	if l.a {
		rev = append(rev, load(l.v))
	}
	if l.x {
		rev = append(rev, bpf.LoadMemShift{Off: l.v.xoff})
	}
	return rev
}

// emit lays out the graph under root as a BPF program whose accepting
// returns give snaplen.
//
// A block skips loading a value the accumulator (or X) already holds on
// every path into it. Blocks whose instructions and successors are the
// same are then merged, as libpcap merges them. Blocks are placed as
// reachable orders them, so every jump goes forward. Conditional jumps
// reach 255 instructions; a target further away is reached through an
// unconditional jump placed right after the conditional one.
//
// It fails only if the graph has a cycle, which the optimizer never makes.
func emit(root *block, snaplen uint32) ([]bpf.Instruction, error) {
	need := plans(reachable(root))
	root = merge(root, need)
	blocks := reachable(root)
	for _, b := range blocks {
		b.label = -1
	}

	// Build the program back to front, so that every jump target is
	// already placed. label and the indexes here count from the end.
	var rev []bpf.Instruction
	for i := len(blocks) - 1; i >= 0; i-- {
		b := blocks[i]
		if b.ret {
			k := uint32(0)
			if b.accept {
				k = snaplen
			}
			rev = append(rev, bpf.RetConstant{Val: k})
			b.label = len(rev) - 1
			continue
		}
		// Two trampolines may come between the jump and its targets,
		// so a target more than 253 away needs one.
		t, f := b.jt.label, b.jf.label
		if t < 0 || f < 0 {
			return nil, errors.New("the optimized graph has a cycle")
		}
		farT, farF := len(rev)-t-1 > 253, len(rev)-f-1 > 253
		if farF {
			rev = append(rev, bpf.Jump{Skip: uint32(len(rev) - f - 1)})
			f = len(rev) - 1
		}
		if farT {
			rev = append(rev, bpf.Jump{Skip: uint32(len(rev) - t - 1)})
			t = len(rev) - 1
		}
		c := len(rev)
		rev = append(rev, bpf.JumpIf{
			Cond:      jumpTests[b.test.op],
			Val:       b.test.k,
			SkipTrue:  uint8(c - t - 1),
			SkipFalse: uint8(c - f - 1),
		})
		ls := need[b]
		for j := len(ls) - 1; j >= 0; j-- {
			rev = ls[j].appendRev(rev)
		}
		b.label = len(rev) - 1
	}

	slices.Reverse(rev)
	return rev, nil
}

// plans decides the loads of every block, blocks being in layout order.
func plans(blocks []*block) map[*block][]loads {
	in := map[*block]regs{}
	seen := map[*block]bool{}
	join := func(b *block, r regs) {
		if !seen[b] {
			in[b], seen[b] = r, true
			return
		}
		old := in[b]
		old.aOK = old.aOK && r.aOK && old.a == r.a
		old.xOK = old.xOK && r.xOK && old.x == r.x
		in[b] = old
	}
	need := map[*block][]loads{}
	for _, b := range blocks {
		if b.ret {
			continue
		}
		r := in[b]
		var ls []loads
		for _, v := range append(slices.Clip(b.pre), b.test.v) {
			var l loads
			l, r = plan(r, v)
			ls = append(ls, l)
		}
		need[b] = ls
		join(b.jt, r)
		join(b.jf, r)
	}
	return need
}

// merge replaces blocks that run the same instructions and go to the same
// places by one of them, working up from the returns so that merged
// successors make more matches. The loads planned for each block stay
// right: a merged block behaves as each of the blocks it replaces.
func merge(root *block, need map[*block][]loads) *block {
	type key struct {
		code   string
		jt, jf *block
	}
	canon := map[key]*block{}
	same := map[*block]*block{}
	pick := func(b *block) *block {
		if c, ok := same[b]; ok {
			return c
		}
		return b
	}
	order := reachable(root)
	for i := len(order) - 1; i >= 0; i-- {
		b := order[i]
		if b.ret {
			continue
		}
		b.jt, b.jf = pick(b.jt), pick(b.jf)
		var code []bpf.Instruction
		for _, l := range need[b] {
			code = l.appendRev(code)
		}
		k := key{fmt.Sprint(code, b.test.op, b.test.k), b.jt, b.jf}
		if c, ok := canon[k]; ok {
			same[b] = c
			continue
		}
		canon[k] = b
	}
	return pick(root)
}

var jumpTests = [...]bpf.JumpTest{
	jeq:  bpf.JumpEqual,
	jgt:  bpf.JumpGreaterThan,
	jge:  bpf.JumpGreaterOrEqual,
	jset: bpf.JumpBitsSet,
}

// load is the instruction that puts v, before its mask, in the
// accumulator.
func load(v value) bpf.Instruction {
	switch v.kind {
	case vInd:
		return bpf.LoadIndirect{Off: v.off, Size: int(v.size)}
	case vLen:
		return bpf.LoadExtension{Num: bpf.ExtLen}
	case vProto:
		return bpf.LoadExtension{Num: bpf.ExtProto}
	}
	return bpf.LoadAbsolute{Off: v.off, Size: int(v.size)}
}
