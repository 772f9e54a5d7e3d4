package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"
)

// mergeInput describes one synthetic file for a Merger.
type mergeInput struct {
	source int
	times  []int // packet timestamps, in ms after base
	broken func(b *pcapBuilder)
}

// build writes the input as a pcap; broken, if set, appends a bad tail.
func (in mergeInput) build() []byte {
	b := newPcap(binary.LittleEndian, true, 1, 65535)
	for i, ms := range in.times {
		b.packet(rec{ts: base.Add(time.Duration(ms) * time.Millisecond), data: payload(in.source*100+i, 20)})
	}
	if in.broken != nil {
		in.broken(b)
	}
	return b.bytes()
}

func openMerger(tb testing.TB, inputs []mergeInput) *Merger {
	tb.Helper()
	files := make([]*File, len(inputs))
	for i, in := range inputs {
		files[i] = memFile(tb, fmt.Sprintf("in%d.pcap", i), in.build(), in.source)
	}
	return NewMerger(files)
}

// order names each packet as "source:frame".
func order(pkts []Packet) string {
	names := make([]string, len(pkts))
	for i, p := range pkts {
		names[i] = fmt.Sprintf("%d:%d", p.Source, p.Frame)
	}
	return strings.Join(names, " ")
}

func TestMergerOrder(t *testing.T) {
	tests := []struct {
		name   string
		inputs []mergeInput
		want   string
	}{
		{
			name: "three files interleave",
			inputs: []mergeInput{
				{source: 0, times: []int{1, 4, 7}},
				{source: 1, times: []int{2, 3, 8, 9}},
				{source: 2, times: []int{0, 5, 6}},
			},
			want: "2:1 0:1 1:1 1:2 0:2 2:2 2:3 0:3 1:3 1:4",
		},
		{
			name: "ties go to the lower source",
			inputs: []mergeInput{
				{source: 2, times: []int{5, 5}},
				{source: 0, times: []int{5}},
				{source: 1, times: []int{5, 6}},
			},
			want: "0:1 1:1 2:1 2:2 1:2",
		},
		{
			name: "ties within one source go to the earlier file",
			inputs: []mergeInput{
				{source: 3, times: []int{1, 2}},
				{source: 3, times: []int{1, 2}},
			},
			want: "3:1 3:1 3:2 3:2",
		},
		{
			name: "a packet out of order within its file stays where it is",
			inputs: []mergeInput{
				{source: 0, times: []int{1, 5, 3, 6}},
				{source: 1, times: []int{2, 4}},
			},
			want: "0:1 1:1 1:2 0:2 0:3 0:4",
		},
		{
			name: "empty file",
			inputs: []mergeInput{
				{source: 0, times: nil},
				{source: 1, times: []int{1}},
			},
			want: "1:1",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := openMerger(t, tt.inputs)
			pkts, err := readAll(t, m)
			if err != nil {
				t.Fatal(err)
			}
			if got := order(pkts); got != tt.want {
				t.Errorf("order = %s\n         want %s", got, tt.want)
			}
			for _, p := range pkts {
				if !bytes.Equal(p.Data, payload(p.Source*100+p.Frame-1, 20)) {
					t.Errorf("packet %d:%d carries the wrong data", p.Source, p.Frame)
				}
			}
			if len(m.Problems()) != 0 {
				t.Errorf("Problems = %v", m.Problems())
			}
		})
	}
}

func TestMergerFileFailsMidway(t *testing.T) {
	corrupt := func(b *pcapBuilder) { b.record(0, 0, 1<<30, 1<<30, nil) }
	cut := func(b *pcapBuilder) { b.buf.Write(make([]byte, 10)) }
	tests := []struct {
		name     string
		inputs   []mergeInput
		want     string
		problems []Problem // Err is matched by errors.Is
	}{
		{
			name: "several files",
			inputs: []mergeInput{
				{source: 0, times: []int{1, 3, 5, 7, 9}},
				{source: 1, times: []int{2, 4}, broken: corrupt},
				{source: 2, times: []int{0}, broken: cut},
			},
			want: "2:1 0:1 1:1 0:2 1:2 0:3 0:4 0:5",
			problems: []Problem{
				{Path: "in2.pcap", Err: ErrTruncated, Truncated: true},
				{Path: "in1.pcap", Err: ErrCorrupt},
			},
		},
		{
			name:     "one file",
			inputs:   []mergeInput{{source: 0, times: []int{1, 2}, broken: corrupt}},
			want:     "0:1 0:2",
			problems: []Problem{{Path: "in0.pcap", Err: ErrCorrupt}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := openMerger(t, tt.inputs)
			pkts, err := readAll(t, m)
			if err != nil {
				t.Fatal(err)
			}
			if got := order(pkts); got != tt.want {
				t.Errorf("order = %s, want %s", got, tt.want)
			}
			for range 2 {
				if _, err := m.Next(); err != io.EOF {
					t.Fatalf("Next after the end = %v, want io.EOF", err)
				}
			}
			got := m.Problems()
			if len(got) != len(tt.problems) {
				t.Fatalf("Problems = %v, want %d", got, len(tt.problems))
			}
			for i, want := range tt.problems {
				if got[i].Path != want.Path || !errors.Is(got[i].Err, want.Err) || got[i].Truncated != want.Truncated {
					t.Errorf("problem %d = %+v, want %+v", i, got[i], want)
				}
			}
		})
	}
}

func TestMergerStdinAndDisk(t *testing.T) {
	disk := mergeInput{source: 0, times: []int{1, 3}}.build()
	pipe := mergeInput{source: 1, times: []int{2, 4}}.build()
	a, err := openFile(diskFile(t, "disk.pcap", disk), 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := openFile("-", 1, bytes.NewReader(pipe))
	if err != nil {
		t.Fatal(err)
	}
	m := NewMerger([]*File{a, b})
	defer m.Close()

	if done, total := m.Progress(); done != 2*pcapHeaderLen || total != 0 {
		t.Errorf("Progress = %d/%d, want %d and unknown total", done, total, 2*pcapHeaderLen)
	}
	pkts, err := readAll(t, m)
	if err != nil || order(pkts) != "0:1 1:1 0:2 1:2" {
		t.Fatalf("order = %s, %v", order(pkts), err)
	}
	if done, _ := m.Progress(); done != int64(len(disk)+len(pipe)) {
		t.Errorf("Progress done = %d, want %d", done, len(disk)+len(pipe))
	}
}

func TestMergerProgress(t *testing.T) {
	a := mergeInput{source: 0, times: []int{1, 2, 3}}.build()
	b := mergeInput{source: 1, times: []int{4}}.build()
	m := NewMerger([]*File{memFile(t, "a", a, 0), memFile(t, "b", b, 1)})
	total := int64(len(a) + len(b))
	for _, want := range []int64{2 * pcapHeaderLen, total} {
		if done, tot := m.Progress(); done != want || tot != total {
			t.Errorf("Progress = %d/%d, want %d/%d", done, tot, want, total)
		}
		if _, err := readAll(t, m); err != nil {
			t.Fatal(err)
		}
	}
}

func TestMergerClose(t *testing.T) {
	a, err := OpenFile(diskFile(t, "a.pcap", mergeInput{times: []int{1, 2}}.build()), 0)
	if err != nil {
		t.Fatal(err)
	}
	b, err := OpenFile(diskFile(t, "b.pcap", mergeInput{times: []int{1, 2}}.build()), 1)
	if err != nil {
		t.Fatal(err)
	}
	m := NewMerger([]*File{a, b})
	if _, err := m.Next(); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Next(); err != io.EOF {
		t.Errorf("Next after Close = %v, want io.EOF", err)
	}
	if _, err := a.Next(); !errors.Is(err, os.ErrClosed) {
		t.Errorf("File.Next after Merger.Close = %v, want os.ErrClosed", err)
	}
}

func TestMergerNoFiles(t *testing.T) {
	m := NewMerger(nil)
	if _, err := m.Next(); err != io.EOF {
		t.Errorf("Next = %v, want io.EOF", err)
	}
	if done, total := m.Progress(); done != 0 || total != 0 {
		t.Errorf("Progress = %d/%d", done, total)
	}
}

// TestMergerAllocs checks that merging allocates nothing beyond each
// packet's Data.
func TestMergerAllocs(t *testing.T) {
	long := make([]int, 1000)
	for i := range long {
		long[i] = i
	}
	for _, n := range []int{1, 3} {
		t.Run(fmt.Sprintf("%d files", n), func(t *testing.T) {
			inputs := make([]mergeInput, n)
			for i := range inputs {
				inputs[i] = mergeInput{source: i, times: long}
			}
			m := openMerger(t, inputs)
			m.Next() // primes the heap
			if allocs := testing.AllocsPerRun(500, func() {
				if _, err := m.Next(); err != nil {
					t.Fatal(err)
				}
			}); allocs != 1 {
				t.Errorf("%v allocations per packet, want 1 (its Data)", allocs)
			}
		})
	}
}

func BenchmarkMergerNext(b *testing.B) {
	const n = 100_000
	file := benchPcap(n)
	for _, k := range []int{1, 4} {
		b.Run(fmt.Sprintf("%d files", k), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(k * len(file)))
			for b.Loop() {
				files := make([]*File, k)
				for i := range files {
					files[i] = memFile(b, "bench", file, i)
				}
				m := NewMerger(files)
				count := 0
				for {
					if _, err := m.Next(); err != nil {
						break
					}
					count++
				}
				if count != k*n {
					b.Fatalf("read %d packets, want %d", count, k*n)
				}
			}
			b.ReportMetric(float64(k*n)*float64(b.N)/b.Elapsed().Seconds(), "pkts/s")
		})
	}
}
