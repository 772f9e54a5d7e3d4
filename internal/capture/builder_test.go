package capture

import (
	"bytes"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Capture builders for tests. They write every byte by hand so that the
// tests do not depend on the reader under test.

// rec is one packet to write.
type rec struct {
	ts    time.Time
	data  []byte
	orig  int // original length; 0 means len(data)
	iface int // pcapng interface id
}

func (r rec) origLen() int {
	if r.orig == 0 {
		return len(r.data)
	}
	return r.orig
}

// pcapBuilder writes a classic pcap file.
type pcapBuilder struct {
	order binary.ByteOrder // of the file header
	recs  binary.ByteOrder // of the record headers; nil means order
	nano  bool
	buf   bytes.Buffer
}

func newPcap(order binary.ByteOrder, nano bool, link, snaplen uint32) *pcapBuilder {
	b := &pcapBuilder{order: order, nano: nano}
	magic := uint32(0xa1b2c3d4)
	if nano {
		magic = 0xa1b23c4d
	}
	var h [24]byte
	order.PutUint32(h[0:], magic)
	order.PutUint16(h[4:], 2)
	order.PutUint16(h[6:], 4)
	order.PutUint32(h[16:], snaplen)
	order.PutUint32(h[20:], link)
	b.buf.Write(h[:])
	return b
}

// record writes a record header with explicit fields and data.
func (b *pcapBuilder) record(sec, frac, caplen, origlen uint32, data []byte) *pcapBuilder {
	order := b.recs
	if order == nil {
		order = b.order
	}
	var h [16]byte
	order.PutUint32(h[0:], sec)
	order.PutUint32(h[4:], frac)
	order.PutUint32(h[8:], caplen)
	order.PutUint32(h[12:], origlen)
	b.buf.Write(h[:])
	b.buf.Write(data)
	return b
}

func (b *pcapBuilder) packet(r rec) *pcapBuilder {
	frac := uint32(r.ts.Nanosecond())
	if !b.nano {
		frac /= 1000
	}
	return b.record(uint32(r.ts.Unix()), frac, uint32(len(r.data)), uint32(r.origLen()), r.data)
}

func (b *pcapBuilder) bytes() []byte { return bytes.Clone(b.buf.Bytes()) }

// endian is a byte order that can also append.
type endian interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

// ngBuilder writes a pcapng file block by block.
type ngBuilder struct {
	order endian // of the current section
	buf   bytes.Buffer
}

// ngOpt is one option of an Interface Description Block.
type ngOpt struct {
	code  uint16
	value []byte
}

func newPcapng(order endian) *ngBuilder {
	b := &ngBuilder{}
	return b.section(order)
}

// block writes a block of type typ around body, padding body to 4 bytes.
func (b *ngBuilder) block(typ uint32, body []byte) *ngBuilder {
	pad := (4 - len(body)%4) % 4
	n := uint32(12 + len(body) + pad)
	b.u32(typ).u32(n)
	b.buf.Write(body)
	b.buf.Write(make([]byte, pad))
	return b.u32(n)
}

func (b *ngBuilder) u32(v uint32) *ngBuilder {
	b.buf.Write(b.order.AppendUint32(nil, v))
	return b
}

// section starts a section in the given byte order.
func (b *ngBuilder) section(order endian) *ngBuilder {
	b.order = order
	body := order.AppendUint32(nil, 0x1a2b3c4d)
	body = order.AppendUint16(body, 1)
	body = order.AppendUint16(body, 0)
	body = order.AppendUint64(body, 0xffffffffffffffff)                             // section length unknown
	body = append(body, b.options([]ngOpt{{code: 4, value: []byte("lc test")}})...) // shb_userappl
	return b.block(0x0a0d0d0a, body)
}

// iface writes an Interface Description Block.
func (b *ngBuilder) iface(link uint16, snaplen uint32, opts ...ngOpt) *ngBuilder {
	body := b.order.AppendUint16(nil, link)
	body = b.order.AppendUint16(body, 0)
	body = b.order.AppendUint32(body, snaplen)
	body = append(body, b.options(opts)...)
	return b.block(1, body)
}

func (b *ngBuilder) options(opts []ngOpt) []byte {
	if len(opts) == 0 {
		return nil
	}
	var out []byte
	for _, o := range opts {
		out = b.order.AppendUint16(out, o.code)
		out = b.order.AppendUint16(out, uint16(len(o.value)))
		out = append(out, o.value...)
		out = append(out, make([]byte, (4-len(o.value)%4)%4)...)
	}
	return append(out, 0, 0, 0, 0) // opt_endofopt
}

func tsresol(v byte) ngOpt { return ngOpt{code: 9, value: []byte{v}} }

func tsoffset(order endian, sec int64) ngOpt {
	return ngOpt{code: 14, value: order.AppendUint64(nil, uint64(sec))}
}

// epb writes an Enhanced Packet Block with a raw timestamp in interface
// units and a trailing comment option.
func (b *ngBuilder) epb(iface uint32, ts uint64, data []byte, orig int) *ngBuilder {
	body := b.order.AppendUint32(nil, iface)
	body = b.order.AppendUint32(body, uint32(ts>>32))
	body = b.order.AppendUint32(body, uint32(ts))
	body = b.order.AppendUint32(body, uint32(len(data)))
	body = b.order.AppendUint32(body, uint32(orig))
	body = append(body, data...)
	body = append(body, make([]byte, (4-len(data)%4)%4)...)
	body = append(body, b.options([]ngOpt{{code: 1, value: []byte("comment")}})...)
	return b.block(6, body)
}

// pb writes an obsolete Packet Block.
func (b *ngBuilder) pb(iface uint16, ts uint64, data []byte, orig int) *ngBuilder {
	body := b.order.AppendUint16(nil, iface)
	body = b.order.AppendUint16(body, 0) // drops
	body = b.order.AppendUint32(body, uint32(ts>>32))
	body = b.order.AppendUint32(body, uint32(ts))
	body = b.order.AppendUint32(body, uint32(len(data)))
	body = b.order.AppendUint32(body, uint32(orig))
	body = append(body, data...)
	return b.block(2, body)
}

// spb writes a Simple Packet Block.
func (b *ngBuilder) spb(data []byte, orig int) *ngBuilder {
	body := b.order.AppendUint32(nil, uint32(orig))
	return b.block(3, append(body, data...))
}

func (b *ngBuilder) bytes() []byte { return bytes.Clone(b.buf.Bytes()) }

// payload returns n bytes that differ between seeds.
func payload(seed, n int) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(seed*31 + i)
	}
	return p
}

// memFile opens b as a File named path, with its size known.
func memFile(tb testing.TB, path string, b []byte, source int) *File {
	tb.Helper()
	f, err := newFile(bytes.NewReader(b), path, int64(len(b)), source, nil)
	if err != nil {
		tb.Fatalf("open %s: %v", path, err)
	}
	return f
}

// diskFile writes b to a file in a temporary directory and returns its path.
func diskFile(tb testing.TB, name string, b []byte) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), name)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}

// readAll reads f to its end and returns the packets and the final error
// (nil at io.EOF).
func readAll(tb testing.TB, f interface{ Next() (Packet, error) }) ([]Packet, error) {
	tb.Helper()
	var pkts []Packet
	for range 1 << 20 {
		p, err := f.Next()
		if err == io.EOF {
			return pkts, nil
		}
		if err != nil {
			return pkts, err
		}
		pkts = append(pkts, p)
	}
	tb.Fatal("reader does not end")
	return nil, nil
}
