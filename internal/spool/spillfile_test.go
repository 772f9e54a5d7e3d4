package spool

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSpillFileLifecycle(t *testing.T) {
	dir := t.TempDir()
	q := New[event](Config{Dir: dir, Memory: 4})

	for i := range 4 {
		if err := q.Put(makeEvent(i)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 4 {
		checkEvent(t, mustGet(t, q), i)
	}
	if names := dirFiles(t, dir); len(names) != 0 {
		t.Fatalf("dir holds %q without a spill; want nothing", names)
	}

	for i := range 10 {
		if err := q.Put(makeEvent(i)); err != nil {
			t.Fatal(err)
		}
	}
	names := dirFiles(t, dir)
	prefix := fmt.Sprintf(".lc-spool-%d-", os.Getpid())
	if len(names) != 1 || !strings.HasPrefix(names[0], prefix) || len(names[0]) == len(prefix) {
		t.Fatalf("dir holds %q after a spill; want one %s<random> file", names, prefix)
	}
	fi, err := os.Stat(filepath.Join(dir, names[0]))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode() != 0o600 {
		t.Errorf("spill file mode = %v; want -rw-------", fi.Mode())
	}
	for i := range 10 {
		checkEvent(t, mustGet(t, q), i)
	}
	checkSpillEmpty(t, dir)

	if err := q.Remove(); err != nil {
		t.Fatal(err)
	}
	if names := dirFiles(t, dir); len(names) != 0 {
		t.Errorf("dir holds %q after Remove; want nothing", names)
	}
	if err := q.Remove(); err != nil {
		t.Errorf("second Remove: %v", err)
	}
}

func TestRemoveCountsUndelivered(t *testing.T) {
	q := New[int](Config{Dir: t.TempDir(), Memory: 2})
	for i := range 5 {
		if err := q.Put(i); err != nil {
			t.Fatal(err)
		}
	}
	if err := q.Remove(); err != nil {
		t.Fatal(err)
	}
	want := Stats{Queued: 2, Spilled: 3, Lost: 3}
	if st := q.Stats(); st != want {
		t.Errorf("Stats after Remove = %+v; want %+v", st, want)
	}
}

func TestTimeRoundTrip(t *testing.T) {
	type stamped struct{ At time.Time }
	times := []time.Time{
		{},
		time.Now(), // local, with a monotonic reading
		time.Date(2024, 2, 29, 23, 59, 59, 999_999_999, time.UTC),
		time.Date(2025, 6, 1, 12, 0, 0, 1, time.FixedZone("IST", 5*3600+1800)),
		time.Date(1999, 12, 31, 0, 0, 0, 0, time.FixedZone("", -7*3600)),
	}
	q := New[stamped](Config{Dir: t.TempDir(), Memory: 1})
	removeAtEnd(t, q)
	for _, at := range times {
		if err := q.Put(stamped{at}); err != nil {
			t.Fatal(err)
		}
	}
	if st := q.Stats(); st.OnDisk != int64(len(times)-1) {
		t.Fatalf("OnDisk = %d; want all but the first on disk", st.OnDisk)
	}
	for _, want := range times {
		got := mustGet(t, q).At
		_, gotOff := got.Zone()
		_, wantOff := want.Zone()
		if !got.Equal(want) || gotOff != wantOff {
			t.Errorf("got %v, want %v", got, want)
		}
	}
}

// coded is gob-encoded by hand so that tests can make one value fail to
// encode (encodeFails) or to decode (decodeFails).
type coded byte

const (
	encodeFails coded = 0xfe
	decodeFails coded = 0xff
)

func (c coded) GobEncode() ([]byte, error) {
	if c == encodeFails {
		return nil, errors.New("cannot encode")
	}
	return []byte{byte(c)}, nil
}

func (c *coded) GobDecode(b []byte) error {
	if len(b) != 1 || coded(b[0]) == decodeFails {
		return errors.New("cannot decode")
	}
	*c = coded(b[0])
	return nil
}

func TestCodingErrorsSkipOneItem(t *testing.T) {
	dir := t.TempDir()
	q := New[coded](Config{Dir: dir, Memory: 1})
	removeAtEnd(t, q)

	in := []coded{0, 1, 2, encodeFails, 3, decodeFails, 4}
	var putErrs int
	for _, c := range in {
		err := q.Put(c)
		if (err != nil) != (c == encodeFails) {
			t.Fatalf("Put(%#x) = %v", byte(c), err)
		}
		if err != nil {
			putErrs++
			if !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), "cannot encode") {
				t.Errorf("Put error %q; want the file and the cause", err)
			}
		}
	}
	var got []coded
	var getErrs int
	for range len(in) - putErrs {
		c, ok, err := q.Get(t.Context())
		switch {
		case err != nil:
			getErrs++
			if ok || !strings.Contains(err.Error(), "cannot decode") {
				t.Errorf("Get = ok %v, err %v; want false and the cause", ok, err)
			}
		case ok:
			got = append(got, c)
		default:
			t.Fatal("Get = ok false, want an item or an error")
		}
	}
	if fmt.Sprint(got) != "[0 1 2 3 4]" || putErrs != 1 || getErrs != 1 {
		t.Errorf("got %v with %d Put and %d Get errors; want [0 1 2 3 4], 1, 1", got, putErrs, getErrs)
	}
	if st := q.Stats(); st.Lost != 2 || st.Queued != 0 {
		t.Errorf("Stats = %+v; want 2 lost, none queued", st)
	}
}

// TestWriteFailure swaps the spill file for a read-only descriptor on the
// same path, so that writes and truncation fail while reads still work.
func TestWriteFailure(t *testing.T) {
	type item struct {
		N   int
		Pad string
	}
	pad := strings.Repeat("x", 1000)
	q := New[item](Config{Dir: t.TempDir(), Memory: 1})
	removeAtEnd(t, q)

	put := 0
	for q.spill == nil || q.spill.size == 0 { // until the producer has written once
		if err := q.Put(item{put, pad}); err != nil {
			t.Fatal(err)
		}
		put++
	}
	written := put
	ro, err := os.Open(q.spill.f.Name())
	if err != nil {
		t.Fatal(err)
	}
	if err := q.spill.f.Close(); err != nil {
		t.Fatal(err)
	}
	q.spill.f, q.spill.rd.f = ro, ro

	for err = nil; err == nil; put++ {
		err = q.Put(item{put, pad})
	}
	if lost := put - written; !strings.Contains(err.Error(), fmt.Sprintf("(%d items lost)", lost)) ||
		q.Stats().Lost != int64(lost) {
		t.Fatalf("failed Put: %v, Stats %+v; want %d items lost", err, q.Stats(), lost)
	}
	if err := q.Put(item{put, pad}); err == nil || !strings.Contains(err.Error(), "earlier failure") {
		t.Errorf("Put after a failed write = %v; want a refusal", err)
	}

	for i := range written {
		if got := mustGet(t, q); got.N != i {
			t.Fatalf("Get = item %d; want %d", got.N, i)
		}
	}
	if st := q.Stats(); st.Queued != 0 {
		t.Fatalf("Stats = %+v; want the written items delivered and the rest lost", st)
	}

	// The drained file cannot be truncated: memory still works, spilling
	// reports the truncation.
	if err := q.Put(item{N: -1}); err != nil {
		t.Errorf("Put into memory: %v", err)
	}
	if err := q.Put(item{N: -2}); err == nil || !strings.Contains(err.Error(), "truncate") {
		t.Errorf("spilling Put = %v; want a truncate error", err)
	}
	if got := mustGet(t, q); got.N != -1 {
		t.Errorf("Get = item %d; want -1", got.N)
	}
}
