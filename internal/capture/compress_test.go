package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// gzipped returns b compressed as one gzip member.
func gzipped(tb testing.TB, b []byte) []byte {
	tb.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	if _, err := w.Write(b); err != nil {
		tb.Fatal(err)
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// gzipMembers returns b cut at the given offsets, each part compressed as
// a gzip member of its own, the members joined as cat joins files.
func gzipMembers(tb testing.TB, b []byte, cuts ...int) []byte {
	return joined(tb, gzipped, b, cuts)
}

// joined returns b cut at the given offsets, each part compressed by
// compress, the parts joined.
func joined(tb testing.TB, compress func(testing.TB, []byte) []byte, b []byte, cuts []int) []byte {
	tb.Helper()
	var out []byte
	last := 0
	for _, c := range append(cuts, len(b)) {
		out = append(out, compress(tb, b[last:c])...)
		last = c
	}
	return out
}

// zstded returns b compressed as one zstd frame with a checksum.
func zstded(tb testing.TB, b []byte) []byte {
	tb.Helper()
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
	if err != nil {
		tb.Fatal(err)
	}
	defer enc.Close()
	return enc.EncodeAll(b, nil)
}

// zstdFrames is gzipMembers for zstd frames.
func zstdFrames(tb testing.TB, b []byte, cuts ...int) []byte {
	return joined(tb, zstded, b, cuts)
}

// compressors are the ways the tests compress a capture; cuts inside a
// file are at offsets that fall within records.
var compressors = []struct {
	name   string
	format string
	pack   func(tb testing.TB, b []byte) []byte
}{
	{name: "gzip", format: "gzip", pack: gzipped},
	{name: "gzip members", format: "gzip", pack: func(tb testing.TB, b []byte) []byte {
		return gzipMembers(tb, b, 3, len(b)/2+1, len(b)-5)
	}},
	{name: "zstd", format: "zstd", pack: zstded},
	{name: "zstd frames", format: "zstd", pack: func(tb testing.TB, b []byte) []byte {
		return zstdFrames(tb, b, 3, len(b)/2+1, len(b)-5)
	}},
}

// compressedCaptures are captures of every kind, large enough to fill more
// than one read buffer.
func compressedCaptures() []struct {
	name string
	file []byte
} {
	le, be := binary.LittleEndian, binary.BigEndian
	pcap := newPcap(le, false, 1, 65535)
	pcapNano := newPcap(be, true, 1, 1<<20)
	ng := newPcapng(le).iface(1, 65535).iface(101, 0, tsresol(9))
	for i := range 3000 {
		ts := base.Add(time.Duration(i) * 20 * time.Millisecond)
		pcap.packet(rec{ts: ts, data: payload(i, 60+i%200)})
		pcapNano.packet(rec{ts: ts, data: payload(i, 60+i%200)})
		ng.epb(uint32(i%2), nsec(ts), payload(i, 60+i%200), 1500)
	}
	pcapNano.packet(rec{ts: base, data: payload(1, readBufferSize+100)})
	ng.section(be).iface(113, 0).spb(payload(1, 50), 50)
	return []struct {
		name string
		file []byte
	}{
		{name: "pcap", file: pcap.bytes()},
		{name: "pcap nanosecond big-endian", file: pcapNano.bytes()},
		{name: "pcapng", file: ng.bytes()},
	}
}

// TestCompressedSamePackets: a compressed capture gives exactly the packets
// of the capture itself, and counts its bytes both ways.
func TestCompressedSamePackets(t *testing.T) {
	for _, c := range compressedCaptures() {
		want, err := readAll(t, memFile(t, "plain", c.file, 4))
		if err != nil {
			t.Fatal(err)
		}
		for _, comp := range compressors {
			t.Run(c.name+"/"+comp.name, func(t *testing.T) {
				packed := comp.pack(t, c.file)
				f := memFile(t, "packed", packed, 4)
				defer f.Close()
				got, err := readAll(t, f)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("got %d packets, want the %d of the uncompressed file", len(got), len(want))
				}
				if f.Compression() != comp.format || f.Offset() != int64(len(c.file)) ||
					f.Consumed() != int64(len(packed)) || f.Size() != int64(len(packed)) {
					t.Errorf("Compression %q Offset %d Consumed %d Size %d, want %q %d %d %d",
						f.Compression(), f.Offset(), f.Consumed(), f.Size(), comp.format, len(c.file), len(packed), len(packed))
				}
			})
		}
	}
}

// TestCompressedTruncated cuts compressed captures at every byte: the
// packets before the cut are those of the uncompressed file, and the error
// wraps ErrTruncated and names the format.
func TestCompressedTruncated(t *testing.T) {
	b := newPcap(binary.LittleEndian, false, 1, 65535)
	for i := range 20 {
		b.packet(rec{ts: base.Add(time.Duration(i) * time.Second), data: payload(i, 40+i)})
	}
	file := b.bytes()
	want, err := readAll(t, memFile(t, "plain", file, 0))
	if err != nil {
		t.Fatal(err)
	}
	for _, comp := range compressors {
		t.Run(comp.name, func(t *testing.T) {
			packed := comp.pack(t, file)
			for n := 4; n < len(packed); n++ {
				got, err := readCut(t, packed[:n])
				if !errors.Is(err, ErrTruncated) || errors.Is(err, ErrCorrupt) {
					t.Fatalf("cut at %d of %d: err = %v, want ErrTruncated", n, len(packed), err)
				}
				if !strings.Contains(err.Error(), `capture "cut" (`+comp.format+`): `) {
					t.Fatalf("cut at %d: %q does not name the format", n, err)
				}
				if len(got) > 0 && !reflect.DeepEqual(got, want[:len(got)]) {
					t.Fatalf("cut at %d: the %d packets before the cut differ", n, len(got))
				}
			}
		})
	}
}

// TestCompressedTruncatedHalf cuts a larger capture in the middle: the
// packets of the blocks before the cut come through.
func TestCompressedTruncatedHalf(t *testing.T) {
	b := newPcap(binary.LittleEndian, false, 1, 65535)
	for i := range 2000 {
		b.packet(rec{ts: base, data: noise(i, 200)})
	}
	file := b.bytes()
	want, err := readAll(t, memFile(t, "plain", file, 0))
	if err != nil {
		t.Fatal(err)
	}
	for _, comp := range compressors {
		t.Run(comp.name, func(t *testing.T) {
			packed := comp.pack(t, file)
			got, err := readCut(t, packed[:len(packed)/2])
			if !errors.Is(err, ErrTruncated) || len(got) < len(want)/4 || !reflect.DeepEqual(got, want[:len(got)]) {
				t.Errorf("%d of %d packets before the cut, %v; want a good part, then ErrTruncated", len(got), len(want), err)
			}
		})
	}
}

// readCut opens and reads a cut input, returning the packets and the error
// of OpenFile or of the File.
func readCut(tb testing.TB, b []byte) ([]Packet, error) {
	tb.Helper()
	f, err := newFile(bytes.NewReader(b), "cut", int64(len(b)), 0, nil)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readAll(tb, f)
}

func TestCompressedTruncatedMessage(t *testing.T) {
	b := newPcap(binary.LittleEndian, false, 1, 65535)
	for i := range 3 {
		b.packet(rec{ts: base, data: payload(i, 100)})
	}
	file := b.bytes()
	packed := gzipped(t, file)
	_, err := readCut(t, packed[:len(packed)-4])
	want := fmt.Sprintf(`read capture "cut" (gzip): frame 4 at uncompressed offset %d: truncated capture: compressed stream cut off after %d bytes`,
		len(file), len(packed)-4)
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant %s", err, want)
	}
}

// TestCompressedCorrupt: data the decoder refuses ends the File with an
// error wrapping ErrCorrupt that names the format; the packets decoded
// before it are kept.
func TestCompressedCorrupt(t *testing.T) {
	b := newPcap(binary.LittleEndian, false, 1, 65535)
	for i := range 2000 {
		b.packet(rec{ts: base, data: noise(i, 100)})
	}
	file := b.bytes()
	flip := func(b []byte, i int) []byte {
		b = bytes.Clone(b)
		b[(len(b)+i)%len(b)] ^= 0xff
		return b
	}
	garbage := []byte("not a compressed stream")
	tests := []struct {
		name    string
		packed  []byte
		format  string
		wantErr error
		wantMsg string
		wantAll bool // every packet comes before the error, else some do
	}{
		{name: "gzip checksum", packed: flip(gzipped(t, file), -8), format: "gzip", wantErr: gzip.ErrChecksum,
			wantMsg: "corrupt capture: compressed data: gzip: invalid checksum", wantAll: true},
		{name: "gzip trailing garbage", packed: append(gzipped(t, file), garbage...), format: "gzip", wantErr: gzip.ErrHeader,
			wantMsg: "corrupt capture: compressed data: gzip: invalid header", wantAll: true},
		{name: "gzip deflate data", packed: flip(gzipped(t, file), len(gzipped(t, file))/2), format: "gzip"},
		// zstd withholds the block whose checksum fails.
		{name: "zstd checksum", packed: flip(zstded(t, file), -1), format: "zstd", wantErr: zstd.ErrCRCMismatch,
			wantMsg: "corrupt capture: compressed data: " + zstd.ErrCRCMismatch.Error()},
		{name: "zstd trailing garbage", packed: append(zstded(t, file), garbage...), format: "zstd", wantErr: zstd.ErrMagicMismatch, wantAll: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readCut(t, tt.packed)
			if !errors.Is(err, ErrCorrupt) || tt.wantErr != nil && !errors.Is(err, tt.wantErr) || errors.Is(err, ErrTruncated) {
				t.Fatalf("err = %v, want ErrCorrupt and %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), `capture "cut" (`+tt.format+`): `) || !strings.HasSuffix(err.Error(), tt.wantMsg) {
				t.Errorf("err = %q, want the format named and ending %q", err, tt.wantMsg)
			}
			if len(got) == 0 || tt.wantAll && len(got) != 2000 {
				t.Errorf("%d packets before the error, want all: %v", len(got), tt.wantAll)
			}
		})
	}
}

// noise returns n bytes that compress as badly as audio does.
func noise(seed, n int) []byte {
	r := rand.New(rand.NewPCG(uint64(seed), 1))
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(r.Uint32())
	}
	return p
}

// TestCompressedOpenErrors: what OpenFile reports for compressed input
// that holds no capture.
func TestCompressedOpenErrors(t *testing.T) {
	tests := []struct {
		name    string
		file    []byte
		wantErr error
		wantMsg string // %q is replaced by the quoted path
	}{
		{name: "not a capture", file: gzipped(t, []byte("hello world")),
			wantMsg: "open capture %q (gzip): not a pcap or pcapng file (magic 0x68656c6c)"},
		{name: "compressed twice", file: gzipped(t, gzipped(t, []byte("hello world"))),
			wantMsg: "open capture %q (gzip): not a pcap or pcapng file (magic 0x1f8b0800)"},
		{name: "empty gzip", file: gzipped(t, nil), wantErr: ErrTruncated,
			wantMsg: "open capture %q (gzip): truncated capture: empty input"},
		{name: "empty zstd", file: zstded(t, nil), wantErr: ErrTruncated,
			wantMsg: "open capture %q (zstd): truncated capture: empty input"},
		{name: "gzip header cut short", file: gzipped(t, nil)[:6], wantErr: ErrTruncated,
			wantMsg: "open capture %q (gzip): truncated capture: compressed stream cut off after 6 bytes"},
		{name: "zstd header cut short", file: zstded(t, nil)[:5], wantErr: ErrTruncated,
			wantMsg: "open capture %q (zstd): truncated capture: compressed stream cut off after 5 bytes"},
		{name: "pcap header cut short", file: gzipped(t, []byte{0xd4, 0xc3, 0xb2, 0xa1, 2, 0}), wantErr: ErrTruncated,
			wantMsg: "open capture %q (gzip): file header: truncated capture: record cut off after 6 of 24 bytes"},
		{name: "zstd window too large", file: []byte{0x28, 0xb5, 0x2f, 0xfd, 0x00, 0xb8, 0, 0, 0, 0, 0, 0}, wantErr: ErrCorrupt,
			wantMsg: "open capture %q (zstd): corrupt capture: compressed data: " + zstd.ErrWindowSizeExceeded.Error()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := diskFile(t, "capture", tt.file)
			f, err := OpenFile(path, 0)
			if err == nil {
				f.Close()
				t.Fatal("OpenFile succeeded")
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
			if want := fmt.Sprintf(tt.wantMsg, path); err.Error() != want {
				t.Errorf("err = %q\nwant %q", err, want)
			}
		})
	}
}

// TestCompressedReadError: an error reading the compressed input is
// passed on as it is, not taken for damaged data.
func TestCompressedReadError(t *testing.T) {
	errDisk := errors.New("disk on fire")
	b := newPcap(binary.LittleEndian, false, 1, 65535)
	for i := range 2000 {
		b.packet(rec{ts: base, data: noise(i, 200)})
	}
	for _, comp := range compressors {
		t.Run(comp.name, func(t *testing.T) {
			packed := comp.pack(t, b.bytes())
			r := io.MultiReader(bytes.NewReader(packed[:len(packed)/2]), iotest.ErrReader(errDisk))
			f, err := newFile(r, "disk", 0, 0, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			got, err := readAll(t, f)
			if !errors.Is(err, errDisk) || errors.Is(err, ErrCorrupt) || errors.Is(err, ErrTruncated) || len(got) == 0 {
				t.Errorf("%d packets, err = %v; want some, then the read error alone", len(got), err)
			}
		})
	}
}

// TestCompressedFromDisk: compression is found by content, whatever the
// file is called, on disk as on standard input, and progress counts
// compressed bytes.
func TestCompressedFromDisk(t *testing.T) {
	file := newPcapng(binary.BigEndian).iface(1, 0).
		epb(0, usec(base), payload(1, 70), 70).
		epb(0, usec(base), payload(2, 80), 80).bytes()
	for _, comp := range compressors {
		t.Run(comp.name, func(t *testing.T) {
			packed := comp.pack(t, file)
			path := diskFile(t, "capture.pcapng", packed)
			f, err := OpenFile(path, 0)
			if err != nil {
				t.Fatal(err)
			}
			m := NewMerger([]*File{f})
			defer m.Close()
			pkts, err := readAll(t, m)
			if err != nil || len(pkts) != 2 || !bytes.Equal(pkts[1].Data, payload(2, 80)) {
				t.Fatalf("got %d packets, %v", len(pkts), err)
			}
			if done, total := m.Progress(); done != int64(len(packed)) || total != int64(len(packed)) {
				t.Errorf("Progress = %d/%d, want %d/%d", done, total, len(packed), len(packed))
			}

			stdin := &stdinReader{Reader: bytes.NewReader(packed)}
			f, err = openFile("-", 1, stdin)
			if err != nil {
				t.Fatal(err)
			}
			pkts, err = readAll(t, f)
			if err != nil || len(pkts) != 2 || f.Size() != 0 || f.Compression() != comp.format {
				t.Fatalf("standard input: %d packets, size %d, compression %q, %v", len(pkts), f.Size(), f.Compression(), err)
			}
			if err := f.Close(); err != nil || stdin.closed {
				t.Errorf("Close = %v, stdin closed %v; want standard input left open", err, stdin.closed)
			}

			fh, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer fh.Close()
			f, err = openFile("-", 0, fh)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := readAll(t, f); err != nil || f.Size() != int64(len(packed)) || f.Consumed() != f.Size() {
				t.Errorf("standard input from a file: Consumed %d Size %d, want %d; %v", f.Consumed(), f.Size(), len(packed), err)
			}
		})
	}
}

// TestCompressedClose: Close releases the decoder; reading afterwards
// fails as for any closed File.
func TestCompressedClose(t *testing.T) {
	file := newPcap(binary.LittleEndian, false, 1, 65535).packet(rec{ts: base, data: payload(1, 10)}).bytes()
	for _, comp := range compressors {
		t.Run(comp.name, func(t *testing.T) {
			f := memFile(t, "packed", comp.pack(t, file), 0)
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			if _, err := f.Next(); !errors.Is(err, os.ErrClosed) || !strings.HasPrefix(err.Error(), `read capture "packed" (`+comp.format+`)`) {
				t.Errorf("Next after Close = %v", err)
			}
			if err := f.Close(); err != nil {
				t.Errorf("second Close = %v", err)
			}
		})
	}
}
