package decode

// Stats counts what a Decoder has seen and done since New. The zero value is
// all zeros; Stats is a plain value, safe to copy.
type Stats struct {
	Packets uint64 // packets passed to Decode

	UDPUnits   uint64 // KindUDP units emitted
	TCPUnits   uint64 // KindTCP units emitted
	OtherUnits uint64 // KindOther units emitted, all notes
	NonIP      uint64 // packets that are not IP or carry neither UDP nor TCP (NoteNone)

	// Undecodable counts packets emitted with NoteUndecodable, by the layer
	// whose header could not be parsed.
	Undecodable LayerCounts

	Fragments            uint64 // IP fragments received (one per fragment header, tunnels included)
	FragmentsReassembled uint64 // datagrams completed from fragments
	FragmentOverlaps     uint64 // fragments that repeated or overlapped bytes already held (the first copy wins)
	FragmentTimeouts     uint64 // incomplete datagrams given up by Expire, or still incomplete at Flush
	FragmentOverflows    uint64 // incomplete datagrams (or single oversized fragments) given up because a fragment limit was hit

	TCPSegments        uint64 // TCP segments with payload
	TCPStreams         uint64 // stream directions created
	TCPStreamsClosed   uint64 // directions dropped after FIN or RST
	TCPStreamsExpired  uint64 // directions dropped by Expire after StreamTimeout
	TCPStreamsEvicted  uint64 // directions dropped to stay within MaxStreams
	TCPRetransmissions uint64 // segments whose bytes had all been seen
	TCPOutOfOrder      uint64 // segments held because an earlier one was missing
	TCPGaps            uint64 // missing ranges skipped (held segments overflowed or timed out)
	TCPKeepalives      uint64 // segments emitted with NoteTCPKeepalive
	TCPNotFramed       uint64 // times a direction's buffered bytes were given up as not framed
	TCPBufferOverflows uint64 // times a direction's unframed bytes passed MaxStreamBuffer

	// What was given up to stay within MaxBufferedBytes, by what was given
	// up. The packets are emitted as KindOther: NoteTCPIncomplete for TCP,
	// NoteFragmentOverflow for fragments.
	BudgetStreamEvictions   uint64 // times a TCP direction's unframed bytes or held segments were given up
	BudgetDatagramEvictions uint64 // incomplete datagrams given up
	BudgetUnbuffered        uint64 // TCP segments and IP fragments emitted at once because no room could be made for them
	BudgetEvictedBytes      uint64 // bytes the evictions released, as charged (spare buffer capacity included)
}

// LayerCounts counts packets by protocol layer.
type LayerCounts struct {
	Link   uint64 // link header, VLAN/MPLS/PPPoE tags, unknown link type
	IPv4   uint64
	IPv6   uint64 // IPv6 header and extension headers
	Tunnel uint64 // GRE and ERSPAN headers, tunnels nested too deep
	UDP    uint64
	TCP    uint64
}

// layer names a LayerCounts field.
type layer uint8

const (
	layerLink layer = iota
	layerIPv4
	layerIPv6
	layerTunnel
	layerUDP
	layerTCP
)

func (c *LayerCounts) add(l layer) {
	switch l {
	case layerLink:
		c.Link++
	case layerIPv4:
		c.IPv4++
	case layerIPv6:
		c.IPv6++
	case layerTunnel:
		c.Tunnel++
	case layerUDP:
		c.UDP++
	case layerTCP:
		c.TCP++
	}
}
