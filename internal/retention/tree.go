package retention

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"golang.org/x/sys/unix"
)

// maxUnitDepth bounds how deep removal and measuring go inside a unit.
const maxUnitDepth = 16

// errTooDeep is the error of a unit nested deeper than maxUnitDepth.
var errTooDeep = errors.New("nested too deep")

// tree is the open root of the output tree. Every lookup starts from its
// descriptor and opens one component at a time with O_NOFOLLOW, so no
// symlink is followed and nothing outside the root is reached.
type tree struct {
	f    *os.File // owns fd
	fd   int
	path string
}

// openTree opens the directory path; path itself may be reached through
// symlinks (the operator's choice), nothing beneath it is.
func openTree(path string) (*tree, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("retention: open output directory: %w", err)
	}
	if fi, err := f.Stat(); err != nil || !fi.IsDir() {
		f.Close()
		return nil, fmt.Errorf("retention: %s is not a directory", path)
	}
	return &tree{f: f, fd: int(f.Fd()), path: path}, nil
}

func (t *tree) close() error { return t.f.Close() }

// abs is the path of the unit for people.
func (t *tree) abs(u unitPath) string { return filepath.Join(t.path, filepath.FromSlash(u.String())) }

// dirs opens the directories of parts one inside the other, from the
// root, and returns their descriptors; the caller closes them (closeAll).
// It fails on anything but a directory, a symlink included.
func (t *tree) dirs(parts []string) ([]int, error) {
	fds := make([]int, 0, len(parts))
	at := t.fd
	for _, p := range parts {
		fd, err := openDirAt(at, p)
		if err != nil {
			closeAll(fds)
			return nil, err
		}
		fds = append(fds, fd)
		at = fd
	}
	return fds, nil
}

func closeAll(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}

// openDirAt opens the directory name in dirfd without following a
// symlink.
func openDirAt(dirfd int, name string) (int, error) {
	for {
		fd, err := unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err == unix.EINTR {
			continue
		}
		if err == unix.ELOOP || err == unix.ENOTDIR {
			err = fmt.Errorf("%w (a symlink or not a directory)", unix.ENOTDIR)
		}
		return fd, err
	}
}

// names lists the entries of the directory dirfd, sorted. dirfd stays
// open: names reads a duplicate.
func names(dirfd int) ([]string, error) {
	dup, err := unix.Openat(dirfd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(dup), ".")
	defer f.Close()
	list, err := f.Readdirnames(-1)
	slices.Sort(list)
	return list, err
}

// lstatAt is fstatat without following a symlink.
func lstatAt(dirfd int, name string) (unix.Stat_t, error) {
	var st unix.Stat_t
	err := unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW)
	return st, err
}

func isDir(st unix.Stat_t) bool  { return st.Mode&unix.S_IFMT == unix.S_IFDIR }
func isFile(st unix.Stat_t) bool { return st.Mode&unix.S_IFMT == unix.S_IFREG }

// measure returns the bytes of the unit u (its files' sizes, a
// directory's summed) and its modification time. A unit that is neither
// a directory nor a regular file (a symlink) is an error.
func (t *tree) measure(u unitPath) (int64, time.Time, error) {
	fds, err := t.dirs(u.parts[:len(u.parts)-1])
	if err != nil {
		return 0, time.Time{}, err
	}
	defer closeAll(fds)
	parent := fds[len(fds)-1]
	st, err := lstatAt(parent, u.name())
	if err != nil {
		return 0, time.Time{}, err
	}
	mtime := time.Unix(st.Mtim.Unix())
	switch {
	case isFile(st):
		return st.Size, mtime, nil
	case isDir(st):
		size, err := sizeAt(parent, u.name(), 0)
		return size, mtime, err
	}
	return 0, time.Time{}, fmt.Errorf("not a directory nor a regular file")
}

// sizeAt sums the sizes of the regular files in the directory name of
// dirfd, and in its directories.
func sizeAt(dirfd int, name string, depth int) (int64, error) {
	if depth > maxUnitDepth {
		return 0, errTooDeep
	}
	fd, err := openDirAt(dirfd, name)
	if err != nil {
		return 0, err
	}
	defer unix.Close(fd)
	list, err := names(fd)
	if err != nil {
		return 0, err
	}
	var size int64
	for _, n := range list {
		st, err := lstatAt(fd, n)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return size, err
		case isFile(st):
			size += st.Size
		case isDir(st):
			sub, err := sizeAt(fd, n, depth+1)
			size += sub
			if err != nil {
				return size, err
			}
		}
	}
	return size, nil
}

// remove removes the unit u and everything in it. A symlink in it is
// removed, never followed.
func (t *tree) remove(u unitPath) error {
	fds, err := t.dirs(u.parts[:len(u.parts)-1])
	if err != nil {
		return err
	}
	defer closeAll(fds)
	return removeAt(fds[len(fds)-1], u.name(), 0)
}

// removeAt removes name from the directory dirfd, and first, when it is a
// directory, everything in it.
func removeAt(dirfd int, name string, depth int) error {
	st, err := lstatAt(dirfd, name)
	if err != nil {
		return err
	}
	if !isDir(st) {
		return unix.Unlinkat(dirfd, name, 0)
	}
	if depth > maxUnitDepth {
		return errTooDeep
	}
	fd, err := openDirAt(dirfd, name)
	if err != nil {
		return err
	}
	list, err := names(fd)
	for _, n := range list {
		if err != nil {
			break
		}
		if err = removeAt(fd, n, depth+1); errors.Is(err, fs.ErrNotExist) {
			err = nil
		}
	}
	unix.Close(fd)
	if err != nil {
		return err
	}
	return unix.Unlinkat(dirfd, name, unix.AT_REMOVEDIR)
}

// removeEmpty removes, deepest first, the dated directories of dirs (a
// kind's directory, then one per level) that are empty and that keep
// reports false for (given their names from the first level down). It
// stops at the first that is not empty, or that it keeps: then kept is
// that one's path (dirs cut after it). It returns the paths it removed,
// relative to the root.
func (t *tree) removeEmpty(dirs []string, keep func(levels []string) bool) (removed, kept []string, err error) {
	fds, err := t.dirs(dirs[:len(dirs)-1])
	if err != nil {
		return nil, nil, err
	}
	defer closeAll(fds)
	for i := len(dirs) - 1; i >= 1; i-- {
		if keep(dirs[1 : i+1]) {
			return removed, dirs[:i+1], nil
		}
		err := unix.Unlinkat(fds[i-1], dirs[i], unix.AT_REMOVEDIR)
		switch {
		case err == unix.ENOTEMPTY || err == unix.EEXIST:
			return removed, nil, nil
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return removed, nil, err
		default:
			removed = append(removed, filepath.Join(dirs[:i+1]...))
		}
	}
	return removed, nil, nil
}

// listing is what list finds of a kind.
type listing struct {
	units []unitPath
	empty [][]string // dated directories that hold nothing: the kind's directory, then one per level
}

// list returns the units of kind k on disk: the entries, directories or
// regular files whose names start as a unit's does, reached through
// dated directories whose names parse, without following a symlink; and
// the dated directories that are empty.
func (t *tree) list(k Kind, kind int, loc *time.Location) (listing, error) {
	var found listing
	fd, err := openDirAt(t.fd, k.Name)
	if errors.Is(err, fs.ErrNotExist) {
		return found, nil
	}
	if err != nil {
		return found, err
	}
	defer unix.Close(fd)
	err = listLevel(fd, k, kind, []string{k.Name}, loc, &found)
	return found, err
}

// listLevel adds to found what the directory dirfd, whose path is parts,
// holds of kind k.
func listLevel(dirfd int, k Kind, kind int, parts []string, loc *time.Location, found *listing) error {
	list, err := names(dirfd)
	if err != nil {
		return err
	}
	level := len(parts) - 1
	if len(list) == 0 && level > 0 {
		found.empty = append(found.empty, parts)
	}
	for _, n := range list {
		st, err := lstatAt(dirfd, n)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		path := append(slices.Clip(parts), n)
		if level == len(k.Levels) {
			if (isDir(st) || isFile(st)) && k.isUnitName(n, loc) {
				found.units = append(found.units, unitPath{kind: kind, parts: path})
			}
			continue
		}
		if !isDir(st) || !k.isLevel(level, n, loc) {
			continue
		}
		fd, err := openDirAt(dirfd, n)
		if err != nil {
			continue // replaced by a symlink since: not the kind's
		}
		err = listLevel(fd, k, kind, path, loc, found)
		unix.Close(fd)
		if err != nil {
			return err
		}
	}
	return nil
}

// usage returns the size of the root's filesystem and the bytes in use.
func (t *tree) usage() (total, used int64, err error) {
	var st unix.Statfs_t
	if err := unix.Fstatfs(t.fd, &st); err != nil {
		return 0, 0, fmt.Errorf("retention: statfs %s: %w", t.path, err)
	}
	bsize := int64(st.Bsize)
	return int64(st.Blocks) * bsize, int64(st.Blocks-st.Bfree) * bsize, nil
}
