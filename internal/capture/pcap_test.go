package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// base is a timestamp with nanosecond digits.
var base = time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC)

func testRecs() []rec {
	return []rec{
		{ts: base, data: payload(1, 60)},
		{ts: base.Add(1500 * time.Microsecond), data: payload(2, 1514), orig: 9000}, // snapped
		{ts: base.Add(2*time.Second + 7), data: payload(3, 100), orig: 40},          // caplen > origlen
		{ts: base.Add(3 * time.Second), data: nil},                                  // empty record
	}
}

func TestPcapVariants(t *testing.T) {
	tests := []struct {
		name  string
		order binary.ByteOrder
		nano  bool
		link  layers.LinkType
	}{
		{name: "little-endian microseconds", order: binary.LittleEndian, link: layers.LinkTypeEthernet},
		{name: "big-endian microseconds", order: binary.BigEndian, link: layers.LinkTypeLinuxSLL},
		{name: "little-endian nanoseconds", order: binary.LittleEndian, nano: true, link: layers.LinkTypeRaw},
		{name: "big-endian nanoseconds", order: binary.BigEndian, nano: true, link: layers.LinkTypeIPv4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs := testRecs()
			b := newPcap(tt.order, tt.nano, uint32(tt.link), 65535)
			for _, r := range recs {
				b.packet(r)
			}
			file := b.bytes()
			f := memFile(t, "variant.pcap", file, 7)
			pkts, err := readAll(t, f)
			if err != nil {
				t.Fatal(err)
			}
			if len(pkts) != len(recs) {
				t.Fatalf("got %d packets, want %d", len(pkts), len(recs))
			}
			for i, p := range pkts {
				r := recs[i]
				want := r.ts
				if !tt.nano {
					want = want.Truncate(time.Microsecond)
				}
				if !p.Info.Timestamp.Equal(want) || p.Info.Timestamp.Location() != time.UTC {
					t.Errorf("packet %d: timestamp %v, want %v UTC", i, p.Info.Timestamp, want)
				}
				if !bytes.Equal(p.Data, r.data) {
					t.Errorf("packet %d: data differs", i)
				}
				if p.Info.CaptureLength != len(r.data) || p.Info.Length != max(r.origLen(), len(r.data)) {
					t.Errorf("packet %d: lengths %d/%d, want %d/%d", i, p.Info.CaptureLength, p.Info.Length, len(r.data), max(r.origLen(), len(r.data)))
				}
				if p.LinkType != uint16(tt.link) || p.Nanosecond != tt.nano || p.Source != 7 || p.Frame != i+1 || p.Info.InterfaceIndex != 0 {
					t.Errorf("packet %d: link %v nano %v source %d frame %d iface %d", i, p.LinkType, p.Nanosecond, p.Source, p.Frame, p.Info.InterfaceIndex)
				}
			}
			if f.Offset() != int64(len(file)) {
				t.Errorf("Offset = %d, want %d", f.Offset(), len(file))
			}
			if _, err := f.Next(); err != io.EOF {
				t.Errorf("Next after end = %v, want io.EOF", err)
			}
		})
	}
}

func TestPcapLinkTypeField(t *testing.T) {
	tests := []struct {
		name  string
		field uint32
		want  uint16
	}{
		{name: "ethernet", field: 1, want: uint16(layers.LinkTypeEthernet)},
		{name: "FCS bits above the link type", field: 0x1<<28 | 0x4<<29 | 1, want: uint16(layers.LinkTypeEthernet)},
		{name: "linux SLL2 above 255", field: 276, want: 276},
		{name: "linux SLL2 with FCS bits", field: 0x1<<28 | 0x4<<29 | 276, want: 276},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := newPcap(binary.LittleEndian, false, tt.field, 65535).packet(rec{ts: base, data: payload(1, 10)}).bytes()
			f, err := newFile(bytes.NewReader(file), "link.pcap", 0, 0, nil)
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			p, err := f.Next()
			if err != nil || p.LinkType != tt.want {
				t.Errorf("Next = %v, %v; want link type %v", p.LinkType, err, tt.want)
			}
		})
	}
}

func TestPcapTruncated(t *testing.T) {
	recs := testRecs()[:3]
	b := newPcap(binary.LittleEndian, true, 1, 65535)
	b.packet(recs[0]).packet(recs[1])
	last := b.buf.Len()
	file := b.packet(recs[2]).bytes()

	for cut := last; cut < len(file); cut++ {
		t.Run(fmt.Sprintf("cut at %d", cut), func(t *testing.T) {
			f := memFile(t, "cut.pcap", file[:cut], 0)
			pkts, err := readAll(t, f)
			if len(pkts) != 2 {
				t.Fatalf("got %d packets before the cut, want 2", len(pkts))
			}
			if cut == last {
				if err != nil {
					t.Fatalf("cut at a record boundary: %v, want clean end", err)
				}
				return
			}
			if !errors.Is(err, ErrTruncated) {
				t.Fatalf("err = %v, want ErrTruncated", err)
			}
			prefix := fmt.Sprintf(`read capture "cut.pcap": frame 3 at offset %d: `, last)
			if !strings.HasPrefix(err.Error(), prefix) {
				t.Errorf("err = %q, want prefix %q", err, prefix)
			}
			if _, again := f.Next(); again != err {
				t.Errorf("Next after truncation = %v, want the same error", again)
			}
		})
	}
}

func TestPcapHeaderTruncated(t *testing.T) {
	file := newPcap(binary.BigEndian, false, 1, 65535).bytes()
	for cut := range len(file) {
		_, err := newFile(bytes.NewReader(file[:cut]), "hdr.pcap", 0, 0, nil)
		if !errors.Is(err, ErrTruncated) || !strings.HasPrefix(err.Error(), `open capture "hdr.pcap": `) {
			t.Errorf("cut at %d: err = %v, want ErrTruncated naming the path", cut, err)
		}
	}
}

func TestPcapCorruptLength(t *testing.T) {
	tests := []struct {
		name    string
		snaplen uint32
		caplen  uint32
		corrupt bool
	}{
		{name: "limit is at least 262144", snaplen: 65535, caplen: 262144},
		{name: "above 262144 and snaplen", snaplen: 65535, caplen: 262145, corrupt: true},
		{name: "large snaplen raises the limit", snaplen: 400000, caplen: 300000},
		{name: "above a large snaplen", snaplen: 400000, caplen: 400001, corrupt: true},
		{name: "snaplen beyond 16 MiB is capped", snaplen: 0xffffffff, caplen: maxRecordLen + 1, corrupt: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newPcap(binary.LittleEndian, false, 1, tt.snaplen)
			b.packet(rec{ts: base, data: payload(1, 50)}).packet(rec{ts: base, data: payload(2, 50)})
			bad := b.buf.Len()
			b.record(1, 0, tt.caplen, tt.caplen, make([]byte, min(tt.caplen, 400000)))
			b.packet(rec{ts: base, data: payload(4, 50)})
			f := memFile(t, "bad.pcap", b.bytes(), 0)
			pkts, err := readAll(t, f)
			if !tt.corrupt {
				if err != nil || len(pkts) != 4 || pkts[2].Info.CaptureLength != int(tt.caplen) {
					t.Fatalf("got %d packets, %v; want 4 with the record of %d bytes", len(pkts), err, tt.caplen)
				}
				return
			}
			if len(pkts) != 2 || !errors.Is(err, ErrCorrupt) {
				t.Fatalf("got %d packets, %v; want 2 and ErrCorrupt", len(pkts), err)
			}
			prefix := fmt.Sprintf(`read capture "bad.pcap": frame 3 at offset %d: corrupt capture: record length %d exceeds`, bad, tt.caplen)
			if !strings.HasPrefix(err.Error(), prefix) {
				t.Errorf("err = %q, want prefix %q", err, prefix)
			}
			for range 3 {
				if _, again := f.Next(); again != err {
					t.Fatalf("Next after corruption = %v, want the same error", again)
				}
			}
		})
	}
}

// TestPcapSwappedRecordHeaders describes files like pkts/cool.pcap: a
// big-endian file header followed by little-endian record headers. The
// reader trusts the file header, so every record length is read
// byte-swapped. No heuristic repairs this; the file fails at the first
// record in one of two ways.
func TestPcapSwappedRecordHeaders(t *testing.T) {
	tests := []struct {
		name    string
		caplen  uint32 // as written, little-endian
		wantErr error
		wantMsg string
	}{
		{
			// 0x223 read big-endian is 0x23020000, far above the limit:
			// the file is corrupt at frame 1, right after the header.
			name:    "swapped length above the limit (cool.pcap)",
			caplen:  0x223,
			wantErr: ErrCorrupt,
			wantMsg: `read capture "swapped.pcap": frame 1 at offset 24: corrupt capture: record length 587333632 exceeds the limit of 262144 bytes`,
		},
		{
			// 0x100 read big-endian is 0x10000 (65536), within the
			// limit: the reader expects 64 KiB of data that the file
			// does not have, so it ends truncated at frame 1.
			name:    "swapped length within the limit",
			caplen:  0x100,
			wantErr: ErrTruncated,
			wantMsg: `read capture "swapped.pcap": frame 1 at offset 24: truncated capture: record cut off after`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newPcap(binary.BigEndian, false, 0, 0xffff)
			b.recs = binary.LittleEndian
			for i := range 3 {
				b.record(0x4fe65505+uint32(i), 0x0c1786, tt.caplen, tt.caplen, payload(i, int(tt.caplen)))
			}
			f := memFile(t, "swapped.pcap", b.bytes(), 0)
			pkts, err := readAll(t, f)
			if len(pkts) != 0 || !errors.Is(err, tt.wantErr) {
				t.Fatalf("got %d packets, %v; want none and %v", len(pkts), err, tt.wantErr)
			}
			if !strings.HasPrefix(err.Error(), tt.wantMsg) {
				t.Errorf("err = %q, want prefix %q", err, tt.wantMsg)
			}
		})
	}
}
