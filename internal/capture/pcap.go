package capture

import (
	"fmt"
	"time"

	"github.com/gopacket/gopacket"
)

// Classic pcap layout (draft-ietf-opsawg-pcap).
const (
	pcapHeaderLen       = 24
	pcapRecordHeaderLen = 16

	// pcapMinLimit is the smallest record length limit, whatever the
	// snaplen in the header says: libpcap's maximum snaplen.
	pcapMinLimit = 262144
)

// pcapReader reads the records of a classic pcap file. The file header
// fixes byte order, resolution and link type for every record.
type pcapReader struct {
	order    byteOrder
	nano     bool
	linkType uint16
	limit    uint32 // largest acceptable captured length
}

// readPcapHeader consumes a pcap file header whose magic number has been
// recognised.
func readPcapHeader(in *input) (*pcapReader, error) {
	in.begin()
	h, err := in.peek(pcapHeaderLen)
	if err != nil {
		return nil, err
	}
	r := &pcapReader{}
	switch magic := bigEndian.u32(h); magic {
	case magicMicroBig, magicNanoBig:
		r.order = bigEndian
		r.nano = magic == magicNanoBig
	default:
		r.order = littleEndian
		r.nano = magic == magicNanoLittle
	}
	snaplen := r.order.u32(h[16:])
	r.linkType = uint16(r.order.u32(h[20:])) // the upper bits carry FCS details
	r.limit = min(max(snaplen, pcapMinLimit), maxRecordLen)
	in.consume(pcapHeaderLen)
	return r, nil
}

func (r *pcapReader) next(in *input) (Packet, error) {
	in.begin()
	h, err := in.peek(pcapRecordHeaderLen)
	if err != nil {
		return Packet{}, err
	}
	sec := r.order.u32(h[0:])
	frac := r.order.u32(h[4:])
	caplen := r.order.u32(h[8:])
	origlen := r.order.u32(h[12:])
	if caplen > r.limit {
		return Packet{}, fmt.Errorf("%w: record length %d exceeds the limit of %d bytes", ErrCorrupt, caplen, r.limit)
	}
	in.consume(pcapRecordHeaderLen)
	data, err := in.readData(int(caplen))
	if err != nil {
		return Packet{}, err
	}
	nsec := int64(frac)
	if !r.nano {
		nsec *= 1000
	}
	return Packet{
		Data: data,
		Info: gopacket.CaptureInfo{
			Timestamp:     time.Unix(int64(sec), nsec).UTC(),
			CaptureLength: int(caplen),
			Length:        int(max(origlen, caplen)),
		},
		LinkType:   r.linkType,
		Nanosecond: r.nano,
	}, nil
}
