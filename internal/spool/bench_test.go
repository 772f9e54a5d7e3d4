package spool

import "testing"

// BenchmarkQueue puts a batch of events and takes them back. With
// "memory" every item stays in memory; with "spill" all but the first 64
// of each batch go through the spill file, which is truncated once per
// batch.
func BenchmarkQueue(b *testing.B) {
	benchmarks := []struct {
		name          string
		memory, batch int
	}{
		{name: "memory", memory: 1024, batch: 1024},
		{name: "spill", memory: 64, batch: 1024},
	}
	events := []event{makeEvent(1), makeEvent(3)} // a file and a call
	for _, bm := range benchmarks {
		b.Run(bm.name, func(b *testing.B) {
			q := New[event](Config{Dir: b.TempDir(), Memory: bm.memory})
			removeAtEnd(b, q)
			ctx := b.Context()
			b.ReportAllocs()
			for b.Loop() {
				for i := range bm.batch {
					if err := q.Put(events[i%2]); err != nil {
						b.Fatal(err)
					}
				}
				for range bm.batch {
					if _, ok, err := q.Get(ctx); !ok || err != nil {
						b.Fatalf("Get = ok %v, err %v", ok, err)
					}
				}
			}
			items := float64(b.N * bm.batch)
			st := q.Stats()
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/items, "ns/item")
			b.ReportMetric(items/b.Elapsed().Seconds(), "items/s")
			b.ReportMetric(float64(st.Spilled)/items, "spilled/item")
		})
	}
}
