//go:build unix && !linux

package processor

import (
	"errors"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// openat2 is Linux only: elsewhere openBeneath walks the components.
func openat2(int, string, int, uint32) (int, error) { return -1, unix.ENOSYS }

// canonicalDir keeps the output directory's path as given: the pcap files
// are opened by their full path (openFileNoSymlinks), which may pass
// through the symlinks of the system's own directories (/var, /tmp).
func canonicalDir(path string) (string, error) { return path, nil }

// openFileNoSymlinks opens the file at path without following a symlink
// in its last component. The directories on the way were made, and are
// checked when made, beneath the output directory without following
// symlinks; unlike on Linux, a directory swapped for a symlink afterwards
// is not detected here.
func openFileNoSymlinks(path string, flag int, perm os.FileMode) (*os.File, error) {
	f, err := os.OpenFile(path, flag|syscall.O_NOFOLLOW, perm)
	if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.EMLINK) {
		if fi, lerr := os.Lstat(path); lerr == nil && fi.Mode()&os.ModeSymlink != 0 {
			return nil, &symlinkError{path: path}
		}
	}
	return f, err
}
