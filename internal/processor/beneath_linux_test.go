package processor

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/lc-voip/lc/internal/testpcap"
	"golang.org/x/sys/unix"
)

// TestReopenRefusesSymlinkedDirectory swaps the directory of an evicted
// file for a symlink to a directory outside holding a file of the same
// name: the reopen fails and that file is unchanged.
func TestReopenRefusesSymlinkedDirectory(t *testing.T) {
	r := startRun(t, t.TempDir(), func(c *Config) { c.MaxOpenFiles = 2 })
	open, next, first := evictionTraffic()
	r.feed(open...)
	if r.err != nil {
		t.Fatal(r.err)
	}
	sipFile := sipFileOf(t, r, first)
	callDir := filepath.Dir(sipFile)
	elsewhere := t.TempDir()
	victim := filepath.Join(elsewhere, filepath.Base(sipFile))
	if err := os.WriteFile(victim, []byte(victimContent), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(callDir, callDir+".moved"); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(elsewhere, callDir); err != nil {
		t.Fatal(err)
	}
	checkReopenRefused(t, r, next, victim, "the file behind the symlink", callDir)
}

// TestOpenat2RefusesSymlinks checks that the kernel, when it has openat2,
// is asked to refuse symlinks and ways out: lookups fail there before the
// walk names the symlink.
func TestOpenat2RefusesSymlinks(t *testing.T) {
	base := t.TempDir()
	if err := os.Mkdir(filepath.Join(base, "a"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("a", filepath.Join(base, "link")); err != nil {
		t.Fatal(err)
	}
	dirfd, err := unix.Open(base, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(dirfd)
	fd, err := openat2(dirfd, "a", unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if errors.Is(err, unix.ENOSYS) {
		t.Skip("no openat2 in this kernel: the walk is tested by TestWalkRefusesSymlinks")
	}
	if err != nil {
		t.Fatal(err)
	}
	unix.Close(fd)
	for rel, want := range map[string]error{"link": unix.ELOOP, "../" + filepath.Base(base): unix.EXDEV} {
		if fd, err := openat2(dirfd, rel, unix.O_RDONLY, 0); !errors.Is(err, want) {
			if err == nil {
				unix.Close(fd)
			}
			t.Errorf("openat2(%q) = %v, want %v", rel, err, want)
		}
	}
}

// TestOutputDirThroughSymlink gives the output directory through a
// symlink, the operator's choice: lc resolves it once and writes and
// reports beneath the directory it names.
func TestOutputDirThroughSymlink(t *testing.T) {
	dir := t.TempDir()
	link := filepath.Join(t.TempDir(), "out")
	if err := os.Symlink(dir, link); err != nil {
		t.Fatal(err)
	}
	r := startRun(t, link, nil)
	tl := &testpcap.Timeline{Now: t0}
	tl.BasicCall(testpcap.NewDialog(1), 2)
	r.feed(tl.Pkts...)
	st := r.close()
	if r.err != nil {
		t.Fatal(r.err)
	}
	want, err := filepath.EvalSymlinks(dir)
	if err != nil {
		t.Fatal(err)
	}
	if r.out != want {
		t.Errorf("output directory %q, want %q", r.out, want)
	}
	checkEventPaths(t, r.out, r.events)
	checkAccounting(t, r.out, tl.Pkts, st)
}
