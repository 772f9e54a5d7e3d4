package filter

// maxIdlePasses stops the optimizer when passes keep moving branches
// without removing any test, which can cycle; libpcap gives up the same way.
const maxIdlePasses = 100

// optimizer rewrites a decision graph the way libpcap's optimizer rewrites
// its own, so that the programs agree with tcpdump's on every packet.
//
// Agreeing on well-formed packets is easy: any correct program does. The
// rewrites matter for truncated packets, because a load past the end of
// the packet rejects it on the spot. libpcap's optimizer removes tests and
// reorders them, which changes which loads run; so do the passes here,
// with the same rules applied in the same order:
//
//   - A jump to a test decided by a test on an edge that dominates the
//     jump (same value, same comparison, or an equality that held against
//     another constant) goes to that test's outcome instead.
//   - A jump to a test whose two successors are the same block skips it,
//     and its load.
//   - In a chain of tests sharing the same true successor (an "or") or the
//     same false successor (an "and"), a test of the value the chain
//     starts with is pulled up above the tests of other values.
//
// Each pass numbers the graph by level (the longest path to a return)
// and visits levels from the returns up, using dominator sets computed at
// the start of the pass; passes repeat until one changes nothing. Finally
// tests at the very top whose successors are equal are dropped, keeping
// the first one's load.
type optimizer struct {
	root   *block
	pass   int
	blocks []*block   // reachable at the start of the pass, by idx
	levels [][]*block // blocks by level, in visiting order
	words  []uint64   // storage for the dominator sets

	changed   bool // something moved in this pass
	collapsed bool // a test was skipped in this pass
}

// optimize rewrites the graph under root and returns the new root.
func optimize(root *block) *block {
	o := &optimizer{root: root}
	for idle := 0; ; {
		o.changed, o.collapsed = false, false
		o.pass++
		o.number()
		o.dominators()
		for _, level := range o.levels[1:] {
			for _, b := range level {
				o.jump(b, 0)
				o.jump(b, 1)
			}
		}
		o.predecessors()
		for _, level := range o.levels[1:] {
			for _, b := range level {
				o.pullUp(b, 1)
				o.pullUp(b, 0)
			}
		}
		if !o.changed {
			break
		}
		if o.collapsed {
			idle = 0
		} else if idle++; idle >= maxIdlePasses {
			break
		}
	}
	return o.trimRoot()
}

// number finds the blocks reachable from the root and their levels. A
// level lists its blocks in reverse order of completing the depth-first
// walk, true successors first.
func (o *optimizer) number() {
	o.blocks, o.levels = o.blocks[:0], o.levels[:0]
	o.visit(o.root)
	for _, level := range o.levels {
		for i, j := 0, len(level)-1; i < j; i, j = i+1, j-1 {
			level[i], level[j] = level[j], level[i]
		}
	}
}

func (o *optimizer) visit(b *block) {
	if b.mark == o.pass {
		return
	}
	b.mark = o.pass
	b.idx = len(o.blocks)
	o.blocks = append(o.blocks, b)
	b.level = 0
	if !b.ret {
		o.visit(b.jt)
		o.visit(b.jf)
		b.level = max(b.jt.level, b.jf.level) + 1
	}
	for len(o.levels) <= b.level {
		o.levels = append(o.levels, nil)
	}
	o.levels[b.level] = append(o.levels[b.level], b)
}

// dominators computes, for every block, the blocks that dominate it and,
// for each of its two edges, the edges that dominate that edge. Edge e of
// block b is numbered 2*b.idx+e.
func (o *optimizer) dominators() {
	n := len(o.blocks)
	nw, ew := (n+63)/64, (2*n+63)/64
	need := n * (nw + 2*ew)
	if cap(o.words) < need {
		o.words = make([]uint64, need)
	}
	words := o.words[:need]
	for _, b := range o.blocks {
		b.dom, words = bitset(words[:nw]).fill(true), words[nw:]
		b.edom[0], words = bitset(words[:ew]).fill(true), words[ew:]
		b.edom[1], words = bitset(words[:ew]).fill(true), words[ew:]
	}
	o.root.dom.fill(false)
	o.root.edom[0].fill(false)
	o.root.edom[1].fill(false)
	for l := len(o.levels) - 1; l >= 0; l-- {
		for _, b := range o.levels[l] {
			b.dom.add(b.idx)
			if b.ret {
				continue
			}
			for side := range 2 {
				b.edom[side].add(2*b.idx + side)
				s := b.succ(side)
				s.dom.and(b.dom)
				s.edom[0].and(b.edom[side])
				s.edom[1].and(b.edom[side])
			}
		}
	}
}

// jump moves edge side of b past tests it can skip.
func (o *optimizer) jump(b *block, side int) {
	s := b.succ(side)
	if s.ret {
		return
	}
	if s.jt == s.jf {
		b.setSucc(side, s.jt)
		o.changed, o.collapsed = true, true
	}
	doms := b.edom[side]
	for e := doms.next(0); e >= 0; {
		target := decided(b.succ(side), o.blocks[e/2], e%2 == 0)
		if target == nil {
			e = doms.next(e + 1)
			continue
		}
		b.setSucc(side, target)
		o.changed = true
		if target.ret {
			return
		}
		e = doms.next(0)
	}
}

// decided returns the successor child goes to when d's test had outcome
// holds, or nil when that does not decide child's test.
func decided(child, d *block, holds bool) *block {
	if child.ret || child.test.op != d.test.op || child.test.v != d.test.v {
		return nil
	}
	switch {
	case child.test.k == d.test.k && holds:
		return child.jt
	case child.test.k == d.test.k:
		return child.jf
	case holds && child.test.op == jeq:
		return child.jf
	}
	return nil
}

// predecessors links every block to the blocks that jump to it, walking
// the levels of the pass from the root down. Blocks that the pass has
// made unreachable still count, as in libpcap.
func (o *optimizer) predecessors() {
	for _, b := range o.blocks {
		b.in = b.in[:0]
	}
	for l := len(o.levels) - 1; l >= 1; l-- {
		for _, b := range o.levels[l] {
			b.jt.in = append(b.jt.in, b)
			b.jf.in = append(b.jf.in, b)
		}
	}
}

// slot is one of the two successor pointers of a block.
type slot struct {
	b    *block
	side int
}

func (s slot) get() *block  { return s.b.succ(s.side) }
func (s slot) set(b *block) { s.b.setSucc(s.side, b) }

// pullUp reorders the chain of tests that starts at b. With chain 1 it
// follows false successors through tests sharing b's true successor (an
// "or"); with chain 0 it follows true successors through tests sharing
// b's false successor (an "and"). When every predecessor of b tested the
// same value, the first test of that value found after a test of another
// value is moved up in front of that other test.
func (o *optimizer) pullUp(b *block, chain int) {
	if len(b.in) == 0 {
		return
	}
	first := b.in[len(b.in)-1]
	val := first.test.v
	for _, p := range b.in {
		if p.test.v != val {
			return
		}
	}
	common := b.succ(1 - chain)
	member := func(c *block) bool {
		return !c.ret && c.succ(1-chain) == common && c.dom.has(b.idx)
	}
	diff := slot{first, 1}
	if first.jt == b {
		diff = slot{first, 0}
	}
	atTop := true
	for {
		c := diff.get()
		if !member(c) {
			return
		}
		if c.test.v != val {
			break
		}
		diff, atTop = slot{c, chain}, false
	}
	same := slot{diff.get(), chain}
	for {
		c := same.get()
		if !member(c) {
			return
		}
		if c.test.v == val {
			break
		}
		same = slot{c, chain}
	}
	pull := same.get()
	same.set(pull.succ(chain))
	pull.setSucc(chain, diff.get())
	if atTop {
		for _, p := range b.in {
			if p.jt == b {
				p.jt = pull
			} else {
				p.jf = pull
			}
		}
	} else {
		diff.set(pull)
	}
	o.changed = true
}

// trimRoot drops tests at the top whose successors are the same block.
// The loads of the first one stay in front of the new top, unless nothing
// is left but a return.
func (o *optimizer) trimRoot() *block {
	top := o.root
	for !top.ret && top.jt == top.jf {
		top = top.jt
	}
	if top != o.root && !top.ret {
		top.pre = append([]value{o.root.test.v}, o.root.pre...)
	}
	return top
}
