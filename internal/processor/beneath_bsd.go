//go:build unix && !linux

package processor

import "golang.org/x/sys/unix"

// openat2 is Linux only: elsewhere openBeneath walks the components.
func openat2(int, string, int, uint32) (int, error) { return -1, unix.ENOSYS }

// canonicalDir keeps the output directory's path as given: it may pass
// through the symlinks of the system's own directories (/var, /tmp), and
// nothing is opened by that path but the output directory itself.
func canonicalDir(path string) (string, error) { return path, nil }

// renameNoReplace renames from to to in the directory dirfd, failing with
// EEXIST when to exists: a hard link, which never replaces, then the
// removal of the old name.
func renameNoReplace(dirfd int, from, to string) error {
	if err := unix.Linkat(dirfd, from, dirfd, to, 0); err != nil {
		return err
	}
	return unix.Unlinkat(dirfd, from, 0)
}
