//go:build unix

package processor

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/lc-voip/lc/internal/event"
	"github.com/lc-voip/lc/internal/testpcap"
	"golang.org/x/sys/unix"
)

// symlinkTraffic is a call and an out-of-dialog OPTIONS: the first packet
// goes to a call file, the OPTIONS to an "other" file.
func symlinkTraffic(call bool) []testpcap.Packet {
	tl := &testpcap.Timeline{Now: t0}
	if call {
		tl.BasicCall(testpcap.NewDialog(1), 2)
	} else {
		o := testpcap.NewDialog(6)
		tl.Add(testpcap.UDP(o.Caller, o.Callee, o.Request("OPTIONS", 1, "", "")), 0)
	}
	return tl.Pkts
}

// TestSymlinksInOutputTree plants symlinks to another directory where lc
// makes its directories: nothing is written in that directory, and the
// write fails with an error naming the symlink, counted like any other.
func TestSymlinksInOutputTree(t *testing.T) {
	for _, tc := range []struct {
		link string // where the symlink is planted, relative to the output directory
		call bool   // the traffic is a call (else "other" traffic)
	}{
		{"calls", true},
		{filepath.Join("calls", filepath.Dir(callDate)), true},
		{filepath.Join("calls", callDate), true},
		{"other", false},
		{filepath.Join("other", otherDate), false},
	} {
		t.Run(tc.link, func(t *testing.T) {
			target := t.TempDir()
			r := startRun(t, t.TempDir(), nil)
			link := filepath.Join(r.out, tc.link)
			if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(target, link); err != nil {
				t.Fatal(err)
			}
			r.feed(symlinkTraffic(tc.call)...)
			st := r.close()

			checkEmpty(t, target)
			var se *symlinkError
			if !errors.As(r.err, &se) || se.path != link {
				t.Errorf("run error = %v, want a refusal to follow the symlink %q", r.err, link)
			}
			checkFailed(t, st, 1) // the packet whose write failed
			checkEventPaths(t, r.out, r.events)
		})
	}
}

// TestSymlinkAtNewNameIsSkipped plants symlinks at the names of a call's
// directory and of an "other" file: lc takes the next free name and never
// writes through them.
func TestSymlinkAtNewNameIsSkipped(t *testing.T) {
	target := t.TempDir()
	r := startRun(t, t.TempDir(), nil)
	d := testpcap.NewDialog(1)
	callDir := filepath.Join(r.out, "calls", callDate, t0.Format("150405")+"_"+SafeName(d.CallID))
	otherFile := filepath.Join(r.out, "other", otherDate, t0.Format("20060102_150405")+".pcap")
	for _, link := range []string{callDir, otherFile} {
		if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
	}
	tl := &testpcap.Timeline{Now: t0}
	o := testpcap.NewDialog(6)
	tl.Add(testpcap.UDP(o.Caller, o.Callee, o.Request("OPTIONS", 1, "", "")), 0)
	tl.BasicCall(d, 2)
	r.feed(tl.Pkts...)
	st := r.close()
	if r.err != nil {
		t.Fatal(r.err)
	}
	checkEmpty(t, target)
	checkEventPaths(t, r.out, r.events)
	checkFailed(t, st, 0)
	want := map[string]bool{callDir + "_1": false, filepath.Join(filepath.Dir(otherFile), t0.Format("20060102_150405")+"_1.pcap"): false}
	for _, e := range r.events {
		switch e := e.(type) {
		case event.CallCompleted:
			want[e.Dirname] = true
		case event.FileClosed:
			if e.Kind == event.KindOther {
				want[e.Path] = true
			}
		}
	}
	for p, seen := range want {
		if !seen {
			t.Errorf("no event for %s; events: %+v", p, r.events)
		}
	}
}

// sipFileOf returns the path of d's first SIP file in the run's output.
func sipFileOf(t *testing.T, r *outputRun, d testpcap.Dialog) string {
	t.Helper()
	safe := SafeName(d.CallID)
	return filepath.Join(r.out, "calls", callDate, t0.Format("150405")+"_"+safe, safe+"_sip.pcap")
}

// TestReopenRefusesSymlinkedFile swaps an evicted file for a symlink to a
// file outside the output directory: the reopen fails with an error naming
// the symlink and the file it points to is unchanged.
func TestReopenRefusesSymlinkedFile(t *testing.T) {
	r := startRun(t, t.TempDir(), func(c *Config) { c.MaxOpenFiles = 2 })
	open, next, first := evictionTraffic()
	r.feed(open...)
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.p.files.evictions == 0 {
		t.Fatal("the first call's file was not evicted")
	}
	victim := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(victim, []byte(victimContent), 0o644); err != nil {
		t.Fatal(err)
	}
	sipFile := sipFileOf(t, r, first)
	if err := os.Remove(sipFile); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, sipFile); err != nil {
		t.Fatal(err)
	}
	checkReopenRefused(t, r, next, victim, "the symlink's target", sipFile)
	if fc := fileEvents(r)[sipFile]; fc.Error != r.err.Error() || fc.Packets != 1 {
		t.Errorf("event of the file swapped for a symlink = %+v, want its packet before the swap and the run's error", fc)
	}
}

// checkReopenRefused feeds next, whose write reopens a file after symlink
// was planted on its way to victim, and closes the run. It checks that
// victim (what, in the message) still holds victimContent, that the run
// failed refusing to follow symlink, and that only next failed.
func checkReopenRefused(t *testing.T, r *outputRun, next testpcap.Packet, victim, what, symlink string) {
	t.Helper()
	r.feed(next)
	st := r.close()

	if data, err := os.ReadFile(victim); err != nil || string(data) != victimContent {
		t.Errorf("%s changed: %q, %v", what, data, err)
	}
	var se *symlinkError
	if !errors.As(r.err, &se) || se.path != symlink {
		t.Errorf("run error = %v, want a refusal to follow the symlink %q", r.err, symlink)
	}
	checkFailed(t, st, 1) // the packet whose write failed
	checkEventPaths(t, r.out, r.events)
}

// victimContent is what a file outside the output directory, reachable
// through a planted symlink, holds and must keep.
const victimContent = "must not change"

// TestWalkRefusesSymlinks exercises the component walk that replaces
// openat2 where the kernel lacks it: it opens what has no symlink on the
// way and names the first symlink otherwise.
func TestWalkRefusesSymlinks(t *testing.T) {
	base := t.TempDir()
	if err := os.MkdirAll(filepath.Join(base, "a", "b"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(base, "a", "b", "f"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, l := range []struct{ at, to string }{{"link", "a"}, {"a/b/flink", "f"}} {
		if err := os.Symlink(l.to, filepath.Join(base, filepath.FromSlash(l.at))); err != nil {
			t.Fatal(err)
		}
	}
	dirfd, err := unix.Open(base, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(dirfd)
	for _, tc := range []struct {
		rel     string
		symlink string // the symlink the error must name; empty: opens
		invalid bool
	}{
		{rel: "a/b/f"},
		{rel: "a/b"},
		{rel: "link/b/f", symlink: "link"},
		{rel: "a/b/flink", symlink: "a/b/flink"},
		{rel: "link", symlink: "link"},
		{rel: "a/../a/b/f", invalid: true},
	} {
		walkParts := func(dirfd int, base, rel string, flag int, perm uint32) (int, error) {
			parts, err := relParts(rel)
			if err != nil {
				return -1, err
			}
			return walk(dirfd, base, parts, flag, perm)
		}
		for name, open := range map[string]func(int, string, string, int, uint32) (int, error){"walk": walkParts, "openBeneath": openBeneath} {
			fd, err := open(dirfd, base, tc.rel, unix.O_RDONLY, 0)
			var se *symlinkError
			switch {
			case tc.invalid:
				if !errors.Is(err, fs.ErrInvalid) {
					t.Errorf("%s(%q) = %v, want invalid", name, tc.rel, err)
				}
			case tc.symlink != "":
				if want := filepath.Join(base, filepath.FromSlash(tc.symlink)); !errors.As(err, &se) || se.path != want {
					t.Errorf("%s(%q) = %v, want a refusal to follow %q", name, tc.rel, err, want)
				}
			case err != nil:
				t.Errorf("%s(%q): %v", name, tc.rel, err)
			}
			if err == nil {
				unix.Close(fd)
			}
		}
	}
	if _, err := walk(dirfd, base, []string{"a", "missing"}, unix.O_RDONLY, 0); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("walk to a missing file = %v, want not exist", err)
	}
}
