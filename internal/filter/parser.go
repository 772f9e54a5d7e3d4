package filter

import "fmt"

const (
	// maxDepth bounds the nesting of parentheses and "not", so that a
	// hostile expression cannot exhaust the stack.
	maxDepth = 256

	// maxPrims bounds the primitives of an expression, and with them the
	// work and memory of compiling it. A program with more would not fit
	// in the kernel's 4096 instructions anyway.
	maxPrims = 1024
)

// parser is a recursive-descent parser for pcap-filter(7) expressions.
//
// The grammar, with and/or of equal precedence and left-associative, and
// "not" binding tighter:
//
//	expr  = term { ("and" | "or") (id | term) }
//	term  = "not" term | "(" expr ")" | head id | proto | other
//	head  = [proto] (dir [addr] | addr) | [proto] "proto"
//	id    = value | "not" id | "(" id { ("and" | "or") id } ")"
//	other = "less" NUM | "greater" NUM | "vlan" [NUM]
//
// An id is a bare value that reuses the qualifiers of the primitive before
// it ("port 5060 or 5061"). Which one follows "and" or "or" is decided by
// the first token that is not "(" or "not".
type parser struct {
	src   string
	toks  []token
	i     int
	q     qual   // qualifiers a bare value takes
	vlans uint32 // vlan primitives parsed so far
	depth int
	prims int // primitives parsed so far
	over  int // offset of primitive maxPrims+1, or -1
}

// parse parses src; an empty expression yields a nil node.
func parse(src string) (node, error) {
	p := &parser{src: src, toks: lex(src), over: -1}
	if p.peek().kind == tEOF {
		return nil, nil
	}
	n, err := p.expr()
	if err != nil {
		return nil, err
	}
	if p.over >= 0 {
		return nil, p.errAt(p.over, "expression has more than %d primitives", maxPrims)
	}
	switch t := p.peek(); t.kind {
	case tEOF:
		return n, nil
	case tRParen:
		return nil, p.errAt(t.pos, "unbalanced parentheses: no '(' for this ')'")
	default:
		return nil, p.unexpected(t, "and, or or the end of the expression")
	}
}

func (p *parser) peek() token { return p.toks[p.i] }

// peekAt returns the token n places ahead, or the final tEOF.
func (p *parser) peekAt(n int) token {
	if p.i+n >= len(p.toks) {
		return p.toks[len(p.toks)-1]
	}
	return p.toks[p.i+n]
}

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) errAt(pos int, format string, args ...any) error {
	return &Error{Expr: p.src, Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

// unexpected reports t where something else was wanted.
func (p *parser) unexpected(t token, want string) error {
	if t.kind == tBad {
		return p.errAt(t.pos, "%s", t.msg)
	}
	return p.errAt(t.pos, "expected %s, found %s", want, t.describe())
}

// nest counts one more level of nesting at pos; the caller undoes it.
func (p *parser) nest(pos int) error {
	p.depth++
	if p.depth > maxDepth {
		return p.errAt(pos, "expression nested more than %d deep", maxDepth)
	}
	return nil
}

// nested consumes t, the "not" or "(" that opens a nested part, and
// parses the part with parse, one level deeper.
func (p *parser) nested(t token, parse func() (node, error)) (node, error) {
	p.next()
	if err := p.nest(t.pos); err != nil {
		return nil, err
	}
	x, err := parse()
	p.depth--
	return x, err
}

// not parses "not" (t) and what operand parses after it.
func (p *parser) not(t token, operand func() (node, error)) (node, error) {
	x, err := p.nested(t, operand)
	if err != nil {
		return nil, err
	}
	return &notNode{x}, nil
}

// parens parses "(" (t), what inner parses, and the matching ")".
func (p *parser) parens(t token, inner func() (node, error)) (node, error) {
	x, err := p.nested(t, inner)
	if err != nil {
		return nil, err
	}
	if err := p.closeParen(t.pos); err != nil {
		return nil, err
	}
	return x, nil
}

// closeParen consumes the ')' matching the '(' at open.
func (p *parser) closeParen(open int) error {
	t := p.peek()
	if t.kind == tRParen {
		p.next()
		return nil
	}
	if t.kind == tEOF {
		return p.errAt(open, "unbalanced parentheses: this '(' is not closed")
	}
	return p.unexpected(t, "')'")
}

func combine(op tokKind, x, y node) node {
	if op == tAnd {
		return &andNode{x, y}
	}
	return &orNode{x, y}
}

func (p *parser) expr() (node, error) {
	return p.chain(p.term, func() (node, error) {
		if p.valueAhead() {
			return p.id()
		}
		return p.term()
	})
}

// chain parses first, then any number of "and" or "or" each followed by
// what operand parses, grouped left to right.
func (p *parser) chain(first, operand func() (node, error)) (node, error) {
	x, err := first()
	if err != nil {
		return nil, err
	}
	for {
		op := p.peek().kind
		if op != tAnd && op != tOr {
			return x, nil
		}
		p.next()
		y, err := operand()
		if err != nil {
			return nil, err
		}
		x = combine(op, x, y)
	}
}

// valueAhead reports whether the next token other than "(" and "not" is a
// value, which makes what follows "and" or "or" an id rather than a term.
func (p *parser) valueAhead() bool {
	for n := 0; ; n++ {
		switch t := p.peekAt(n); t.kind {
		case tLParen, tNot:
			continue
		default:
			return t.isValue()
		}
	}
}

func (p *parser) term() (node, error) {
	t := p.peek()
	switch t.kind {
	case tNot:
		return p.not(t, p.term)
	case tLParen:
		// A parenthesized expression leaves the qualifiers as they were
		// before it, as libpcap does.
		saved := p.q
		x, err := p.parens(t, p.expr)
		p.q = saved
		return x, err
	case tKeyword:
		return p.keywordTerm()
	case tName:
		return nil, p.errAt(t.pos, "unknown keyword %q", t.text)
	case tNum, tIPv4, tIPv6, tMAC:
		return nil, p.errAt(t.pos, "%s needs a qualifier such as host, net or port", t.describe())
	}
	return nil, p.unexpected(t, "a primitive")
}

// keywordTerm parses a term that starts with a keyword.
func (p *parser) keywordTerm() (node, error) {
	t := p.next()
	switch t.kw {
	case kwUnsupported:
		return nil, p.errAt(t.pos, "unsupported keyword %q", t.text)
	case kwMask:
		return nil, p.errAt(t.pos, "mask must follow a net address")
	case kwLess, kwGreater:
		n := p.peek()
		if n.kind != tNum {
			return nil, p.errAt(n.pos, "%s needs a number", t.text)
		}
		p.next()
		p.q = qual{}
		return &lenPrim{at: p.at(t.pos), greater: t.kw == kwGreater, n: n.num}, nil
	case kwVlan:
		v := &vlanPrim{at: p.at(t.pos)}
		if n := p.peek(); n.kind == tNum {
			p.next()
			if n.num > 4095 {
				return nil, p.errAt(n.pos, "vlan ID %d is more than 4095", n.num)
			}
			v.id, v.hasID = uint16(n.num), true
		}
		p.vlans++
		p.q = qual{}
		return v, nil
	case kwSrc, kwDst, kwHost, kwNet, kwPort, kwPortrange, kwProto:
		p.i--
		return p.head(pDefault, t.pos)
	}
	proto := protoOf(t.kw)
	if n := p.peek(); n.kind == tKeyword && isHeadKeyword(n.kw) {
		return p.head(proto, t.pos)
	}
	if proto == pEther {
		return nil, p.unexpected(p.peek(), "host, src, dst or proto after ether")
	}
	p.q = qual{}
	return &protoPrim{at: p.at(t.pos), proto: proto}, nil
}

// protoOf maps a protocol keyword to its qualifier.
func protoOf(kw keyword) qproto {
	switch kw {
	case kwEther:
		return pEther
	case kwIP:
		return pIP
	case kwIP6:
		return pIP6
	case kwARP:
		return pARP
	case kwRARP:
		return pRARP
	case kwTCP:
		return pTCP
	case kwUDP:
		return pUDP
	case kwSCTP:
		return pSCTP
	case kwICMP:
		return pICMP
	}
	return pICMP6
}

func isHeadKeyword(kw keyword) bool {
	switch kw {
	case kwSrc, kwDst, kwHost, kwNet, kwPort, kwPortrange, kwProto:
		return true
	}
	return false
}

// at returns the position record of a primitive starting at pos, and
// counts the primitive.
func (p *parser) at(pos int) at {
	p.prims++
	if p.prims == maxPrims+1 {
		p.over = pos
	}
	return at{pos: pos, shift: 4 * p.vlans}
}

// head parses the direction and address qualifiers after an optional
// protocol qualifier, then the id they apply to.
func (p *parser) head(proto qproto, pos int) (node, error) {
	q := qual{set: true, pos: pos, proto: proto}
	if p.peek().kw == kwProto && p.peek().kind == tKeyword {
		p.next()
		q.addr = aProto
		p.q = q
		return p.id()
	}
	if t := p.peek(); t.kind == tKeyword && (t.kw == kwSrc || t.kw == kwDst) {
		p.next()
		q.dir = dSrc
		other := kwDst
		if t.kw == kwDst {
			q.dir, other = dDst, kwSrc
		}
		// "src or dst" and "src and dst", in either order.
		if op := p.peek(); (op.kind == tOr || op.kind == tAnd) && p.peekAt(1).kind == tKeyword && p.peekAt(1).kw == other {
			p.i += 2
			q.dir = dOr
			if op.kind == tAnd {
				q.dir = dAnd
			}
		}
	}
	if t := p.peek(); t.kind == tKeyword {
		switch t.kw {
		case kwHost:
			q.addr = aHost
		case kwNet:
			q.addr = aNet
		case kwPort:
			q.addr = aPort
		case kwPortrange:
			q.addr = aPortrange
		case kwProto:
			return nil, p.errAt(t.pos, "proto cannot follow src or dst")
		}
		if q.addr != aDefault {
			p.next()
		}
	}
	p.q = q
	return p.id()
}

// id parses a value, a negated id or a parenthesized list of ids, all
// under the qualifiers in p.q.
func (p *parser) id() (node, error) {
	t := p.peek()
	switch {
	case t.kind == tNot:
		return p.not(t, p.id)
	case t.kind == tLParen:
		return p.parens(t, p.idList)
	case t.isValue(), t.kind == tKeyword && p.q.set && p.q.addr == aProto:
		p.next()
		return p.value(t)
	case t.kind == tBad:
		return nil, p.unexpected(t, "")
	}
	if !p.q.set {
		return nil, p.unexpected(t, "a primitive")
	}
	return nil, p.errAt(t.pos, "%s, found %s", p.need(), t.describe())
}

// idList parses ids joined by "and" and "or" inside parentheses.
func (p *parser) idList() (node, error) { return p.chain(p.id, p.id) }
