package decode

import "time"

// Defaults applied by New to zero Config fields.
const (
	DefaultFragmentTimeout  = 30 * time.Second
	DefaultMaxFragmentBytes = 64 << 20
	DefaultStreamTimeout    = 5 * time.Minute
	DefaultGapTimeout       = 3 * time.Second
	DefaultMaxStreamBuffer  = 1 << 20
	DefaultMaxStreams       = 65536
	DefaultMaxBufferedBytes = 64 << 20
)

// Limits that are not configurable.
const (
	// maxHeldSegments is how many out-of-order segments one stream direction
	// holds while it waits for a missing segment.
	maxHeldSegments = 64
	// maxFragmentsPerDatagram bounds the fragments (duplicates included)
	// queued for one datagram.
	maxFragmentsPerDatagram = 1024
	// maxDepth bounds the number of nested IP headers (tunnels).
	maxDepth = 8
	// packetOverhead is what each packet held in reassembly is charged on
	// top of its bytes, for the Packet itself and the Decoder's records of
	// it, so that floods of small or empty packets are bounded too.
	packetOverhead = 256
	// datagramOverhead is what each incomplete datagram is charged on top
	// of its fragments, for its queue and index entry.
	datagramOverhead = 256
	// keepBufferCap is the largest capacity an empty stream buffer keeps
	// for reuse; a larger one is freed.
	keepBufferCap = 64 << 10
	// keepRecords is the capacity that a direction's segment records and
	// held segments keep however few they are; beyond it, storage shrinks
	// with its contents.
	keepRecords = 4
)

// Config configures a Decoder. The zero value is usable: every zero field
// takes its Default* value. All durations are measured in packet time.
type Config struct {
	// Framer splits TCP streams into messages. Nil means no stream
	// reassembly: every TCP segment with payload is emitted as its own
	// KindTCP unit.
	Framer Framer
	// FragmentTimeout is how long the fragments of an incomplete IP datagram
	// are held, counted from its first fragment. Zero means
	// DefaultFragmentTimeout.
	FragmentTimeout time.Duration
	// MaxFragmentBytes bounds the bytes held in incomplete datagrams; when a
	// new fragment does not fit, the oldest datagrams are given up. Zero
	// means DefaultMaxFragmentBytes.
	MaxFragmentBytes int
	// StreamTimeout is how long an idle TCP stream direction keeps its
	// state. Zero means DefaultStreamTimeout.
	StreamTimeout time.Duration
	// GapTimeout is how long a TCP stream direction holds out-of-order
	// segments waiting for a missing one before it skips the gap. Zero
	// means DefaultGapTimeout.
	GapTimeout time.Duration
	// MaxStreamBuffer bounds the bytes buffered per stream direction, both
	// unframed in-order bytes and held out-of-order segments. A direction
	// whose unframed bytes pass it gives up framing them. Zero means
	// DefaultMaxStreamBuffer.
	MaxStreamBuffer int
	// MaxStreams bounds the number of tracked TCP stream directions; the
	// least recently used one is dropped to make room. Zero means
	// DefaultMaxStreams.
	MaxStreams int
	// MaxBufferedBytes bounds what all TCP directions and incomplete IP
	// datagrams hold together: stream buffers (their capacity), held
	// out-of-order segments, fragments, and the packets that carried them
	// (each charged its length plus a fixed overhead). When bytes to be
	// added do not fit, the least recently used direction or oldest
	// datagram is given up first, whichever was touched earlier; see the
	// package documentation. Zero means DefaultMaxBufferedBytes.
	MaxBufferedBytes int64
}

// withDefaults returns c with every zero or negative limit replaced by its
// default.
func (c Config) withDefaults() Config {
	if c.FragmentTimeout <= 0 {
		c.FragmentTimeout = DefaultFragmentTimeout
	}
	if c.MaxFragmentBytes <= 0 {
		c.MaxFragmentBytes = DefaultMaxFragmentBytes
	}
	if c.StreamTimeout <= 0 {
		c.StreamTimeout = DefaultStreamTimeout
	}
	if c.GapTimeout <= 0 {
		c.GapTimeout = DefaultGapTimeout
	}
	if c.MaxStreamBuffer <= 0 {
		c.MaxStreamBuffer = DefaultMaxStreamBuffer
	}
	if c.MaxStreams <= 0 {
		c.MaxStreams = DefaultMaxStreams
	}
	if c.MaxBufferedBytes <= 0 {
		c.MaxBufferedBytes = DefaultMaxBufferedBytes
	}
	return c
}
