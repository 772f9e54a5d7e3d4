package retention

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// testKinds is lc's layout: calls/YYYY-MM-DD/HH/HHMMSS_<id>/ and
// other/YYYY-MM-DD/YYYYMMDD_HHMMSS.pcap.
var testKinds = []Kind{
	{Name: "calls", Levels: []string{"2006-01-02", "15"}, Unit: "150405"},
	{Name: "other", Levels: []string{"2006-01-02"}, Unit: "20060102_150405"},
}

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// callUnit is the path of a call directory of a call that started at.
func callUnit(at time.Time, id string) string {
	return "calls/" + at.Format("2006-01-02/15") + "/" + at.Format("150405") + "_" + id
}

// otherUnit is the path of an "other" file that started at.
func otherUnit(at time.Time) string {
	return "other/" + at.Format("2006-01-02") + "/" + at.Format("20060102_150405") + ".pcap"
}

// makeCall makes the call directory rel under root with two files of
// size/2 bytes.
func makeCall(tb testing.TB, root, rel string, size int) {
	tb.Helper()
	dir := filepath.Join(root, rel)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	for _, name := range []string{"x_sip.pcap", "x_rtp.pcap"} {
		if err := os.WriteFile(filepath.Join(dir, name), make([]byte, size/2), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
}

// makeFile makes the file rel under root, of size bytes.
func makeFile(tb testing.TB, root, rel string, size int) {
	tb.Helper()
	path := filepath.Join(root, rel)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, make([]byte, size), 0o644); err != nil {
		tb.Fatal(err)
	}
}

func exists(root, rel string) bool {
	_, err := os.Lstat(filepath.Join(root, rel))
	return err == nil
}

// newCleaner is New with testKinds, closed at the end of the test.
func newCleaner(tb testing.TB, root string, cfg Config) *Cleaner {
	tb.Helper()
	if cfg.Kinds == nil {
		cfg.Kinds = testKinds
	}
	c, err := New(root, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

func add(tb testing.TB, c *Cleaner, rel string, when time.Time) {
	tb.Helper()
	if err := c.Add(rel, when); err != nil {
		tb.Fatal(err)
	}
}

// TestSizeLimitOldestFirst: over the size limit, the oldest units go
// first, calls and other files alike, by the time given, else the time in
// their names, until the tree is under the limit.
func TestSizeLimitOldestFirst(t *testing.T) {
	root := t.TempDir()
	var units []string
	for i := range 6 {
		at := t0.Add(time.Duration(i) * time.Minute)
		if i%2 == 0 {
			units = append(units, callUnit(at, fmt.Sprint("c", i)))
			makeCall(t, root, units[i], 1000)
		} else {
			units = append(units, otherUnit(at))
			makeFile(t, root, units[i], 1000)
		}
	}
	c := newCleaner(t, root, Config{MaxBytes: 2500})
	for _, i := range []int{4, 1, 5, 0, 3} { // added out of order; 2 by the time given
		add(t, c, units[i], time.Time{})
	}
	add(t, c, units[2], t0.Add(2*time.Minute))
	c.Sweep()
	for i, u := range units {
		if want := i >= 4; exists(root, u) != want {
			t.Errorf("unit %d %s: exists %v, want %v", i, u, !want, want)
		}
	}
	st := c.Stats()
	if st.Removed["calls"] != 2 || st.Removed["other"] != 2 || st.RemovedBytes != 4000 || st.Tracked != 2 || st.TrackedBytes != 2000 {
		t.Errorf("stats %+v", st)
	}
}

// TestAgeLimit: every unit older than the age limit goes, whatever the
// size; with no clock yet, none does.
func TestAgeLimit(t *testing.T) {
	root := t.TempDir()
	var now time.Time
	c := newCleaner(t, root, Config{MaxAge: 2 * time.Hour, Now: func() time.Time { return now }})
	for h := range 5 {
		rel := callUnit(t0.Add(time.Duration(h)*time.Hour), "a")
		makeCall(t, root, rel, 10)
		add(t, c, rel, time.Time{})
	}
	c.Sweep()
	if st := c.Stats(); st.Tracked != 5 || st.Removed["calls"] != 0 {
		t.Fatalf("without a clock: stats %+v", st)
	}
	now = t0.Add(4*time.Hour + time.Minute) // the units at +0h, +1h and +2h are more than 2h old
	c.Sweep()
	for h := range 5 {
		if want := h >= 3; exists(root, callUnit(t0.Add(time.Duration(h)*time.Hour), "a")) != want {
			t.Errorf("unit at +%dh: exists %v", h, !want)
		}
	}
}

// TestDryRun: a dry run removes nothing, counts what it would remove, and
// says so once per unit.
func TestDryRun(t *testing.T) {
	root := t.TempDir()
	c := newCleaner(t, root, Config{MaxBytes: 1500, DryRun: true})
	for i := range 4 {
		rel := callUnit(t0.Add(time.Duration(i)*time.Second), "d")
		makeCall(t, root, rel, 1000)
		add(t, c, rel, time.Time{})
	}
	c.Sweep()
	c.Sweep()
	for i := range 4 {
		if !exists(root, callUnit(t0.Add(time.Duration(i)*time.Second), "d")) {
			t.Errorf("unit %d removed by a dry run", i)
		}
	}
	if st := c.Stats(); st.Removed["calls"] != 3 || st.RemovedBytes != 3000 || !st.DryRun {
		t.Errorf("stats %+v, want 3 units (3000 bytes) that would go", st)
	}
}

// TestHeldNeverRemoved: a unit held is never removed however old or big,
// its bytes count towards the limit, and once added it goes like any.
func TestHeldNeverRemoved(t *testing.T) {
	root := t.TempDir()
	now := t0.Add(48 * time.Hour)
	c := newCleaner(t, root, Config{MaxBytes: 1000, MaxAge: time.Hour, Now: func() time.Time { return now }})
	oldest, newer, newest := callUnit(t0, "held"), callUnit(t0.Add(time.Hour), "done"), callUnit(t0.Add(2*time.Hour), "open")
	for _, u := range []string{oldest, newer, newest} {
		makeCall(t, root, u, 800)
	}
	if err := c.Hold(oldest, 800); err != nil {
		t.Fatal(err)
	}
	c.Sweep()
	if !exists(root, oldest) {
		t.Fatal("a held unit was removed")
	}
	now = t0.Add(90 * time.Minute) // only the held one is past the age limit
	add(t, c, newer, time.Time{})
	c.Sweep() // held 800 + newer 800 > 1000: newer goes, the held one stays
	if !exists(root, oldest) || exists(root, newer) || !exists(root, newest) {
		t.Fatalf("after the pass: held %v, done %v, never added %v", exists(root, oldest), exists(root, newer), exists(root, newest))
	}
	add(t, c, oldest, time.Time{})
	c.Sweep()
	if exists(root, oldest) || !exists(root, newest) {
		t.Fatalf("once done, the old unit exists %v; the unit never added exists %v", exists(root, oldest), exists(root, newest))
	}
}

// TestEmptiedDateDirectories: the dated directories a removal empties go
// too, up to the kind's directory, once the clock has passed them; the
// ones of the clock's own hour and day stay.
func TestEmptiedDateDirectories(t *testing.T) {
	root := t.TempDir()
	now := t0.Add(24 * time.Hour)
	c := newCleaner(t, root, Config{MaxBytes: 1, Now: func() time.Time { return now }})
	yesterday, today := callUnit(t0, "y"), callUnit(now, "t")
	other := otherUnit(t0)
	makeCall(t, root, yesterday, 10)
	makeCall(t, root, today, 10)
	makeFile(t, root, other, 10)
	for _, u := range []string{yesterday, today, other} {
		add(t, c, u, time.Time{})
	}
	c.Sweep()
	for _, gone := range []string{"calls/2026-01-02", "other/2026-01-02", today} {
		if exists(root, gone) {
			t.Errorf("%s is still there", gone)
		}
	}
	for _, kept := range []string{"calls/2026-01-03/03", "calls", "other"} {
		if !exists(root, kept) {
			t.Errorf("%s was removed", kept)
		}
	}
}

// TestSymlinksNotFollowed: a symlink planted in a unit is removed as a
// link; a dated directory or a unit that is a symlink is neither listed
// nor entered; nothing outside the tree is touched.
func TestSymlinksNotFollowed(t *testing.T) {
	root, outside := t.TempDir(), t.TempDir()
	victim := filepath.Join(outside, "victim")
	makeCall(t, outside, "victim", 100)
	link := func(target, rel string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(root, rel)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, filepath.Join(root, rel)); err != nil {
			t.Fatal(err)
		}
	}
	planted := callUnit(t0, "planted")
	makeCall(t, root, planted, 100)
	link(victim, planted+"/escape")                // a link to a directory outside, inside a unit
	link(outside, "calls/2026-01-03")              // a dated directory that is a link
	link(victim, "calls/2026-01-02/03/030406_lnk") // a unit that is a link
	c := newCleaner(t, root, Config{MaxBytes: 1})
	units, err := c.Scan()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(units, []string{planted}) {
		t.Fatalf("Scan = %q, want only %s", units, planted)
	}
	for _, u := range []string{planted, "calls/2026-01-02/03/030406_lnk", "calls/2026-01-03/03/030405_victim"} {
		add(t, c, u, time.Time{})
	}
	c.Sweep()
	if exists(root, planted) {
		t.Error("the unit with a link in it was not removed")
	}
	for _, f := range []string{"x_sip.pcap", "x_rtp.pcap"} {
		if _, err := os.Stat(filepath.Join(victim, f)); err != nil {
			t.Errorf("outside the tree: %v", err)
		}
	}
	if !exists(root, "calls/2026-01-02/03/030406_lnk") || !exists(root, "calls/2026-01-03") {
		t.Error("a link that is not a unit was removed")
	}
	if st := c.Stats(); st.Removed["calls"] != 1 || st.Errors != 2 {
		t.Errorf("stats %+v: want 1 removed and the 2 links counted as errors", st)
	}
}

// TestScan: the units on disk are the entries at a unit's depth whose
// dated directories and names parse; anything else is left alone.
func TestScan(t *testing.T) {
	root := t.TempDir()
	makeCall(t, root, callUnit(t0, "a"), 1)
	makeCall(t, root, callUnit(t0, "a")+"_1", 1)
	makeFile(t, root, otherUnit(t0), 1)
	makeFile(t, root, otherUnit(t0)+".gz", 1)
	makeCall(t, root, "calls/2026-01-02/03/notacall", 1)
	makeCall(t, root, "calls/2026-01-02/030405_olderlayout", 1)
	makeCall(t, root, "calls/misc/03/030405_x", 1)
	makeFile(t, root, ".lc/journal/0000000000000001.seg", 1)
	makeFile(t, root, "other/README", 1)
	c := newCleaner(t, root, Config{MaxBytes: 1})
	got, err := c.Scan()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{callUnit(t0, "a"), callUnit(t0, "a") + "_1", otherUnit(t0), otherUnit(t0) + ".gz"}
	if !slices.Equal(got, want) {
		t.Errorf("Scan = %q\nwant %q", got, want)
	}
}

// TestUsedPercent: with a limit in percent, units go while the
// filesystem is fuller than that.
func TestUsedPercent(t *testing.T) {
	root := t.TempDir()
	used := func() (int64, int64, error) {
		var n int64
		err := filepath.Walk(root, func(_ string, fi os.FileInfo, err error) error {
			if err == nil && fi.Mode().IsRegular() {
				n += fi.Size()
			}
			return err
		})
		return 10000, 2000 + n, err // 2000 bytes of someone else's
	}
	c := newCleaner(t, root, Config{MaxUsedPercent: 50, Usage: used})
	for i := range 5 {
		rel := otherUnit(t0.Add(time.Duration(i) * time.Second))
		makeFile(t, root, rel, 1000)
		add(t, c, rel, time.Time{})
	}
	c.Sweep()
	if _, u, _ := used(); u != 5000 {
		t.Errorf("used %d after the pass, want 5000 (50%%)", u)
	}
	if st := c.Stats(); st.Removed["other"] != 2 {
		t.Errorf("stats %+v", st)
	}
}

// TestWaitRoom: over the limit with units held, WaitRoom waits until
// they are done and removed; with nothing held it does not wait.
func TestWaitRoom(t *testing.T) {
	root := t.TempDir()
	c := newCleaner(t, root, Config{MaxBytes: 1000})
	a := callUnit(t0, "a")
	makeCall(t, root, a, 1500)
	c.WaitRoom(t.Context()) // nothing held: at once
	if err := c.Hold(a, 1500); err != nil {
		t.Fatal(err)
	}
	returned := make(chan struct{})
	go func() {
		c.WaitRoom(t.Context())
		close(returned)
	}()
	for c.Stats().Waits == 0 {
		runtime.Gosched()
	}
	select {
	case <-returned:
		t.Fatal("WaitRoom returned while over the limit with a unit held")
	default:
	}
	add(t, c, a, time.Time{})
	c.Sweep()
	<-returned
	if exists(root, a) {
		t.Error("the unit is still there")
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	c.Hold(callUnit(t0.Add(time.Second), "b"), 5000)
	c.WaitRoom(ctx) // a done context: at once
}

// TestStartClose: the goroutine makes a pass when a unit is added; Close
// makes the last one and leaves Add without effect.
func TestStartClose(t *testing.T) {
	root := t.TempDir()
	c := newCleaner(t, root, Config{MaxBytes: 100, Interval: time.Hour})
	c.Start()
	a, b := callUnit(t0, "a"), callUnit(t0.Add(time.Second), "b")
	makeCall(t, root, a, 1000)
	makeCall(t, root, b, 1000)
	add(t, c, a, time.Time{})
	st := c.Close()
	if exists(root, a) || st.Removed["calls"] != 1 {
		t.Errorf("after Close: unit there %v, stats %+v", exists(root, a), st)
	}
	add(t, c, b, time.Time{})
	c.Sweep()
	if !exists(root, b) {
		t.Error("a unit added after Close was removed")
	}
}

// TestNotAUnit: Add and Hold refuse paths that are not a unit's.
func TestNotAUnit(t *testing.T) {
	c := newCleaner(t, t.TempDir(), Config{MaxAge: time.Hour})
	for _, rel := range []string{"calls/2026-01-02/030405_x", "calls/2026-01-02/03/../../x", ".lc/journal/x/y/z", "/calls/a/b/c", "other/2026-01-02/x/y"} {
		if err := c.Add(rel, time.Time{}); err == nil {
			t.Errorf("Add(%q) accepted", rel)
		}
		if err := c.Hold(rel, 1); err == nil {
			t.Errorf("Hold(%q) accepted", rel)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string // in the error; "" for none
	}{
		{"bytes", Config{Kinds: testKinds, MaxBytes: 1}, ""},
		{"no limit", Config{Kinds: testKinds}, "no limit"},
		{"both sizes", Config{Kinds: testKinds, MaxBytes: 1, MaxUsedPercent: 5}, "choose one"},
		{"percent", Config{Kinds: testKinds, MaxUsedPercent: 100}, "less than 100%"},
		{"age", Config{Kinds: testKinds, MaxAge: -time.Second}, "negative"},
		{"kind", Config{Kinds: []Kind{{Name: "a/b", Unit: "15"}}, MaxBytes: 1}, "one path component"},
		{"unit layout", Config{Kinds: []Kind{{Name: "a", Unit: "January"}}, MaxBytes: 1}, "fixed length"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if (err == nil) != (tt.want == "") || err != nil && !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate() = %v, want %q", err, tt.want)
			}
		})
	}
}

// TestEmptiedLater: a dated directory left empty before the clock had
// passed it, or found empty by Scan, goes at a later pass once it has.
func TestEmptiedLater(t *testing.T) {
	root := t.TempDir()
	var now time.Time
	c := newCleaner(t, root, Config{MaxBytes: 1, Now: func() time.Time { return now }})
	if err := os.MkdirAll(filepath.Join(root, "calls/2025-12-31/23"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "other/2025-12-31"), 0o755); err != nil {
		t.Fatal(err)
	}
	a := callUnit(t0, "a")
	makeCall(t, root, a, 10)
	if _, err := c.Scan(); err != nil {
		t.Fatal(err)
	}
	add(t, c, a, time.Time{})
	c.Sweep() // no clock yet: the unit goes, its directories stay
	if exists(root, a) || !exists(root, "calls/2026-01-02/03") || !exists(root, "calls/2025-12-31/23") {
		t.Fatalf("without a clock: unit %v, its hour %v, the empty hour %v", exists(root, a), exists(root, "calls/2026-01-02/03"), exists(root, "calls/2025-12-31/23"))
	}
	now = t0.Add(30 * time.Minute) // past 2025-12-31 and its hour 23, not the hour 03 of 2026-01-02
	c.Sweep()
	for rel, want := range map[string]bool{"calls/2025-12-31": false, "other/2025-12-31": false, "calls/2026-01-02/03": true} {
		if exists(root, rel) != want {
			t.Errorf("%s: there %v, want %v", rel, !want, want)
		}
	}
	now = t0.Add(time.Hour) // past the hour, not the day
	c.Sweep()
	if exists(root, "calls/2026-01-02/03") || !exists(root, "calls/2026-01-02") {
		t.Errorf("once the clock passed the hour: the hour there %v, the day there %v", exists(root, "calls/2026-01-02/03"), exists(root, "calls/2026-01-02"))
	}
	now = t0.Add(24 * time.Hour)
	c.Sweep()
	if exists(root, "calls/2026-01-02") || !exists(root, "calls") {
		t.Errorf("once the clock passed the day: the day there %v, calls there %v", exists(root, "calls/2026-01-02"), exists(root, "calls"))
	}
}
