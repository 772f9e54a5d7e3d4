package journal

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"testing"
)

// BenchmarkBegin appends in each mode on the test's temporary directory.
// An iteration begins an item with an event's worth of data and ends the
// one begun window iterations before: two records, as lc writes for an
// event whose hooks all ran.
func BenchmarkBegin(b *testing.B) {
	const window = 1024
	ids := make([]string, 2*window)
	for i := range ids {
		ids[i] = fmt.Sprintf("ev-%08d", i)
	}
	data := []byte(`{"event":"call_end","call_id":"a84b4c76e66710@pc33.atlanta.example.com","from":"sip:alice@atlanta.example.com","to":"sip:bob@biloxi.example.com","pcap":"/var/lib/lc/2024/03/01/a84b4c76e66710.pcap","packets":1234,"bytes":456789}`)
	discard := systemEnv()
	discard.create = func(string) (segmentFile, error) { return discardFile{}, nil }
	tests := []struct {
		name string
		mode SyncMode
		env  env
	}{
		{name: "batch", mode: SyncBatch, env: systemEnv()},
		{name: "always", mode: SyncAlways, env: systemEnv()},
		{name: "off", mode: SyncOff, env: systemEnv()},
		// The journal's own cost, without the write(2) of each record.
		{name: "discard", mode: SyncOff, env: discard},
	}
	for _, tt := range tests {
		b.Run(tt.name, func(b *testing.B) {
			j, _ := openEnv(b, b.TempDir(), Options{Sync: tt.mode}, tt.env) // real syncs
			b.ReportAllocs()
			b.SetBytes(int64(recordHeaderSize + bodySize(ids[0], data) + recordHeaderSize + bodySize(ids[0], nil)))
			i := 0
			for b.Loop() {
				if err := j.Begin(ids[i%len(ids)], data); err != nil {
					b.Fatal(err)
				}
				if i >= window {
					if err := j.End(ids[(i-window)%len(ids)]); err != nil {
						b.Fatal(err)
					}
				}
				i++
			}
			b.ReportMetric(float64(j.Stats().Records)/b.Elapsed().Seconds(), "records/s")
			b.ReportMetric(float64(j.Stats().Syncs)/float64(b.N), "syncs/op")
		})
	}
}

// discardFile is a segment file that keeps nothing.
type discardFile struct{}

func (discardFile) WriteAt(p []byte, off int64) (int, error) { return len(p), nil }
func (discardFile) ReadAt(p []byte, off int64) (int, error)  { return 0, io.EOF }
func (discardFile) Truncate(int64) error                     { return nil }
func (discardFile) Sync() error                              { return nil }
func (discardFile) Close() error                             { return nil }

// BenchmarkData reads an item's data back, as the hook engine does for an
// event it let go of: an item of the current segment, one of an older
// segment, and one read after Close, which opens and closes its segment
// file on every call.
func BenchmarkData(b *testing.B) {
	data := bytes.Repeat([]byte("0123456789abcdef"), 2<<10/16) // 2 KiB, an event
	tests := []struct {
		name  string
		id    string
		close bool
	}{
		{name: "current", id: "new"},
		{name: "older", id: "old"},
		{name: "closed", id: "old", close: true},
	}
	for _, tt := range tests {
		b.Run(tt.name, func(b *testing.B) {
			j, _ := openT(b, b.TempDir(), Options{Sync: SyncOff, SegmentSize: 64 << 10})
			must(b, j.Begin("old", data))
			for i := 0; j.Stats().Segments < 2; i++ { // "old" keeps segment 1
				id := fmt.Sprintf("churn-%d", i)
				must(b, errors.Join(j.Begin(id, data), j.End(id)))
			}
			must(b, j.Begin("new", data))
			if tt.close {
				must(b, j.Close())
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				got, err := j.Data(tt.id)
				if err != nil || len(got) != len(data) {
					b.Fatalf("Data(%s) = %d bytes, %v", tt.id, len(got), err)
				}
			}
		})
	}
}
