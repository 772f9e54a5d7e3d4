package journal

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"
)

// model is what a journal should hold: the open items in the order begun.
type model struct{ items []Item }

func (m *model) find(id string) int {
	return slices.IndexFunc(m.items, func(it Item) bool { return it.ID == id })
}

func (m *model) begin(id string, data []byte) {
	m.items = append(m.items, Item{ID: id, Data: clone(data)})
}

func (m *model) note(id string, data []byte) {
	if i := m.find(id); i >= 0 {
		m.items[i].Notes = append(m.items[i].Notes, clone(data))
	}
}

func (m *model) end(id string) {
	if i := m.find(id); i >= 0 {
		m.items = slices.Delete(m.items, i, i+1)
	}
}

// clone copies m deeply enough for later changes to m not to show.
func (m *model) clone() model {
	c := model{items: slices.Clone(m.items)}
	for i := range c.items {
		c.items[i].Notes = slices.Clone(c.items[i].Notes)
	}
	return c
}

// workload makes random appends, applying each to a journal and a model.
type workload struct {
	rng  *rand.Rand
	next int // the number of the next id
	m    model
}

func newWorkload(seed uint64) *workload {
	return &workload{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// data returns 0 to max-1 random bytes.
func (w *workload) data(max int) []byte {
	b := make([]byte, w.rng.IntN(max))
	for i := range b {
		b[i] = byte(w.rng.Uint32())
	}
	return b
}

// step makes one random append.
func (w *workload) step(t testing.TB, j *Journal) {
	t.Helper()
	open := len(w.m.items)
	switch r := w.rng.IntN(100); {
	case r < 40 || open == 0:
		id := fmt.Sprintf("item-%d", w.next)
		w.next++
		d := w.data(64)
		must(t, j.Begin(id, d))
		w.m.begin(id, d)
	case r < 70:
		id := w.m.items[w.rng.IntN(open)].ID
		d := w.data(32)
		must(t, j.Note(id, d))
		w.m.note(id, d)
	case r < 95:
		id := w.m.items[w.rng.IntN(open)].ID
		must(t, j.End(id))
		w.m.end(id)
	case r < 97:
		must(t, j.Note("unknown", []byte("x")))
	default:
		must(t, j.End("unknown"))
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// open opens a journal in dir with e, closing it when the test ends.
func openEnv(t testing.TB, dir string, opt Options, e env) (*Journal, Recovery) {
	t.Helper()
	j, rec, err := open(dir, opt, e)
	if err != nil {
		t.Fatalf("open %s: %v", dir, err)
	}
	t.Cleanup(func() {
		if err := j.Close(); err != nil && !errors.Is(err, ErrClosed) {
			t.Errorf("close: %v", err)
		}
	})
	return j, rec
}

// openT opens a journal in dir whose syncs do nothing: tests that count
// on fdatasync use faultyEnv or systemEnv.
func openT(t testing.TB, dir string, opt Options) (*Journal, Recovery) {
	t.Helper()
	return openEnv(t, dir, opt, noSyncEnv())
}

// noSyncEnv is the system's env with syncs that do nothing, to keep tests
// of SyncAlways mode fast.
func noSyncEnv() env {
	e := systemEnv()
	wrap := func(open func(string) (segmentFile, error)) func(string) (segmentFile, error) {
		return func(path string) (segmentFile, error) {
			sf, err := open(path)
			return noSyncFile{sf}, err
		}
	}
	e.create, e.open = wrap(e.create), wrap(e.open)
	e.syncDir = func(string) error { return nil }
	return e
}

// noSyncFile is a segment file whose Sync does nothing.
type noSyncFile struct{ segmentFile }

func (noSyncFile) Sync() error { return nil }

// reopen closes j and opens dir again.
func reopen(t testing.TB, j *Journal, dir string, opt Options) (*Journal, Recovery) {
	t.Helper()
	must(t, j.Close())
	return openT(t, dir, opt)
}

// wantItems fails t unless got holds the items of want.
func wantItems(t testing.TB, what string, got []Item, want model) {
	t.Helper()
	if len(got) == 0 && len(want.items) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want.items) {
		t.Fatalf("%s: got %d items, want %d\ngot  %s\nwant %s", what, len(got), len(want.items), brief(got), brief(want.items))
	}
}

// brief shows items without their bytes.
func brief(items []Item) string {
	s := ""
	for i, it := range items {
		if i == 8 {
			return s + " ..."
		}
		s += fmt.Sprintf(" %s(%dB,%d notes)", it.ID, len(it.Data), len(it.Notes))
	}
	return s
}

// snapshot returns every file under dir, by path relative to dir, with
// its contents and mode.
func snapshot(t testing.TB, dir string) map[string]string {
	t.Helper()
	files := make(map[string]string)
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		info, err := d.Info()
		if err != nil {
			return err
		}
		content := ""
		if d.Type().IsRegular() {
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			content = string(b)
		}
		files[rel] = fmt.Sprintf("%v %q", info.Mode(), content)
		return nil
	})
	must(t, err)
	return files
}

// segmentFiles returns the names of the segment files in dir.
func segmentFiles(t testing.TB, dir string) []string {
	t.Helper()
	nums, err := listSegments(dir)
	must(t, err)
	var names []string
	for _, n := range nums {
		names = append(names, segmentName(n))
	}
	return names
}

// copyDir copies the files of src into a new directory dst.
func copyDir(t testing.TB, src, dst string) {
	t.Helper()
	must(t, os.MkdirAll(dst, 0o700))
	entries, err := os.ReadDir(src)
	must(t, err)
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		must(t, err)
		must(t, os.WriteFile(filepath.Join(dst, e.Name()), b, 0o600))
	}
}

// faults are the failures a faultyFile injects.
type faults struct {
	mu       sync.Mutex
	writeErr error // the next WriteAt writes half its bytes, then fails with it
	syncErr  error // Sync fails with it while set
	truncErr error // Truncate fails with it while set
	syncs    int   // Syncs that worked
}

func (f *faults) set(fn func(*faults)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

// faultyFile is a segment file with injected failures.
type faultyFile struct {
	segmentFile
	f *faults
}

func (ff faultyFile) WriteAt(p []byte, off int64) (int, error) {
	ff.f.mu.Lock()
	err := ff.f.writeErr
	ff.f.writeErr = nil
	ff.f.mu.Unlock()
	if err != nil {
		n, _ := ff.segmentFile.WriteAt(p[:len(p)/2], off)
		return n, err
	}
	return ff.segmentFile.WriteAt(p, off)
}

func (ff faultyFile) Sync() error {
	ff.f.mu.Lock()
	defer ff.f.mu.Unlock()
	if ff.f.syncErr != nil {
		return ff.f.syncErr
	}
	ff.f.syncs++
	return ff.segmentFile.Sync()
}

func (ff faultyFile) Truncate(size int64) error {
	ff.f.mu.Lock()
	err := ff.f.truncErr
	ff.f.mu.Unlock()
	if err != nil {
		return err
	}
	return ff.segmentFile.Truncate(size)
}

// faultyEnv is the system's env with files that fail as f says.
func faultyEnv(f *faults) env {
	e := systemEnv()
	wrap := func(open func(string) (segmentFile, error)) func(string) (segmentFile, error) {
		return func(path string) (segmentFile, error) {
			sf, err := open(path)
			if err != nil {
				return nil, err
			}
			return faultyFile{sf, f}, nil
		}
	}
	e.create, e.open = wrap(e.create), wrap(e.open)
	return e
}

// timer is a wait the syncer asked the fake clock for.
type timer struct {
	d    time.Duration
	fire chan time.Time
}

// fakeClock stands still; the syncer's waits end when the test fires them.
type fakeClock struct {
	now    time.Time
	timers chan timer    // a wait the syncer began
	rounds chan struct{} // a round the syncer finished
}

func newFakeClock() *fakeClock {
	return &fakeClock{
		now:    time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC),
		timers: make(chan timer, 1),
		rounds: make(chan struct{}, 1),
	}
}

func (c *fakeClock) env(e env) env {
	e.now = func() time.Time { return c.now }
	e.after = func(d time.Duration) <-chan time.Time {
		tm := timer{d, make(chan time.Time, 1)}
		c.timers <- tm
		return tm.fire
	}
	e.synced = func() { c.rounds <- struct{}{} }
	return e
}

// fireNext waits for the syncer's next wait, checks its length, ends it,
// and waits for the round that follows.
func (c *fakeClock) fireNext(t testing.TB, want time.Duration) {
	t.Helper()
	tm := <-c.timers
	if tm.d != want {
		t.Errorf("syncer waits %v, want %v", tm.d, want)
	}
	tm.fire <- c.now
	<-c.rounds
}
