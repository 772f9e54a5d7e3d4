package filter

// keyword is a reserved word of the filter language.
type keyword int

const (
	kwSrc keyword = iota + 1
	kwDst
	kwHost
	kwNet
	kwMask
	kwPort
	kwPortrange
	kwProto
	kwEther
	kwIP
	kwIP6
	kwARP
	kwRARP
	kwTCP
	kwUDP
	kwSCTP
	kwICMP
	kwICMP6
	kwLess
	kwGreater
	kwVlan
	kwUnsupported // reserved by pcap-filter(7) but not implemented here
)

// keywords maps the words this package implements to their keyword. "and",
// "or" and "not" are operators and the lexer handles them itself.
var keywords = map[string]keyword{
	"src":       kwSrc,
	"dst":       kwDst,
	"host":      kwHost,
	"net":       kwNet,
	"mask":      kwMask,
	"port":      kwPort,
	"portrange": kwPortrange,
	"proto":     kwProto,
	"ether":     kwEther,
	"ip":        kwIP,
	"ip6":       kwIP6,
	"arp":       kwARP,
	"rarp":      kwRARP,
	"tcp":       kwTCP,
	"udp":       kwUDP,
	"sctp":      kwSCTP,
	"icmp":      kwICMP,
	"icmp6":     kwICMP6,
	"less":      kwLess,
	"greater":   kwGreater,
	"vlan":      kwVlan,
}

// unsupportedKeywords are the other reserved words of pcap-filter(7). They
// are reported as unsupported rather than taken for host names.
var unsupportedKeywords = []string{
	"link", "ppp", "slip", "fddi", "tr", "wlan",
	"igmp", "igrp", "pim", "vrrp", "carp", "radio", "ah", "esp",
	"atalk", "aarp", "decnet", "lat", "sca", "moprc", "mopdl",
	"iso", "esis", "es-is", "isis", "is-is", "l1", "l2", "iih", "lsp",
	"snp", "csnp", "psnp", "clnp", "stp", "ipx", "netbeui",
	"protochain", "gateway", "type", "subtype", "direction", "dir",
	"address1", "address2", "address3", "address4",
	"addr1", "addr2", "addr3", "addr4", "ra", "ta",
	"byte", "broadcast", "multicast", "len", "length",
	"inbound", "outbound", "ifindex", "mpls", "pppoed", "pppoes",
	"geneve", "vxlan", "batadv", "lane", "llc", "metac", "bcc", "oam",
	"oamf4", "oamf4ec", "oamf4sc", "sc", "ilmic", "vpi", "vci",
	"connectmsg", "metaconnect", "on", "ifname", "rset", "ruleset",
	"rnr", "rulenum", "srnr", "subrulenum", "reason", "action",
	"fisu", "lssu", "lsu", "msu", "hfisu", "hlssu", "hmsu",
	"sio", "opc", "dpc", "sls", "hsio", "hopc", "hdpc", "hsls",
}

func init() {
	for _, w := range unsupportedKeywords {
		keywords[w] = kwUnsupported
	}
}

// ipProtocols maps the protocol names accepted after "ip proto",
// "ip6 proto" and "proto" to their numbers, following the usual
// /etc/protocols. The table is fixed so that a filter means the same on
// every host.
var ipProtocols = map[string]uint8{
	"icmp":       1,
	"igmp":       2,
	"ipencap":    4,
	"tcp":        6,
	"egp":        8,
	"udp":        17,
	"ipv6":       41,
	"ipv6-route": 43,
	"ipv6-frag":  44,
	"rsvp":       46,
	"gre":        47,
	"esp":        50,
	"ah":         51,
	"icmp6":      58,
	"ipv6-icmp":  58,
	"ipv6-nonxt": 59,
	"ipv6-opts":  60,
	"ospf":       89,
	"ipip":       94,
	"pim":        103,
	"vrrp":       112,
	"l2tp":       115,
	"sctp":       132,
	"udplite":    136,
}

// etherTypes maps the names accepted after "ether proto" to EtherTypes.
var etherTypes = map[string]uint16{
	"ip":   0x0800,
	"arp":  0x0806,
	"rarp": 0x8035,
	"ip6":  0x86dd,
}

// Numbers the generated code compares against.
const (
	etherTypeIPv4 = 0x0800
	etherTypeARP  = 0x0806
	etherTypeRARP = 0x8035
	etherTypeIPv6 = 0x86dd

	// etherMTU is the largest 802.3 length field; "ether proto" values up
	// to it would select 802.2 LLC frames, which this package does not do.
	etherMTU = 1500

	protoICMP     = 1
	protoTCP      = 6
	protoUDP      = 17
	protoFragment = 44 // IPv6 Fragment extension header
	protoICMPv6   = 58
	protoSCTP     = 132
)

// vlanTPIDs are the tag protocol identifiers a vlan primitive accepts, in
// the order libpcap tests them.
var vlanTPIDs = []uint32{0x8100, 0x88a8, 0x9100}
