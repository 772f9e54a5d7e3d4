package processor

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lc-voip/lc/internal/capture"
	"github.com/lc-voip/lc/internal/testenv"
)

// repairT0 is the capture time of a fixture's first record; its
// nanoseconds tell the resolutions apart.
var repairT0 = time.Date(2026, 3, 14, 9, 26, 53, 123456789, time.UTC)

// repairFixture is a pcap file as lc writes it, with where its records
// end and the times they hold.
type repairFixture struct {
	file  []byte
	ends  []int64     // ends[0] is the end of the file header, ends[i] of record i
	times []time.Time // times[i-1] is the time record i holds
}

// after returns what the file holds when cut after its first k records.
func (fx repairFixture) after(k int) repairResult {
	res := repairResult{Packets: int64(k), Bytes: fx.ends[k]}
	if k > 0 {
		res.First, res.Last = fx.times[0], fx.times[k-1]
	}
	return res
}

// makeRepairFixture writes, with lc's own encoding, a pcap file of n
// Ethernet records whose data lengths are sizes[i], or 10*i without sizes.
func makeRepairFixture(tb testing.TB, nano bool, n int, sizes ...int) repairFixture {
	tb.Helper()
	pf := &pcapFile{format: format{linkType: 1, nano: nano}}
	fx := repairFixture{file: pf.header(), ends: []int64{pcapHeaderLen}}
	for i := range n {
		size := 10 * i
		if sizes != nil {
			size = sizes[i]
		}
		p := &capture.Packet{Data: bytes.Repeat([]byte{byte(i + 1)}, size), Nanosecond: nano}
		p.Info.Timestamp = repairT0.Add(time.Duration(i) * 20 * time.Millisecond)
		p.Info.Length = size + 4
		fx.file = append(pf.appendRecordHeader(fx.file, p), p.Data...)
		fx.ends = append(fx.ends, int64(len(fx.file)))
		at := p.Info.Timestamp
		if !nano {
			at = at.Truncate(time.Microsecond)
		}
		fx.times = append(fx.times, at)
	}
	return fx
}

// patched returns a copy of b with v written little-endian at off.
func patched(b []byte, off int64, v uint32) []byte {
	b = bytes.Clone(b)
	binary.LittleEndian.PutUint32(b[off:], v)
	return b
}

// writeRepairFile writes b to a new file and returns its path.
func writeRepairFile(tb testing.TB, b []byte) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "call.pcap")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}

// runRepair opens path read-write, moves its offset away from the start,
// repairs it and, when that succeeds, checks that the offset is at the
// new end.
func runRepair(tb testing.TB, path string) (repairResult, error) {
	tb.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Seek(7, io.SeekStart); err != nil {
		tb.Fatal(err)
	}
	res, err := repairPcap(f)
	if err != nil {
		return res, err
	}
	if off, err := f.Seek(0, io.SeekCurrent); err != nil || off != res.Bytes {
		tb.Errorf("offset after repair = %d (%v), want the end, %d", off, err, res.Bytes)
	}
	return res, f.Close()
}

// checkRepairResult compares two results, times by instant and location.
func checkRepairResult(tb testing.TB, what string, got, want repairResult) {
	tb.Helper()
	if got.Packets != want.Packets || got.Bytes != want.Bytes || got.Cut != want.Cut ||
		!got.First.Equal(want.First) || !got.Last.Equal(want.Last) ||
		got.First.Location() != time.UTC || got.Last.Location() != time.UTC {
		tb.Errorf("%s = %+v\nwant %+v", what, got, want)
	}
}

// checkRepaired asserts that the file at path is orig cut to res.Bytes,
// that the capture reader reads res.Packets records from it to a clean
// end, and that repairing it again cuts nothing.
func checkRepaired(tb testing.TB, path string, orig []byte, res repairResult) {
	tb.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	if int64(len(orig)) < res.Bytes || !bytes.Equal(got, orig[:res.Bytes]) {
		tb.Fatalf("the repaired file (%d bytes) is not the first %d bytes of the %d-byte original", len(got), res.Bytes, len(orig))
	}
	if res.Bytes+res.Cut != int64(len(orig)) {
		tb.Errorf("Bytes %d + Cut %d != %d bytes before repair", res.Bytes, res.Cut, len(orig))
	}
	n, first, last, err := readCapture(path)
	if err != nil || n != res.Packets || (n > 0 && (!first.Equal(res.First) || !last.Equal(res.Last))) {
		tb.Errorf("capture reader: %d packets from %v to %v (error %v), repair says %d from %v to %v",
			n, first, last, err, res.Packets, res.First, res.Last)
	}
	again, err := runRepair(tb, path)
	if err != nil {
		tb.Fatalf("second repair: %v", err)
	}
	want := res
	want.Cut = 0
	checkRepairResult(tb, "second repair", again, want)
}

// repairCase is a file and what repairing it must give.
type repairCase struct {
	name string
	file []byte
	want repairResult
}

// cutCases are the cases of a fixture of n records at resolution res:
// whole, header only, and cut at several offsets inside the header and
// the data of its last record.
func cutCases(tb testing.TB, res string, nano bool) []repairCase {
	const n = 5 // the last record has 40 bytes of data
	fx := makeRepairFixture(tb, nano, n)
	cases := []repairCase{
		{name: res + "/whole", file: fx.file, want: fx.after(n)},
		{name: res + "/header only", file: fx.file[:pcapHeaderLen], want: fx.after(0)},
	}
	last := fx.ends[n-1]
	for _, c := range []struct {
		where string
		off   int64
	}{
		{"in record header at 1", 1},
		{"in record header at 8", 8},
		{"in record header at 15", 15},
		{"after record header", pcapRecordLen},
		{"in data at 1", pcapRecordLen + 1},
		{"in data at 20", pcapRecordLen + 20},
		{"in data at 39", pcapRecordLen + 39},
	} {
		want := fx.after(n - 1)
		want.Cut = c.off
		cases = append(cases, repairCase{name: res + "/cut " + c.where, file: fx.file[:last+c.off], want: want})
	}
	return cases
}

// lengthCases are the cases of records whose incl_len ends the scan.
func lengthCases(tb testing.TB) []repairCase {
	fx := makeRepairFixture(tb, false, 6)
	cutAt := func(k int, file []byte) repairResult {
		want := fx.after(k)
		want.Cut = int64(len(file)) - want.Bytes
		return want
	}
	absurd := patched(fx.file, fx.ends[2]+8, 0xfffffff0)
	below := patched(fx.file, 16, 25) // records 0 to 2 have 0, 10 and 20 bytes, record 3 has 30
	at := patched(fx.file, 16, 30)    // records 3 and 4 have 30 and 40 bytes
	big := makeRepairFixture(tb, true, 2, pcapSnaplen, 8)
	bigOver := patched(big.file, big.ends[1]+8, pcapSnaplen+1)
	return []repairCase{
		{name: "absurd length in the middle", file: absurd, want: cutAt(2, absurd)},
		{name: "length above the header snaplen", file: below, want: cutAt(3, below)},
		{name: "length at the header snaplen", file: at, want: cutAt(4, at)},
		{name: "full-size record then one above", file: bigOver, want: func() repairResult {
			want := big.after(1)
			want.Cut = int64(len(bigOver)) - want.Bytes
			return want
		}()},
	}
}

func TestRepairPcap(t *testing.T) {
	cases := append(cutCases(t, "micro", false), cutCases(t, "nano", true)...)
	cases = append(cases, lengthCases(t)...)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := writeRepairFile(t, tc.file)
			got, err := runRepair(t, path)
			if err != nil {
				t.Fatal(err)
			}
			checkRepairResult(t, "repair", got, tc.want)
			checkRepaired(t, path, tc.file, got)
		})
	}
}

func TestRepairPcapTimes(t *testing.T) {
	for _, tc := range []struct {
		name  string
		nano  bool
		first time.Time
	}{
		{name: "micro", nano: false, first: time.Date(2026, 3, 14, 9, 26, 53, 123456000, time.UTC)},
		{name: "nano", nano: true, first: time.Date(2026, 3, 14, 9, 26, 53, 123456789, time.UTC)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fx := makeRepairFixture(t, tc.nano, 3)
			got, err := runRepair(t, writeRepairFile(t, fx.file))
			if err != nil {
				t.Fatal(err)
			}
			if want := tc.first.Add(40 * time.Millisecond); !got.First.Equal(tc.first) || !got.Last.Equal(want) {
				t.Errorf("times %v to %v, want %v to %v", got.First, got.Last, tc.first, want)
			}
		})
	}
}

func TestRepairPcapNotRepairable(t *testing.T) {
	header := makeRepairFixture(t, false, 0).file
	file := makeRepairFixture(t, false, 3).file
	bigEndian := bytes.Clone(file)
	binary.BigEndian.PutUint32(bigEndian, capture.MagicMicro)
	for _, tc := range []struct {
		name string
		file []byte
	}{
		{name: "empty", file: nil},
		{name: "one byte", file: header[:1]},
		{name: "header but one byte", file: header[:pcapHeaderLen-1]},
		{name: "big-endian magic", file: bigEndian},
		{name: "pcapng", file: append([]byte{0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a}, file[12:]...)},
		{name: "text", file: []byte("this is not a capture file, is it?\n")},
		{name: "version 2.3", file: patched(file, 4, 2|3<<16)},
		{name: "zero snaplen", file: patched(file, 16, 0)},
		{name: "snaplen above lc's", file: patched(file, 16, pcapSnaplen+1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeRepairFile(t, tc.file)
			got, err := runRepair(t, path)
			if !errors.Is(err, errNotRepairable) || got != (repairResult{}) {
				t.Errorf("repair = %+v, %v; want the zero result and errNotRepairable", got, err)
			}
			if err != nil && !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the file", err)
			}
			if after, err := os.ReadFile(path); err != nil || !bytes.Equal(after, tc.file) {
				t.Errorf("the file changed (%v)", err)
			}
		})
	}
}

// TestRepairPcapReadsInTshark cuts a file in the middle of its last record,
// as SIGKILL can, and checks that tshark reads the repaired file cleanly.
func TestRepairPcapReadsInTshark(t *testing.T) {
	tshark := testenv.Command(t, "tshark")
	const n = 6
	sizes := []int{60, 90, 120, 200, 1400, 1400}
	fx := makeRepairFixture(t, true, n, sizes...)
	path := writeRepairFile(t, fx.file[:fx.ends[n-1]+pcapRecordLen+700])
	if _, stderr, err := runTshark(t, tshark, path); err == nil && !strings.Contains(stderr, "cut short") {
		t.Fatalf("tshark reads the cut file without complaint; the test proves nothing:\n%s", stderr)
	}
	res, err := runRepair(t, path)
	if err != nil {
		t.Fatal(err)
	}
	frames, stderr, err := runTshark(t, tshark, path)
	if err != nil || strings.Contains(stderr, "cut short") {
		t.Fatalf("tshark -r %s: %v\n%s", path, err, stderr)
	}
	if frames != n-1 || res.Packets != n-1 {
		t.Errorf("tshark reads %d frames, repair says %d, want %d", frames, res.Packets, n-1)
	}
}

// runTshark reads path with tshark and returns the number of frames it
// lists and what it wrote to standard error.
func runTshark(tb testing.TB, tshark, path string) (frames int, stderr string, err error) {
	tb.Helper()
	var out, errOut bytes.Buffer
	cmd := exec.CommandContext(tb.Context(), tshark, "-n", "-r", path, "-T", "fields", "-e", "frame.number")
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	for line := range strings.Lines(out.String()) {
		if strings.TrimSpace(line) != "" {
			frames++
		}
	}
	return frames, out.String() + errOut.String(), err
}

func FuzzRepairPcap(f *testing.F) {
	for _, nano := range []bool{false, true} {
		fx := makeRepairFixture(f, nano, 4)
		tail := fx.file[pcapHeaderLen:]
		f.Add(nano, tail)
		f.Add(nano, tail[:len(tail)-5])
		f.Add(nano, tail[:len(tail)-40])
		f.Add(nano, patched(fx.file, fx.ends[1]+8, 1<<31)[pcapHeaderLen:])
	}
	f.Add(false, []byte{})
	f.Add(true, bytes.Repeat([]byte{0}, 100))
	path := filepath.Join(f.TempDir(), "call.pcap") // reused: each fuzzing process runs one input at a time
	f.Fuzz(func(t *testing.T, nano bool, tail []byte) {
		file := append((&pcapFile{format: format{linkType: 1, nano: nano}}).header(), tail...)
		if err := os.WriteFile(path, file, 0o644); err != nil {
			t.Fatal(err)
		}
		res, err := runRepair(t, path)
		if err != nil {
			t.Fatalf("repair after a valid header: %v", err)
		}
		if res.Bytes < pcapHeaderLen || res.Cut < 0 || (res.Packets == 0) != res.First.IsZero() {
			t.Fatalf("repair = %+v", res)
		}
		checkRepaired(t, path, file, res)
	})
}

// TestRepairPcapErrorMessage checks that an error names the operation,
// the file and the reason.
func TestRepairPcapErrorMessage(t *testing.T) {
	path := writeRepairFile(t, []byte("short"))
	_, err := runRepair(t, path)
	want := fmt.Sprintf("repair pcap %q: 5 bytes, shorter than a file header: not a pcap file lc writes", path)
	if err == nil || err.Error() != want {
		t.Errorf("error = %v\nwant %s", err, want)
	}
}
