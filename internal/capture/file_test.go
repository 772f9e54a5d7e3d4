package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestOpenFileFromDisk(t *testing.T) {
	file := newPcap(binary.LittleEndian, false, 1, 65535).
		packet(rec{ts: base, data: payload(1, 100)}).
		packet(rec{ts: base, data: payload(2, 100)}).bytes()
	path := diskFile(t, "disk.pcap", file)

	f, err := OpenFile(path, 2)
	if err != nil {
		t.Fatal(err)
	}
	if f.Path() != path || f.Size() != int64(len(file)) || f.Offset() != pcapHeaderLen {
		t.Errorf("Path %q Size %d Offset %d, want %q %d %d", f.Path(), f.Size(), f.Offset(), path, len(file), pcapHeaderLen)
	}
	p, err := f.Next()
	if err != nil || p.Source != 2 || p.Frame != 1 {
		t.Fatalf("Next = source %d frame %d, %v", p.Source, p.Frame, err)
	}
	if want := int64(pcapHeaderLen + pcapRecordHeaderLen + 100); f.Offset() != want {
		t.Errorf("Offset = %d, want %d", f.Offset(), want)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Next(); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Next after Close = %v, want os.ErrClosed", err)
	}
	if err := f.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
}

func TestOpenFileErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	tests := []struct {
		name    string
		path    string
		wantErr error  // nil: only the message is checked
		wantMsg string // %q is replaced by the quoted path
	}{
		{name: "missing", path: filepath.Join(dir, "missing.pcap"), wantErr: fs.ErrNotExist, wantMsg: "open capture %q: no such file or directory"},
		{name: "not a capture", path: write("text.pcap", []byte("hello world")), wantMsg: "open capture %q: not a pcap or pcapng file (magic 0x68656c6c)"},
		{name: "empty", path: write("empty.pcap", nil), wantErr: ErrTruncated, wantMsg: "open capture %q: truncated capture: empty input"},
		{name: "magic cut short", path: write("short.pcap", []byte{0xd4, 0xc3}), wantErr: ErrTruncated, wantMsg: "open capture %q: truncated capture: record cut off after 2 of 4 bytes"},
		{name: "pcap header cut short", path: write("hdr.pcap", []byte{0xd4, 0xc3, 0xb2, 0xa1, 2, 0}), wantErr: ErrTruncated, wantMsg: "open capture %q: file header: truncated capture: record cut off after 6 of 24 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := OpenFile(tt.path, 0)
			if err == nil {
				f.Close()
				t.Fatal("OpenFile succeeded")
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
			if want := fmt.Sprintf(tt.wantMsg, tt.path); err.Error() != want {
				t.Errorf("err = %q, want %q", err, want)
			}
		})
	}
}

// stdinReader stands in for standard input and records whether anything
// closed it.
type stdinReader struct {
	io.Reader
	closed bool
}

func (r *stdinReader) Close() error {
	r.closed = true
	return nil
}

func TestOpenFileStdin(t *testing.T) {
	file := newPcapng(binary.BigEndian).iface(1, 0).epb(0, usec(base), payload(1, 70), 70).bytes()
	stdin := &stdinReader{Reader: bytes.NewReader(file)}
	f, err := openFile("-", 3, stdin)
	if err != nil {
		t.Fatal(err)
	}
	if f.Path() != "-" || f.Size() != 0 {
		t.Errorf("Path %q Size %d, want \"-\" and unknown size", f.Path(), f.Size())
	}
	pkts, err := readAll(t, f)
	if err != nil || len(pkts) != 1 || pkts[0].Source != 3 || !bytes.Equal(pkts[0].Data, payload(1, 70)) {
		t.Fatalf("got %d packets, %v", len(pkts), err)
	}
	if err := f.Close(); err != nil || stdin.closed {
		t.Errorf("Close = %v, stdin closed %v; want standard input left open", err, stdin.closed)
	}
}

func TestOpenFileStdinRegularFile(t *testing.T) {
	file := newPcap(binary.LittleEndian, true, 1, 65535).packet(rec{ts: base, data: payload(1, 10)}).bytes()
	stdin, err := os.Open(diskFile(t, "stdin.pcap", file))
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	f, err := openFile("-", 0, stdin)
	if err != nil {
		t.Fatal(err)
	}
	if f.Size() != int64(len(file)) {
		t.Errorf("Size = %d, want %d for standard input redirected from a file", f.Size(), len(file))
	}
}

func TestFileDataOwnedByCaller(t *testing.T) {
	b := newPcap(binary.LittleEndian, false, 1, 65535)
	for i := range 100 {
		b.packet(rec{ts: base, data: payload(i, 200)})
	}
	pkts, err := readAll(t, memFile(t, "own.pcap", b.bytes(), 0))
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range pkts {
		if !bytes.Equal(p.Data, payload(i, 200)) || cap(p.Data) != len(p.Data) {
			t.Fatalf("packet %d: data overwritten or shares a buffer (cap %d)", i, cap(p.Data))
		}
	}
}

func TestFileRecordLargerThanBuffer(t *testing.T) {
	const n = readBufferSize*2 + 123
	b := newPcap(binary.LittleEndian, false, 1, 1<<20).
		packet(rec{ts: base, data: payload(1, n)}).
		packet(rec{ts: base, data: payload(2, 10)})
	file := b.bytes()

	pkts, err := readAll(t, memFile(t, "large.pcap", file, 0))
	if err != nil || len(pkts) != 2 || !bytes.Equal(pkts[0].Data, payload(1, n)) {
		t.Fatalf("got %d packets, %v", len(pkts), err)
	}

	cut := file[:pcapHeaderLen+pcapRecordHeaderLen+n-1]
	pkts, err = readAll(t, memFile(t, "large.pcap", cut, 0))
	want := fmt.Sprintf("record cut off after %d of %d bytes", pcapRecordHeaderLen+n-1, pcapRecordHeaderLen+n)
	if len(pkts) != 0 || !errors.Is(err, ErrTruncated) || !strings.HasSuffix(err.Error(), want) {
		t.Errorf("cut large record: %d packets, %v; want ErrTruncated ending %q", len(pkts), err, want)
	}
}

// TestFileBoundedAllocation checks that a length field promising far more
// than the input holds costs memory in proportion to the input, not to the
// promise.
func TestFileBoundedAllocation(t *testing.T) {
	le := binary.LittleEndian
	huge := uint32(maxRecordLen - 64)
	words := func(b []byte, ws ...uint32) []byte {
		for _, w := range ws {
			b = le.AppendUint32(b, w)
		}
		return append(b, payload(1, 100)...)
	}
	tests := []struct {
		name string
		file []byte
	}{
		{name: "pcap", file: newPcap(le, false, 1, maxRecordLen).record(1, 0, huge, huge, payload(1, 100)).bytes()},
		{name: "pcapng packet", file: words(newPcapng(le).iface(1, 0).bytes(), 6, huge+32, 0, 0, 0, huge, huge)},
		{name: "pcapng interface options", file: words(newPcapng(le).bytes(), 1, huge, 1, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			f := memFile(t, "huge", tt.file, 0)
			_, err := readAll(t, f)
			runtime.ReadMemStats(&after)
			if !errors.Is(err, ErrTruncated) {
				t.Fatalf("err = %v, want ErrTruncated", err)
			}
			if got := after.TotalAlloc - before.TotalAlloc; got > 2*readBufferSize {
				t.Errorf("allocated %d bytes for a %d-byte input", got, len(tt.file))
			}
		})
	}
}

// benchPcap builds a classic pcap of n packets the size of G.711 RTP frames.
func benchPcap(n int) []byte {
	b := newPcap(binary.LittleEndian, false, 1, 65535)
	data := payload(1, 214)
	for i := range n {
		b.packet(rec{ts: base.Add(time.Duration(i) * 20 * time.Millisecond), data: data})
	}
	return b.bytes()
}

// benchPcapng builds the same packets as a pcapng file.
func benchPcapng(n int) []byte {
	b := newPcapng(binary.LittleEndian).iface(1, 0, tsresol(9))
	data := payload(1, 214)
	for i := range n {
		b.epb(0, nsec(base.Add(time.Duration(i)*20*time.Millisecond)), data, len(data))
	}
	return b.bytes()
}

func BenchmarkFileNext(b *testing.B) {
	const n = 100_000
	for _, bc := range []struct {
		name string
		file []byte
	}{
		{name: "pcap", file: benchPcap(n)},
		{name: "pcapng", file: benchPcapng(n)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.file)))
			for b.Loop() {
				f := memFile(b, "bench", bc.file, 0)
				count := 0
				for {
					_, err := f.Next()
					if err != nil {
						if err != io.EOF {
							b.Fatal(err)
						}
						break
					}
					count++
				}
				if count != n {
					b.Fatalf("read %d packets, want %d", count, n)
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "pkts/s")
		})
	}
}
