package processor

import (
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// openat2 opens path beneath dirfd with RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS:
// the kernel refuses any symlink and any way out of dirfd.
func openat2(dirfd int, path string, flag int, perm uint32) (int, error) {
	how := unix.OpenHow{
		Flags:   uint64(flag),
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS,
	}
	if flag&unix.O_CREAT != 0 {
		how.Mode = uint64(perm) // openat2 refuses a mode without O_CREAT
	}
	return retryEINTR(func() (int, error) { return unix.Openat2(dirfd, path, &how) })
}

// canonicalDir resolves the symlinks of the output directory's own path
// once, at start: the paths lc then makes and reports contain none, so the
// pcap files can be opened without following any symlink from the root of
// the file system (openFileNoSymlinks).
func canonicalDir(path string) (string, error) {
	return filepath.EvalSymlinks(path)
}

// openFileNoSymlinks opens the file at the absolute path without following
// a symlink in any of its components, reopens included: a directory or a
// file of the output tree swapped for a symlink fails with a symlinkError
// instead of sending the write elsewhere.
func openFileNoSymlinks(path string, flag int, perm os.FileMode) (*os.File, error) {
	if !filepath.IsAbs(path) {
		return nil, fmt.Errorf("path %q is not absolute", path)
	}
	root, err := retryEINTR(func() (int, error) {
		return unix.Open("/", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	})
	if err != nil {
		return nil, err
	}
	defer unix.Close(root)
	rel := filepath.Clean(path)[1:]
	fd, err := openBeneath(root, "/", rel, flag, uint32(perm.Perm()))
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), path), nil
}
