package filter

// node is a parsed expression: an andNode, orNode, notNode or a primitive.
type node any

type andNode struct{ x, y node }

type orNode struct{ x, y node }

type notNode struct{ x node }

// qproto is a protocol qualifier: ether, ip, tcp, ... or none.
type qproto int

const (
	pDefault qproto = iota
	pEther
	pIP
	pIP6
	pARP
	pRARP
	pTCP
	pUDP
	pSCTP
	pICMP
	pICMP6
)

var qprotoNames = [...]string{
	pDefault: "", pEther: "ether", pIP: "ip", pIP6: "ip6", pARP: "arp", pRARP: "rarp",
	pTCP: "tcp", pUDP: "udp", pSCTP: "sctp", pICMP: "icmp", pICMP6: "icmp6",
}

func (p qproto) String() string { return qprotoNames[p] }

// qdir is a direction qualifier.
type qdir int

const (
	dDefault qdir = iota // src or dst
	dSrc
	dDst
	dOr  // src or dst, written out
	dAnd // src and dst
)

// qaddr is an address-type qualifier.
type qaddr int

const (
	aDefault qaddr = iota // host, unless the value is a prefix
	aHost
	aNet
	aPort
	aPortrange
	aProto
)

// qual is the set of qualifiers in force. A bare value after "and" or "or"
// takes the qualifiers of the primitive before it, as in libpcap; set is
// false where there are none to take.
type qual struct {
	set   bool
	pos   int // offset of the first qualifier, where compile errors point
	proto qproto
	dir   qdir
	addr  qaddr
}

// at is where a primitive came from and what precedes it.
type at struct {
	pos   int    // byte offset of its qualifiers in the expression
	shift uint32 // bytes of VLAN tags that earlier vlan primitives skip
}

// protoPrim is a protocol name on its own: "ip", "tcp", "arp", ...
type protoPrim struct {
	at
	proto qproto
}

// hostPrim is an IPv4 host or net: the address under mask.
type hostPrim struct {
	at
	proto      qproto // pDefault, pIP, pARP or pRARP
	dir        qdir
	addr, mask uint32
}

// host6Prim is an IPv6 host or net.
type host6Prim struct {
	at
	dir        qdir
	addr, mask [4]uint32
}

// etherHostPrim is "ether host", "ether src" or "ether dst".
type etherHostPrim struct {
	at
	dir qdir
	mac [6]byte
}

// portPrim is "port" (lo == hi) or "portrange".
type portPrim struct {
	at
	proto   qproto // pDefault, pTCP, pUDP or pSCTP
	dir     qdir
	lo, hi  uint16
	isRange bool
}

// ipProtoPrim is "ip proto", "ip6 proto" or "proto".
type ipProtoPrim struct {
	at
	family qproto // pDefault (both), pIP or pIP6
	num    uint8
}

// etherProtoPrim is "ether proto" with an EtherType.
type etherProtoPrim struct {
	at
	etype uint16
}

// lenPrim is "less" or "greater".
type lenPrim struct {
	at
	greater bool
	n       uint32
}

// vlanPrim is "vlan" with or without an ID.
type vlanPrim struct {
	at
	id    uint16
	hasID bool
}
