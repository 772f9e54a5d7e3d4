//go:build unix

package processor

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// dirHandle is the open output directory: the descriptor every lookup
// beneath it starts from.
type dirHandle struct {
	f  *os.File // owns fd
	fd int
}

// openOutDir makes path and its missing parents, resolves it once (see
// canonicalDir) and opens it. The output directory itself and its parents
// are the operator's choice: they may be reached through symlinks; nothing
// beneath it may.
func openOutDir(path string) (*outDir, error) {
	if err := os.MkdirAll(path, 0o755); err != nil {
		return nil, err
	}
	resolved, err := canonicalDir(path)
	if err != nil {
		return nil, err
	}
	fd, err := retryEINTR(func() (int, error) {
		return unix.Open(resolved, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	})
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: resolved, Err: err}
	}
	return &outDir{path: resolved, h: dirHandle{f: os.NewFile(uintptr(fd), resolved), fd: fd}}, nil
}

// close closes the descriptor.
func (h dirHandle) close() error { return h.f.Close() }

// mkdir makes the directory rel, whose parent must exist. It fails with
// fs.ErrNotExist when the parent does not exist and fs.ErrExist when rel
// names anything, a symlink included.
func (d *outDir) mkdir(rel string) error {
	parent, name := splitRel(rel)
	pfd, err := d.openDir(parent)
	if err != nil {
		return err
	}
	defer unix.Close(pfd)
	return unix.Mkdirat(pfd, name, 0o755)
}

// checkDir fails unless rel is a directory reached without a symlink.
func (d *outDir) checkDir(rel string) error {
	fd, err := d.openDir(rel)
	if err != nil {
		return err
	}
	return unix.Close(fd)
}

// lstat reports whether rel names anything, a symlink included.
func (d *outDir) lstat(rel string) (bool, error) {
	parent, name := splitRel(rel)
	pfd, err := d.openDir(parent)
	if err != nil {
		return false, err
	}
	defer unix.Close(pfd)
	var st unix.Stat_t
	err = unix.Fstatat(pfd, name, &st, unix.AT_SYMLINK_NOFOLLOW)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

// openFile opens the file abs beneath the output directory without
// following a symlink in any component, the file itself included.
func (d *outDir) openFile(abs string, flag int, perm os.FileMode) (*os.File, error) {
	fd, err := d.openFD(abs, flag, perm)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), abs), nil
}

// openFD opens the file abs as openFile does, returning its descriptor.
func (d *outDir) openFD(abs string, flag int, perm os.FileMode) (int, error) {
	rel, err := d.rel(abs)
	if err != nil {
		return -1, err
	}
	return openBeneath(d.h.fd, d.path, rel, flag, uint32(perm.Perm()))
}

// remove removes the file abs, whose directory is reached beneath the
// output directory without following a symlink. A symlink named abs is
// removed itself, never what it points to.
func (d *outDir) remove(abs string) error {
	rel, err := d.rel(abs)
	if err != nil {
		return err
	}
	parent, name := splitRel(rel)
	pfd, err := d.openDir(parent)
	if err != nil {
		return err
	}
	defer unix.Close(pfd)
	if err := unix.Unlinkat(pfd, name, 0); err != nil {
		return &fs.PathError{Op: "remove", Path: abs, Err: err}
	}
	return nil
}

// rename renames the file from to the name to in the same directory,
// reached beneath the output directory without following a symlink. It
// fails when to names anything: nothing is ever replaced.
func (d *outDir) rename(from, to string) error {
	rel, err := d.rel(from)
	if err != nil {
		return err
	}
	parent, name := splitRel(rel)
	if filepath.Dir(to) != filepath.Dir(from) {
		return fmt.Errorf("rename %q to %q: %w", from, to, fs.ErrInvalid)
	}
	pfd, err := d.openDir(parent)
	if err != nil {
		return err
	}
	defer unix.Close(pfd)
	if err := renameNoReplace(pfd, name, filepath.Base(to)); err != nil {
		return &os.LinkError{Op: "rename", Old: from, New: to, Err: err}
	}
	return nil
}

// openDir opens the directory rel beneath the output directory.
func (d *outDir) openDir(rel string) (int, error) {
	return openBeneath(d.h.fd, d.path, rel, unix.O_RDONLY|unix.O_DIRECTORY, 0)
}

// openBeneath opens rel, a slash-separated relative path, beneath the
// directory dirfd (whose path is base) without following a symlink in any
// component. It asks the kernel for that in one call where it can
// (openat2), and walks the components one by one otherwise: when openat2
// is missing or refused (ENOSYS, EPERM from a sandbox), and when it meets
// a symlink (ELOOP, EXDEV, or ENOTDIR for a directory), so that the error
// names the symlink.
func openBeneath(dirfd int, base, rel string, flag int, perm uint32) (int, error) {
	parts, err := relParts(rel)
	if err != nil {
		return -1, err
	}
	fd, err := openat2(dirfd, rel, flag|unix.O_NOFOLLOW|unix.O_CLOEXEC, perm)
	switch err {
	case unix.ENOSYS, unix.EPERM, unix.ELOOP, unix.EXDEV, unix.ENOTDIR:
		return walk(dirfd, base, parts, flag, perm)
	}
	return fd, err
}

// relParts splits rel into its components, refusing empty ones and "..":
// "." alone names the directory itself.
func relParts(rel string) ([]string, error) {
	parts := strings.Split(rel, "/")
	for _, name := range parts {
		if name == "" || name == ".." || (name == "." && len(parts) > 1) {
			return nil, fmt.Errorf("path %q: component %q: %w", rel, name, fs.ErrInvalid)
		}
	}
	return parts, nil
}

// walk opens the path made of parts beneath dirfd one component at a
// time, every directory with O_DIRECTORY|O_NOFOLLOW and the last component
// with flag|O_NOFOLLOW. A symlink on the way fails with a symlinkError
// naming it.
func walk(dirfd int, base string, parts []string, flag int, perm uint32) (int, error) {
	cur := dirfd
	for i, name := range parts {
		fl := unix.O_RDONLY | unix.O_DIRECTORY
		if i == len(parts)-1 {
			fl = flag
		}
		fd, err := retryEINTR(func() (int, error) {
			return unix.Openat(cur, name, fl|unix.O_NOFOLLOW|unix.O_CLOEXEC, perm)
		})
		if err != nil {
			err = symlinkOr(cur, name, filepath.Join(base, filepath.Join(parts[:i+1]...)), err)
		}
		if cur != dirfd {
			unix.Close(cur)
		}
		if err != nil {
			return -1, err
		}
		cur = fd
	}
	return cur, nil
}

// symlinkOr returns a symlinkError naming path when name, in dirfd, is a
// symlink, and err otherwise.
func symlinkOr(dirfd int, name, path string, err error) error {
	var st unix.Stat_t
	if unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW) == nil && st.Mode&unix.S_IFMT == unix.S_IFLNK {
		return &symlinkError{path: path}
	}
	return err
}

// retryEINTR calls open until it is not interrupted by a signal.
func retryEINTR(open func() (int, error)) (int, error) {
	for {
		fd, err := open()
		if err != unix.EINTR {
			return fd, err
		}
	}
}
