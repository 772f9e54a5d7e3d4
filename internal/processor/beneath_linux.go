package processor

import (
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
// once, at start: the paths lc then makes and reports contain none.
func canonicalDir(path string) (string, error) {
	return filepath.EvalSymlinks(path)
}

// renameNoReplace renames from to to in the directory dirfd, failing with
// EEXIST when to exists.
func renameNoReplace(dirfd int, from, to string) error {
	return unix.Renameat2(dirfd, from, dirfd, to, unix.RENAME_NOREPLACE)
}
