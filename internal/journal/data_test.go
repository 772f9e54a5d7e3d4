package journal

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"reflect"
	"runtime"
	"slices"
	"sync"
	"testing"
)

// TestTableHoldsNoData checks that the table keeps where an item's data
// lies, not the data: an item carries no bytes but its id and notes, and
// many items of 1 KiB take far less than 1 KiB each.
func TestTableHoldsNoData(t *testing.T) {
	t.Run("structure", func(t *testing.T) {
		allowed := map[string]reflect.Type{"id": reflect.TypeFor[string](), "notes": reflect.TypeFor[[][]byte]()}
		var check func(path string, typ reflect.Type)
		check = func(path string, typ reflect.Type) {
			for f := range typ.Fields() {
				name := path + f.Name
				switch {
				case allowed[name] == f.Type:
				case f.Type.Kind() == reflect.Struct:
					check(name+".", f.Type)
				case f.Type.Kind() >= reflect.Int && f.Type.Kind() <= reflect.Uint64:
				default:
					t.Errorf("item field %s is a %v: the table must hold no data", name, f.Type)
				}
			}
		}
		check("", reflect.TypeFor[item]())
	})
	t.Run("heap", func(t *testing.T) {
		const items, size = 20000, 1 << 10
		j, _ := openT(t, t.TempDir(), Options{Sync: SyncOff})
		ids := make([]string, items)
		for i := range ids {
			ids[i] = fmt.Sprintf("item-%06d", i)
		}
		data := bytes.Repeat([]byte{'x'}, size)
		before := heapInUse()
		for _, id := range ids {
			must(t, j.Begin(id, data))
		}
		perItem := (heapInUse() - before) / items
		runtime.KeepAlive(j)
		if perItem > size/4 {
			t.Errorf("%d bytes of heap per open item of %d bytes, want at most %d", perItem, size, size/4)
		}
		t.Logf("%d bytes of heap per open item of %d bytes", perItem, size)
	})
}

// heapInUse returns the bytes of live heap objects, after a collection.
func heapInUse() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

// TestData reads items back from the current segment and older ones, in
// every mode, before and after a reopen and after Close, and checks that
// ended and unknown ids are refused.
func TestData(t *testing.T) {
	for _, mode := range []SyncMode{SyncBatch, SyncAlways, SyncOff} {
		t.Run(mode.String(), func(t *testing.T) {
			dir := t.TempDir()
			opt := Options{Sync: mode, SegmentSize: 1 << 10}
			j, _ := openT(t, dir, opt)
			want := make(map[string][]byte) // the open items
			var ended []string
			for i := range 120 {
				id := fmt.Sprintf("item-%03d", i)
				data := bytes.Repeat([]byte{byte(i)}, i%7*20) // some empty
				must(t, errors.Join(j.Begin(id, data), j.Note(id, []byte("note"))))
				want[id] = data
				if i%3 != 0 {
					must(t, j.End(id))
					delete(want, id)
					ended = append(ended, id)
				}
			}
			segs := make(map[bool]int) // items in the current segment, in older ones
			for id := range want {
				segs[j.t.items[id].at.seg == j.cur.num]++
			}
			if segs[true] == 0 || segs[false] == 0 || j.Stats().Segments < 3 {
				t.Fatalf("%d items in the current segment, %d in %d older ones: want some of each", segs[true], segs[false], j.Stats().Segments-1)
			}
			wantData(t, "appended", j, want, ended)
			if n := len(j.readers.files); n == 0 || n > maxReaders {
				t.Errorf("%d read-only segment files open, want 1 to %d", n, maxReaders)
			}

			j, rec := reopen(t, j, dir, opt)
			if len(rec.Items) != len(want) {
				t.Fatalf("%d items recovered, want %d", len(rec.Items), len(want))
			}
			for _, it := range rec.Items {
				if !bytes.Equal(it.Data, want[it.ID]) || (len(it.Data) == 0) != (it.Data == nil) {
					t.Errorf("Recovery.Items: %s holds %q, want %q", it.ID, it.Data, want[it.ID])
				}
			}
			wantData(t, "reopened", j, want, ended)

			must(t, j.Close())
			wantData(t, "closed", j, want, ended)
		})
	}
}

// wantData fails t unless Data gives want for every open item and
// ErrNotOpen for the ended ones and an unknown one.
func wantData(t *testing.T, what string, j *Journal, want map[string][]byte, ended []string) {
	t.Helper()
	for id, data := range want {
		got, err := j.Data(id)
		if err != nil || !bytes.Equal(got, data) || (len(data) == 0) != (got == nil) {
			t.Errorf("%s: Data(%s) = %q, %v; want %q", what, id, got, err, data)
		}
	}
	for _, id := range append(ended, "unknown") {
		if got, err := j.Data(id); !errors.Is(err, ErrNotOpen) {
			t.Errorf("%s: Data(%s) = %q, %v; want ErrNotOpen", what, id, got, err)
		}
	}
	got := make(map[string][]byte)
	for _, it := range j.Items() {
		got[it.ID] = it.Data
	}
	if len(got) != len(want) {
		t.Errorf("%s: Items holds %d items, want %d", what, len(got), len(want))
	}
	for id, data := range want {
		if !bytes.Equal(got[id], data) {
			t.Errorf("%s: Items: %s holds %q, want %q", what, id, got[id], data)
		}
	}
}

// TestDataDamaged changes a byte of an item's data in its file: Data
// reports it, and Items gives the item with no data.
func TestDataDamaged(t *testing.T) {
	dir := t.TempDir()
	j, _ := openT(t, dir, Options{Sync: SyncOff, SegmentSize: 256})
	must(t, j.Begin("damaged", []byte("the data of the damaged item")))
	for i := 0; j.cur.num == 1; i++ {
		id := fmt.Sprintf("churn-%d", i)
		must(t, errors.Join(j.Begin(id, []byte(id)), j.End(id)))
	}
	must(t, j.Begin("current", []byte("the data of the current item")))
	for _, id := range []string{"damaged", "current"} {
		at := j.t.items[id].at
		f, err := os.OpenFile(segmentPath(dir, at.seg), os.O_RDWR, 0)
		must(t, err)
		_, err = f.WriteAt([]byte{'X'}, at.off+int64(at.size)-1)
		must(t, errors.Join(err, f.Close()))
		if got, err := j.Data(id); !errors.Is(err, errTorn) {
			t.Errorf("Data(%s) of a damaged record = %q, %v; want a bad checksum", id, got, err)
		}
	}
	for _, it := range j.Items() {
		if it.Data != nil {
			t.Errorf("Items: %s holds %q, want nil", it.ID, it.Data)
		}
	}
}

// TestDataConcurrent reads items back while other goroutines append,
// rotate segments and drop them, and read the items. Run it with -race.
func TestDataConcurrent(t *testing.T) {
	const workers, perWorker, window = 4, 300, 16
	for _, mode := range []SyncMode{SyncBatch, SyncOff} {
		t.Run(mode.String(), func(t *testing.T) {
			dir := t.TempDir()
			j, _ := openT(t, dir, Options{Sync: mode, SegmentSize: 2 << 10})
			dataOf := func(id string) []byte { return bytes.Repeat([]byte(id), 8) }
			var wg sync.WaitGroup
			done := make(chan struct{})
			wg.Go(func() { // reads items that others may end at any time
				for i := 0; ; i++ {
					select {
					case <-done:
						return
					default:
					}
					id := fmt.Sprintf("w%d-%03d", i%workers, i/workers%perWorker)
					if got, err := j.Data(id); err != nil && !errors.Is(err, ErrNotOpen) || err == nil && !bytes.Equal(got, dataOf(id)) {
						t.Errorf("Data(%s) = %q, %v", id, got, err)
						return
					}
					if i%100 == 0 {
						_ = j.Items()
					}
				}
			})
			var writers sync.WaitGroup
			for w := range workers {
				writers.Go(func() { // each keeps its last window items open
					var open []string
					for i := range perWorker {
						id := fmt.Sprintf("w%d-%03d", w, i)
						if err := j.Begin(id, dataOf(id)); err != nil {
							t.Error(err)
							return
						}
						open = append(open, id)
						for _, id := range []string{open[0], id} {
							if got, err := j.Data(id); err != nil || !bytes.Equal(got, dataOf(id)) {
								t.Errorf("Data(%s) of an open item = %q, %v", id, got, err)
								return
							}
						}
						if len(open) > window {
							if err := j.End(open[0]); err != nil {
								t.Error(err)
								return
							}
							open = open[1:]
						}
					}
				})
			}
			writers.Wait()
			close(done)
			wg.Wait()
			j.mu.Lock()
			defer j.mu.Unlock()
			if j.cur.num < 10 {
				t.Errorf("%d segments written, want rotations", j.cur.num)
			}
			for _, r := range j.readers.files {
				if _, live := j.t.segs[r.num]; !live {
					t.Errorf("segment %d dropped and its read-only file still open", r.num)
				}
			}
			if len(j.readers.files) > maxReaders {
				t.Errorf("%d read-only files open, want at most %d", len(j.readers.files), maxReaders)
			}
		})
	}
}

// TestDataAfterDrop checks that a read-only file kept for Data is closed
// when its segment is dropped.
func TestDataAfterDrop(t *testing.T) {
	j, _ := openT(t, t.TempDir(), Options{Sync: SyncOff, SegmentSize: 128})
	must(t, j.Begin("old", []byte("old data")))
	for i := 0; j.cur.num == 1; i++ {
		id := fmt.Sprintf("churn-%d", i)
		must(t, errors.Join(j.Begin(id, nil), j.End(id)))
	}
	if _, err := j.Data("old"); err != nil {
		t.Fatal(err)
	}
	if nums := readerNums(j); !slices.Equal(nums, []uint64{1}) {
		t.Fatalf("read-only files of segments %v, want [1]", nums)
	}
	must(t, j.End("old"))
	if nums := readerNums(j); len(nums) != 0 {
		t.Errorf("read-only files of segments %v after segment 1 was dropped, want none", nums)
	}
}

func readerNums(j *Journal) []uint64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	var nums []uint64
	for _, r := range j.readers.files {
		nums = append(nums, r.num)
	}
	return nums
}
