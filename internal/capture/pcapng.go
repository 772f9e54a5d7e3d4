package capture

import (
	"fmt"
	"math/bits"
	"time"

	"github.com/gopacket/gopacket"
)

// pcapng block types, option codes and limits (draft-ietf-opsawg-pcapng).
const (
	blockSectionHeader  = magicPcapng
	blockInterface      = 0x00000001
	blockPacket         = 0x00000002 // obsolete Packet Block
	blockSimplePacket   = 0x00000003
	blockEnhancedPacket = 0x00000006

	byteOrderMagic        = 0x1a2b3c4d // read big-endian: a big-endian section
	byteOrderMagicSwapped = 0x4d3c2b1a // read big-endian: a little-endian section

	optEndOfOpt = 0
	optTsresol  = 9  // if_tsresol
	optTsoffset = 14 // if_tsoffset

	// maxInterfaces bounds the interfaces of one section, the range of the
	// obsolete Packet Block's 16-bit interface id.
	maxInterfaces = 1 << 16

	// maxKeptOptions is the largest option buffer kept between blocks.
	maxKeptOptions = 64 << 10
)

// Smallest lengths of the blocks read: type, length, fixed fields and the
// trailing length.
const (
	minBlockLen         = 12
	minSectionHeaderLen = 28
	minInterfaceLen     = 20
	minSimplePacketLen  = 16
	minPacketLen        = 32 // Enhanced and obsolete Packet Blocks
)

// ngInterface is what an Interface Description Block fixes for the packets
// captured on that interface.
type ngInterface struct {
	link    uint16
	snaplen uint32
	units   uint64 // timestamp units per second (if_tsresol)
	offset  int64  // seconds added to every timestamp (if_tsoffset)
}

// time converts a timestamp in the interface's units to UTC time.
func (ifc *ngInterface) time(ts uint64) time.Time {
	sec := ts / ifc.units
	frac := ts % ifc.units
	var nsec uint64
	switch ifc.units {
	case 1e6:
		nsec = frac * 1e3
	case 1e9:
		nsec = frac
	default:
		hi, lo := bits.Mul64(frac, 1e9)
		nsec, _ = bits.Div64(hi, lo, ifc.units) // hi < units since frac < units
	}
	return time.Unix(int64(sec)+ifc.offset, int64(nsec)).UTC()
}

// pcapngReader reads the blocks of a pcapng file: packets are returned,
// section headers and interface descriptions update its state, all other
// blocks are skipped.
type pcapngReader struct {
	order   byteOrder     // of the current section
	ifaces  []ngInterface // of the current section, by interface id
	options []byte        // scratch for interface options
}

// readPcapngHeader consumes the Section Header Block that opens a pcapng
// file.
func readPcapngHeader(in *input) (*pcapngReader, error) {
	r := &pcapngReader{}
	in.begin()
	if err := r.readSectionHeader(in); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *pcapngReader) next(in *input) (Packet, error) {
	for {
		in.begin()
		h, err := in.peek(8)
		if err != nil {
			return Packet{}, err
		}
		typ := r.order.u32(h)
		if typ == blockSectionHeader { // readable in either byte order
			if err := r.readSectionHeader(in); err != nil {
				return Packet{}, err
			}
			continue
		}
		blen := r.order.u32(h[4:])
		switch typ {
		case blockEnhancedPacket:
			return r.readEnhancedPacket(in, blen)
		case blockPacket:
			return r.readObsoletePacket(in, blen)
		case blockSimplePacket:
			return r.readSimplePacket(in, blen)
		case blockInterface:
			err = r.readInterface(in, blen)
		default:
			if err = checkBlockLen(typ, blen, minBlockLen); err == nil {
				err = r.finish(in, blen)
			}
		}
		if err != nil {
			return Packet{}, err
		}
	}
}

// readSectionHeader starts a new section: byte order from the byte-order
// magic, and no interfaces yet.
func (r *pcapngReader) readSectionHeader(in *input) error {
	h, err := in.peek(16)
	if err != nil {
		return err
	}
	switch bom := bigEndian.u32(h[8:]); bom {
	case byteOrderMagic:
		r.order = bigEndian
	case byteOrderMagicSwapped:
		r.order = littleEndian
	default:
		return fmt.Errorf("%w: section header byte-order magic 0x%08x", ErrCorrupt, bom)
	}
	blen := r.order.u32(h[4:])
	if err := checkBlockLen(blockSectionHeader, blen, minSectionHeaderLen); err != nil {
		return err
	}
	if major, minor := r.order.u16(h[12:]), r.order.u16(h[14:]); major != 1 {
		return fmt.Errorf("%w: pcapng version %d.%d", ErrCorrupt, major, minor)
	}
	r.ifaces = r.ifaces[:0]
	return r.finish(in, blen)
}

// readInterface adds the interface an Interface Description Block describes.
func (r *pcapngReader) readInterface(in *input, blen uint32) error {
	if err := checkBlockLen(blockInterface, blen, minInterfaceLen); err != nil {
		return err
	}
	if len(r.ifaces) >= maxInterfaces {
		return fmt.Errorf("%w: more than %d interfaces in a section", ErrCorrupt, maxInterfaces)
	}
	h, err := in.peek(16)
	if err != nil {
		return err
	}
	ifc := ngInterface{
		link:    r.order.u16(h[8:]),
		snaplen: r.order.u32(h[12:]),
		units:   1e6,
	}
	in.consume(16)
	r.options, err = in.readAppend(r.options[:0], int(blen)-minInterfaceLen)
	if err != nil {
		return err
	}
	err = r.parseInterfaceOptions(&ifc, r.options)
	if cap(r.options) > maxKeptOptions {
		r.options = nil
	}
	if err != nil {
		return err
	}
	if err := r.finish(in, blen); err != nil {
		return err
	}
	r.ifaces = append(r.ifaces, ifc)
	return nil
}

// parseInterfaceOptions applies if_tsresol and if_tsoffset; other options
// are ignored.
func (r *pcapngReader) parseInterfaceOptions(ifc *ngInterface, opts []byte) error {
	for len(opts) >= 4 {
		code, n := r.order.u16(opts), int(r.order.u16(opts[2:]))
		if code == optEndOfOpt {
			return nil
		}
		if 4+n > len(opts) {
			return fmt.Errorf("%w: interface option %d of %d bytes overruns its block", ErrCorrupt, code, n)
		}
		val := opts[4 : 4+n]
		switch code {
		case optTsresol:
			if n != 1 {
				return fmt.Errorf("%w: if_tsresol of %d bytes", ErrCorrupt, n)
			}
			units, err := unitsPerSecond(val[0])
			if err != nil {
				return err
			}
			ifc.units = units
		case optTsoffset:
			if n != 8 {
				return fmt.Errorf("%w: if_tsoffset of %d bytes", ErrCorrupt, n)
			}
			ifc.offset = int64(r.order.u64(val))
		}
		opts = opts[min(4+(n+3)&^3, len(opts)):]
	}
	return nil
}

// unitsPerSecond decodes if_tsresol: a negative power of 10, or of 2 when
// the top bit is set. Resolutions whose units per second overflow 64 bits
// are corrupt.
func unitsPerSecond(v byte) (uint64, error) {
	if v&0x80 != 0 {
		e := v & 0x7f
		if e > 63 {
			return 0, fmt.Errorf("%w: if_tsresol 2^-%d", ErrCorrupt, e)
		}
		return 1 << e, nil
	}
	if v > 19 {
		return 0, fmt.Errorf("%w: if_tsresol 10^-%d", ErrCorrupt, v)
	}
	units := uint64(1)
	for range v {
		units *= 10
	}
	return units, nil
}

// readEnhancedPacket reads an Enhanced Packet Block.
func (r *pcapngReader) readEnhancedPacket(in *input, blen uint32) (Packet, error) {
	if err := checkBlockLen(blockEnhancedPacket, blen, minPacketLen); err != nil {
		return Packet{}, err
	}
	h, err := in.peek(28)
	if err != nil {
		return Packet{}, err
	}
	id := r.order.u32(h[8:])
	ts := uint64(r.order.u32(h[12:]))<<32 | uint64(r.order.u32(h[16:]))
	return r.readPacket(in, blen, 28, id, ts, r.order.u32(h[20:]), r.order.u32(h[24:]), true)
}

// readObsoletePacket reads a Packet Block, the Enhanced Packet Block's
// predecessor with a 16-bit interface id and a drops count.
func (r *pcapngReader) readObsoletePacket(in *input, blen uint32) (Packet, error) {
	if err := checkBlockLen(blockPacket, blen, minPacketLen); err != nil {
		return Packet{}, err
	}
	h, err := in.peek(28)
	if err != nil {
		return Packet{}, err
	}
	id := uint32(r.order.u16(h[8:]))
	ts := uint64(r.order.u32(h[12:]))<<32 | uint64(r.order.u32(h[16:]))
	return r.readPacket(in, blen, 28, id, ts, r.order.u32(h[20:]), r.order.u32(h[24:]), true)
}

// readSimplePacket reads a Simple Packet Block: interface 0, no timestamp,
// the captured length implied by the original length, the block length and
// the interface's snaplen.
func (r *pcapngReader) readSimplePacket(in *input, blen uint32) (Packet, error) {
	if err := checkBlockLen(blockSimplePacket, blen, minSimplePacketLen); err != nil {
		return Packet{}, err
	}
	if len(r.ifaces) == 0 {
		return Packet{}, fmt.Errorf("%w: simple packet block before any interface description", ErrCorrupt)
	}
	h, err := in.peek(12)
	if err != nil {
		return Packet{}, err
	}
	origlen := r.order.u32(h[8:])
	caplen := min(origlen, blen-minSimplePacketLen)
	if snaplen := r.ifaces[0].snaplen; snaplen > 0 {
		caplen = min(caplen, snaplen)
	}
	return r.readPacket(in, blen, 12, 0, 0, caplen, origlen, false)
}

// readPacket finishes a packet block whose fixed fields, fixed bytes long,
// have been decoded. A packet without timestamp gets the zero time.
func (r *pcapngReader) readPacket(in *input, blen uint32, fixed int, id uint32, ts uint64, caplen, origlen uint32, timed bool) (Packet, error) {
	if id >= uint32(len(r.ifaces)) {
		return Packet{}, fmt.Errorf("%w: packet on interface %d, but the section describes %d", ErrCorrupt, id, len(r.ifaces))
	}
	if caplen > blen-uint32(fixed)-4 {
		return Packet{}, fmt.Errorf("%w: captured length %d exceeds block length %d", ErrCorrupt, caplen, blen)
	}
	ifc := &r.ifaces[id]
	in.consume(fixed)
	data, err := in.readData(int(caplen))
	if err != nil {
		return Packet{}, err
	}
	if err := r.finish(in, blen); err != nil {
		return Packet{}, err
	}
	p := Packet{
		Data: data,
		Info: gopacket.CaptureInfo{
			CaptureLength:  int(caplen),
			Length:         int(max(origlen, caplen)),
			InterfaceIndex: int(id),
		},
		LinkType:   ifc.link,
		Nanosecond: ifc.units > 1e6,
	}
	if timed {
		p.Info.Timestamp = ifc.time(ts)
	}
	return p, nil
}

// finish consumes the rest of the block that starts at in.start and checks
// that its trailing length repeats blen.
func (r *pcapngReader) finish(in *input, blen uint32) error {
	rest := int64(blen) - 4 - (in.off - in.start)
	if err := in.discard(int(rest)); err != nil {
		return err
	}
	t, err := in.peek(4)
	if err != nil {
		return err
	}
	if trailer := r.order.u32(t); trailer != blen {
		return fmt.Errorf("%w: block trailer %d does not match block length %d", ErrCorrupt, trailer, blen)
	}
	in.consume(4)
	return nil
}

// checkBlockLen rejects block lengths below the block type's minimum, not a
// multiple of 4, or above maxRecordLen.
func checkBlockLen(typ, blen, minLen uint32) error {
	switch {
	case blen < minLen:
		return fmt.Errorf("%w: block type 0x%x: length %d is shorter than %d", ErrCorrupt, typ, blen, minLen)
	case blen%4 != 0:
		return fmt.Errorf("%w: block type 0x%x: length %d is not a multiple of 4", ErrCorrupt, typ, blen)
	case blen > maxRecordLen:
		return fmt.Errorf("%w: block type 0x%x: length %d exceeds the limit of %d bytes", ErrCorrupt, typ, blen, maxRecordLen)
	}
	return nil
}
