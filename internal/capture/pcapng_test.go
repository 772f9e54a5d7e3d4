package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// usec and nsec express base in pcapng timestamp units.
func usec(t time.Time) uint64 { return uint64(t.UnixMicro()) }
func nsec(t time.Time) uint64 { return uint64(t.UnixNano()) }

func TestPcapngInterfaces(t *testing.T) {
	for _, order := range []endian{binary.LittleEndian, binary.BigEndian} {
		t.Run(fmt.Sprint(order), func(t *testing.T) {
			b := newPcapng(order).
				iface(uint16(layers.LinkTypeEthernet), 65535).                                          // µs by default
				iface(uint16(layers.LinkTypeRaw), 0, tsresol(9), ngOpt{code: 2, value: []byte("eth1")}) // ns, if_name
			b.epb(0, usec(base), payload(1, 60), 60)
			b.epb(1, nsec(base.Add(5)), payload(2, 33), 1500)
			b.epb(0, usec(base.Add(time.Millisecond)), payload(3, 64), 64)
			b.epb(1, nsec(base.Add(time.Second)), nil, 0)
			file := b.bytes()

			f := memFile(t, "ifaces.pcapng", file, 4)
			pkts, err := readAll(t, f)
			if err != nil {
				t.Fatal(err)
			}
			want := []struct {
				ts       time.Time
				iface    int
				link     layers.LinkType
				nano     bool
				data     []byte
				orig     int
				captured int
			}{
				{base.Truncate(time.Microsecond), 0, layers.LinkTypeEthernet, false, payload(1, 60), 60, 60},
				{base.Add(5), 1, layers.LinkTypeRaw, true, payload(2, 33), 1500, 33},
				{base.Add(time.Millisecond).Truncate(time.Microsecond), 0, layers.LinkTypeEthernet, false, payload(3, 64), 64, 64},
				{base.Add(time.Second), 1, layers.LinkTypeRaw, true, nil, 0, 0},
			}
			if len(pkts) != len(want) {
				t.Fatalf("got %d packets, want %d", len(pkts), len(want))
			}
			for i, w := range want {
				p := pkts[i]
				if !p.Info.Timestamp.Equal(w.ts) || p.Info.Timestamp.Location() != time.UTC {
					t.Errorf("packet %d: timestamp %v, want %v", i, p.Info.Timestamp, w.ts)
				}
				if p.Info.InterfaceIndex != w.iface || p.LinkType != uint16(w.link) || p.Nanosecond != w.nano {
					t.Errorf("packet %d: iface %d link %v nano %v, want %d %v %v", i, p.Info.InterfaceIndex, p.LinkType, p.Nanosecond, w.iface, w.link, w.nano)
				}
				if !bytes.Equal(p.Data, w.data) || p.Info.CaptureLength != w.captured || p.Info.Length != w.orig {
					t.Errorf("packet %d: %d bytes, lengths %d/%d; want %d/%d", i, len(p.Data), p.Info.CaptureLength, p.Info.Length, w.captured, w.orig)
				}
				if p.Frame != i+1 || p.Source != 4 {
					t.Errorf("packet %d: frame %d source %d", i, p.Frame, p.Source)
				}
			}
			if f.Offset() != int64(len(file)) {
				t.Errorf("Offset = %d, want %d", f.Offset(), len(file))
			}
		})
	}
}

func TestPcapngTimestamps(t *testing.T) {
	tests := []struct {
		name string
		opts []ngOpt
		ts   uint64
		want time.Time
		nano bool
	}{
		{name: "default microseconds", ts: 1700000000123456, want: time.Unix(1700000000, 123456000)},
		{name: "milliseconds", opts: []ngOpt{tsresol(3)}, ts: 1700000000123, want: time.Unix(1700000000, 123000000)},
		{name: "seconds", opts: []ngOpt{tsresol(0)}, ts: 1700000000, want: time.Unix(1700000000, 0)},
		{name: "nanoseconds", opts: []ngOpt{tsresol(9)}, ts: 1700000000123456789, want: time.Unix(1700000000, 123456789), nano: true},
		{name: "10^-7", opts: []ngOpt{tsresol(7)}, ts: 17000000001234567, want: time.Unix(1700000000, 123456700), nano: true},
		{name: "picoseconds truncate to ns", opts: []ngOpt{tsresol(12)}, ts: 1000000123456789999, want: time.Unix(1000000, 123456789), nano: true},
		{name: "10^-19", opts: []ngOpt{tsresol(19)}, ts: 15_000_000_000_000_000_000, want: time.Unix(1, 500000000), nano: true},
		{name: "2^0", opts: []ngOpt{tsresol(0x80)}, ts: 1700000000, want: time.Unix(1700000000, 0)},
		{name: "2^-10 is coarser than µs", opts: []ngOpt{tsresol(0x80 | 10)}, ts: 5<<10 | 256, want: time.Unix(5, 250000000)},
		{name: "2^-20 is finer than µs", opts: []ngOpt{tsresol(0x80 | 20)}, ts: 5<<20 | 1<<19, want: time.Unix(5, 500000000), nano: true},
		{name: "2^-32", opts: []ngOpt{tsresol(0x80 | 32)}, ts: 1700000000<<32 | 3<<30, want: time.Unix(1700000000, 750000000), nano: true},
		{name: "2^-63", opts: []ngOpt{tsresol(0x80 | 63)}, ts: 3 << 61, want: time.Unix(0, 750000000), nano: true},
		{name: "positive offset", opts: []ngOpt{tsoffset(binary.LittleEndian, 3600)}, ts: 1500000, want: time.Unix(3601, 500000000)},
		{name: "negative offset with ns", opts: []ngOpt{tsresol(9), tsoffset(binary.LittleEndian, -100)}, ts: 1700000000000000001, want: time.Unix(1699999900, 1), nano: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := newPcapng(binary.LittleEndian).iface(1, 0, tt.opts...).epb(0, tt.ts, payload(1, 8), 8).bytes()
			pkts, err := readAll(t, memFile(t, "ts.pcapng", file, 0))
			if err != nil || len(pkts) != 1 {
				t.Fatalf("got %d packets, %v", len(pkts), err)
			}
			p := pkts[0]
			if !p.Info.Timestamp.Equal(tt.want) || p.Nanosecond != tt.nano {
				t.Errorf("timestamp %v nano %v, want %v %v", p.Info.Timestamp, p.Nanosecond, tt.want.UTC(), tt.nano)
			}
		})
	}
}

func TestPcapngSectionsAndBlocks(t *testing.T) {
	b := newPcapng(binary.LittleEndian).iface(uint16(layers.LinkTypeEthernet), 8)
	b.block(4, make([]byte, 8))           // Name Resolution Block
	b.block(0x00000bad, []byte("custom")) // custom block, copiable
	b.epb(0, usec(base), payload(1, 20), 20)
	b.block(5, make([]byte, 12)) // Interface Statistics Block
	b.spb(payload(2, 8), 20)     // snaplen 8 limits the captured length
	b.pb(0, usec(base.Add(time.Second)), payload(3, 10), 10)
	b.block(0x0000000a, []byte("secrets")) // Decryption Secrets Block
	b.section(binary.BigEndian).
		iface(uint16(layers.LinkTypeLinuxSLL), 0, tsresol(9)).
		iface(uint16(layers.LinkTypeRaw), 0)
	b.epb(1, usec(base.Add(2*time.Second)), payload(4, 5), 5)
	b.epb(0, nsec(base.Add(3*time.Second)), payload(5, 7), 7)
	b.section(binary.LittleEndian).iface(uint16(layers.LinkTypeIPv4), 0)
	b.spb(payload(6, 5), 5) // padded to 8 bytes, captured length 5
	b.block(0x80000001, nil)

	pkts, err := readAll(t, memFile(t, "sections.pcapng", b.bytes(), 0))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		ts       time.Time
		iface    int
		link     layers.LinkType
		data     []byte
		captured int
		orig     int
	}{
		{base.Truncate(time.Microsecond), 0, layers.LinkTypeEthernet, payload(1, 20), 20, 20},
		{time.Time{}, 0, layers.LinkTypeEthernet, payload(2, 8), 8, 20},
		{base.Add(time.Second).Truncate(time.Microsecond), 0, layers.LinkTypeEthernet, payload(3, 10), 10, 10},
		{base.Add(2 * time.Second).Truncate(time.Microsecond), 1, layers.LinkTypeRaw, payload(4, 5), 5, 5},
		{base.Add(3 * time.Second), 0, layers.LinkTypeLinuxSLL, payload(5, 7), 7, 7},
		{time.Time{}, 0, layers.LinkTypeIPv4, payload(6, 5), 5, 5},
	}
	if len(pkts) != len(want) {
		t.Fatalf("got %d packets, want %d", len(pkts), len(want))
	}
	for i, w := range want {
		p := pkts[i]
		if !p.Info.Timestamp.Equal(w.ts) || p.Info.InterfaceIndex != w.iface || p.LinkType != uint16(w.link) || p.Frame != i+1 {
			t.Errorf("packet %d: %v iface %d link %v frame %d; want %v %d %v %d", i, p.Info.Timestamp, p.Info.InterfaceIndex, p.LinkType, p.Frame, w.ts, w.iface, w.link, i+1)
		}
		if !bytes.Equal(p.Data, w.data) || p.Info.CaptureLength != w.captured || p.Info.Length != w.orig {
			t.Errorf("packet %d: %d bytes, lengths %d/%d; want %d/%d", i, len(p.Data), p.Info.CaptureLength, p.Info.Length, w.captured, w.orig)
		}
	}
}

func TestPcapngTruncated(t *testing.T) {
	head := newPcapng(binary.LittleEndian).iface(1, 0).epb(0, usec(base), payload(1, 30), 30)
	lastPacket := head.buf.Len()
	head.epb(0, usec(base), payload(2, 41), 41)
	lastBlock := head.buf.Len()
	file := head.block(5, make([]byte, 20)).bytes()

	tests := []struct {
		name     string
		from, to int // cut positions
		packets  int
		frame    int
		offset   int
	}{
		{name: "inside the last packet", from: lastPacket + 1, to: lastBlock, packets: 1, frame: 2, offset: lastPacket},
		{name: "inside a block after the last packet", from: lastBlock + 1, to: len(file), packets: 2, frame: 3, offset: lastBlock},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for cut := tt.from; cut < tt.to; cut++ {
				pkts, err := readAll(t, memFile(t, "cut.pcapng", file[:cut], 0))
				if len(pkts) != tt.packets || !errors.Is(err, ErrTruncated) {
					t.Fatalf("cut at %d: got %d packets, %v; want %d and ErrTruncated", cut, len(pkts), err, tt.packets)
				}
				prefix := fmt.Sprintf(`read capture "cut.pcapng": frame %d at offset %d: truncated capture`, tt.frame, tt.offset)
				if !strings.HasPrefix(err.Error(), prefix) {
					t.Fatalf("cut at %d: err = %q, want prefix %q", cut, err, prefix)
				}
			}
		})
	}
	t.Run("at block boundaries", func(t *testing.T) {
		for _, cut := range []int{lastPacket, lastBlock, len(file)} {
			if _, err := readAll(t, memFile(t, "cut.pcapng", file[:cut], 0)); err != nil {
				t.Errorf("cut at %d: %v, want clean end", cut, err)
			}
		}
	})
}

func TestPcapngCorrupt(t *testing.T) {
	le := binary.LittleEndian
	// good holds one packet; bad blocks are appended at offset len(good).
	good := func() *ngBuilder {
		return newPcapng(le).iface(1, 0).epb(0, 1, payload(1, 16), 16)
	}
	raw := func(words ...uint32) []byte {
		var b []byte
		for _, w := range words {
			b = le.AppendUint32(b, w)
		}
		return b
	}
	newSection := func(b *ngBuilder) { b.section(le) }
	tests := []struct {
		name   string
		before func(b *ngBuilder) // appends good blocks that precede the bad one
		bad    func(b *ngBuilder) // appends the bad block
		msg    string
	}{
		{name: "length below 12", bad: func(b *ngBuilder) { b.buf.Write(raw(5, 8, 8)) }, msg: "length 8 is shorter than 12"},
		{name: "length not a multiple of 4", bad: func(b *ngBuilder) { b.buf.Write(raw(5, 14, 0, 14)) }, msg: "not a multiple of 4"},
		{name: "length above 16 MiB", bad: func(b *ngBuilder) { b.buf.Write(raw(6, 1<<28)) }, msg: "exceeds the limit"},
		{name: "enhanced packet below 32", bad: func(b *ngBuilder) { b.buf.Write(raw(6, 28, 0, 0, 0, 0, 28)) }, msg: "shorter than 32"},
		{name: "trailer mismatch", bad: func(b *ngBuilder) { b.buf.Write(raw(5, 16, 0, 20)) }, msg: "block trailer 20 does not match block length 16"},
		{name: "captured length beyond block", bad: func(b *ngBuilder) { b.buf.Write(raw(6, 36, 0, 0, 0, 8, 8, 0, 36)) }, msg: "captured length 8 exceeds block length 36"},
		{name: "undeclared interface", bad: func(b *ngBuilder) { b.epb(3, 0, nil, 0) }, msg: "packet on interface 3, but the section describes 1"},
		{name: "packet before interface in new section", before: newSection, bad: func(b *ngBuilder) { b.epb(0, 0, nil, 0) }, msg: "packet on interface 0, but the section describes 0"},
		{name: "simple packet before interface", before: newSection, bad: func(b *ngBuilder) { b.spb(nil, 0) }, msg: "simple packet block before any interface"},
		{name: "tsresol 10^-20", bad: func(b *ngBuilder) { b.iface(1, 0, tsresol(20)) }, msg: "if_tsresol 10^-20"},
		{name: "tsresol 2^-64", bad: func(b *ngBuilder) { b.iface(1, 0, tsresol(0x80|64)) }, msg: "if_tsresol 2^-64"},
		{name: "tsresol of 2 bytes", bad: func(b *ngBuilder) { b.iface(1, 0, ngOpt{code: 9, value: []byte{6, 0}}) }, msg: "if_tsresol of 2 bytes"},
		{name: "tsoffset of 4 bytes", bad: func(b *ngBuilder) { b.iface(1, 0, ngOpt{code: 14, value: make([]byte, 4)}) }, msg: "if_tsoffset of 4 bytes"},
		{name: "option overruns block", bad: func(b *ngBuilder) { b.block(1, raw(1, 0, 9|40<<16)) }, msg: "interface option 9 of 40 bytes overruns"},
		{name: "bad byte-order magic", bad: func(b *ngBuilder) { b.buf.Write(raw(0x0a0d0d0a, 28, 0x11223344, 1, 0, 0, 28)) }, msg: "byte-order magic 0x44332211"},
		{name: "unsupported version", bad: func(b *ngBuilder) { b.buf.Write(raw(0x0a0d0d0a, 28, 0x1a2b3c4d, 2, 0, 0, 28)) }, msg: "pcapng version 2.0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := good()
			if tt.before != nil {
				tt.before(b)
			}
			at := b.buf.Len()
			tt.bad(b)
			b.epb(0, 2, payload(2, 16), 16) // never reached
			f := memFile(t, "bad.pcapng", b.bytes(), 0)
			pkts, err := readAll(t, f)
			if len(pkts) != 1 || !errors.Is(err, ErrCorrupt) {
				t.Fatalf("got %d packets, %v; want 1 and ErrCorrupt", len(pkts), err)
			}
			prefix := fmt.Sprintf(`read capture "bad.pcapng": frame 2 at offset %d: corrupt capture: `, at)
			if !strings.HasPrefix(err.Error(), prefix) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("err = %q, want prefix %q and %q", err, prefix, tt.msg)
			}
			if _, again := f.Next(); again != err {
				t.Errorf("Next after corruption = %v, want the same error", again)
			}
		})
	}
}

func TestPcapngOpenErrors(t *testing.T) {
	le := binary.LittleEndian
	tests := []struct {
		name    string
		file    []byte
		wantErr error
	}{
		{name: "bad byte-order magic", file: bytes.Replace(newPcapng(le).bytes(), []byte{0x4d, 0x3c, 0x2b, 0x1a}, []byte{1, 2, 3, 4}, 1), wantErr: ErrCorrupt},
		{name: "section header cut short", file: newPcapng(le).bytes()[:20], wantErr: ErrTruncated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := newFile(bytes.NewReader(tt.file), "open.pcapng", 0, 0, nil)
			if !errors.Is(err, tt.wantErr) || !strings.HasPrefix(err.Error(), `open capture "open.pcapng": file header: `) {
				t.Errorf("err = %v, want %v naming the path", err, tt.wantErr)
			}
		})
	}
}

func TestPcapngLinkTypeAbove255(t *testing.T) {
	b := newPcapng(binary.LittleEndian).iface(1, 0).iface(276, 0) // LINKTYPE_LINUX_SLL2
	b.epb(0, 1, payload(1, 10), 10)
	b.epb(1, 2, payload(2, 10), 10)
	pkts, err := readAll(t, memFile(t, "sll2.pcapng", b.bytes(), 0))
	if err != nil {
		t.Fatal(err)
	}
	want := []uint16{1, 276}
	if len(pkts) != len(want) {
		t.Fatalf("got %d packets, want %d", len(pkts), len(want))
	}
	for i, lt := range want {
		if pkts[i].LinkType != lt || pkts[i].Info.InterfaceIndex != i {
			t.Errorf("packet %d: link type %d on interface %d, want %d on %d", i, pkts[i].LinkType, pkts[i].Info.InterfaceIndex, lt, i)
		}
	}
}
