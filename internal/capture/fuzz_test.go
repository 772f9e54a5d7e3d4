package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

// fuzzSeeds returns small files of every kind the reader knows, whole and
// damaged.
func fuzzSeeds() [][]byte {
	le, be := binary.LittleEndian, binary.BigEndian
	var seeds [][]byte
	for _, order := range []binary.ByteOrder{le, be} {
		for _, nano := range []bool{false, true} {
			b := newPcap(order, nano, 1, 65535)
			b.packet(rec{ts: base, data: payload(1, 40)})
			b.packet(rec{ts: base.Add(time.Second), data: payload(2, 12), orig: 1500})
			seeds = append(seeds, b.bytes())
		}
	}
	ng := newPcapng(le).
		iface(1, 65535).
		iface(101, 0, tsresol(9), tsoffset(le, -5))
	ng.epb(0, 1, payload(1, 30), 30).epb(1, 2, payload(2, 7), 9)
	ng.block(5, make([]byte, 8))
	ng.spb(payload(3, 6), 6).pb(1, 3, payload(4, 4), 4)
	ng.section(be).iface(113, 16, tsresol(0x80|20)).epb(0, 4, payload(5, 20), 20)
	seeds = append(seeds, ng.bytes())

	swapped := newPcap(be, false, 0, 0xffff)
	swapped.recs = le
	swapped.record(1, 2, 8, 8, payload(1, 8))
	seeds = append(seeds, swapped.bytes())

	n := len(seeds)
	for _, s := range seeds[:n] {
		seeds = append(seeds, s[:len(s)-3])
	}
	return seeds
}

// compressedSeeds returns seeds compressed with gzip and zstd, whole, cut
// short, in several members or frames, and with a damaged byte, so that
// the fuzzer starts from inputs that reach the decoders.
func compressedSeeds(tb testing.TB, seeds [][]byte) [][]byte {
	var out [][]byte
	for _, s := range seeds {
		for _, packed := range [][]byte{
			gzipped(tb, s), zstded(tb, s),
			gzipMembers(tb, s, len(s)/2), zstdFrames(tb, s, len(s)/3),
		} {
			damaged := bytes.Clone(packed)
			damaged[len(damaged)*2/3] ^= 0x55
			out = append(out, packed, packed[:len(packed)-5], damaged)
		}
	}
	return out
}

// FuzzFile feeds arbitrary bytes to a File, compressed or not. It must not
// panic, must end, must report only the documented errors, and must not
// allocate packet memory beyond what the input holds once decompressed.
func FuzzFile(f *testing.F) {
	seeds := fuzzSeeds()
	for _, s := range append(seeds, compressedSeeds(f, seeds[:len(seeds)/2])...) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := newFile(bytes.NewReader(data), "fuzz", int64(len(data)), 1, nil)
		if err != nil {
			if !strings.HasPrefix(err.Error(), `open capture "fuzz"`) {
				t.Fatalf("open error without the path: %v", err)
			}
			return
		}
		defer file.Close()
		last := file.Offset()
		for frame := 1; ; frame++ {
			p, err := file.Next()
			if err != nil {
				if err != io.EOF && !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrCorrupt) {
					t.Fatalf("undocumented error: %v", err)
				}
				if _, again := file.Next(); again != err {
					t.Fatalf("error not sticky: %v then %v", err, again)
				}
				break
			}
			if p.Frame != frame || p.Source != 1 {
				t.Fatalf("frame %d source %d, want %d 1", p.Frame, p.Source, frame)
			}
			checkFuzzPacket(t, file, p, data, last)
			last = file.Offset()
			if last > fuzzMaxUncompressed {
				return // a small input that decompresses to a great deal
			}
		}
	})
}

// fuzzMaxUncompressed is how much of a compressed input FuzzFile reads.
const fuzzMaxUncompressed = 64 << 20

// checkFuzzPacket checks a packet that file returned from the input data,
// and the offsets after it; last is the Offset before it.
func checkFuzzPacket(t *testing.T, file *File, p Packet, data []byte, last int64) {
	t.Helper()
	if len(p.Data) != p.Info.CaptureLength || p.Info.Length < p.Info.CaptureLength {
		t.Fatalf("lengths: data %d captured %d original %d", len(p.Data), p.Info.CaptureLength, p.Info.Length)
	}
	off, consumed := file.Offset(), file.Consumed()
	if off < int64(p.Frame)*12 {
		t.Fatalf("packet %d after %d bytes: more packets than the input can hold", p.Frame, off)
	}
	if cap(p.Data) > 2*int(max(off, int64(len(data)))) {
		t.Fatalf("packet buffer of %d bytes from a %d-byte input", cap(p.Data), len(data))
	}
	if off <= last || consumed > int64(len(data)) {
		t.Fatalf("offset %d after %d, %d bytes consumed of %d", off, last, consumed, len(data))
	}
	if file.Compression() == "" && consumed != off {
		t.Fatalf("uncompressed input: %d bytes consumed at offset %d", consumed, off)
	}
}
