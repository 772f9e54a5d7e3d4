//go:build !unix

package processor

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// dirHandle is the open output directory. os.Root keeps every lookup
// inside it; the symlinks it would follow inside are refused by checking
// each component first, which is racy: the Unix files do it with
// descriptors.
type dirHandle struct {
	root *os.Root
}

// openOutDir makes path and its missing parents and opens it.
func openOutDir(p string) (*outDir, error) {
	if err := os.MkdirAll(p, 0o755); err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(p)
	if err != nil {
		return nil, err
	}
	return &outDir{path: p, h: dirHandle{root: root}}, nil
}

// close closes the root.
func (h dirHandle) close() error { return h.root.Close() }

// mkdir makes the directory rel, whose parent must exist.
func (d *outDir) mkdir(rel string) error {
	parent, _ := splitRel(rel)
	if err := d.noSymlinks(parent); err != nil {
		return err
	}
	return d.h.root.Mkdir(filepath.FromSlash(rel), 0o755)
}

// checkDir fails unless rel is a directory reached without a symlink.
func (d *outDir) checkDir(rel string) error {
	if err := d.noSymlinks(rel); err != nil {
		return err
	}
	fi, err := d.h.root.Lstat(filepath.FromSlash(rel))
	if err == nil && !fi.IsDir() {
		err = &fs.PathError{Op: "mkdir", Path: d.abs(rel), Err: errors.New("not a directory")}
	}
	return err
}

// lstat reports whether rel names anything, a symlink included.
func (d *outDir) lstat(rel string) (bool, error) {
	parent, _ := splitRel(rel)
	if err := d.noSymlinks(parent); err != nil {
		return false, err
	}
	_, err := d.h.root.Lstat(filepath.FromSlash(rel))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

// noSymlinks fails with a symlinkError when a component of rel is a
// symlink; components that do not exist are left to the caller.
func (d *outDir) noSymlinks(rel string) error {
	if rel == "." {
		return nil
	}
	parts := strings.Split(rel, "/")
	for i := range parts {
		sub := path.Join(parts[:i+1]...)
		fi, err := d.h.root.Lstat(filepath.FromSlash(sub))
		if err != nil {
			return nil
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			return &symlinkError{path: d.abs(sub)}
		}
	}
	return nil
}

// openFile opens the file abs beneath the output directory after checking
// that none of its components is a symlink.
func (d *outDir) openFile(abs string, flag int, perm os.FileMode) (*os.File, error) {
	rel, err := d.rel(abs)
	if err != nil {
		return nil, err
	}
	if err := d.noSymlinks(rel); err != nil {
		return nil, err
	}
	return d.h.root.OpenFile(filepath.FromSlash(rel), flag, perm)
}

// remove removes the file abs after checking that no directory on its way
// beneath the output directory is a symlink.
func (d *outDir) remove(abs string) error {
	rel, err := d.rel(abs)
	if err != nil {
		return err
	}
	parent, _ := splitRel(rel)
	if err := d.noSymlinks(parent); err != nil {
		return err
	}
	return d.h.root.Remove(filepath.FromSlash(rel))
}

// rename renames the file from to the name to in the same directory,
// after checking that no directory on its way is a symlink.
func (d *outDir) rename(from, to string) error {
	rel, err := d.rel(from)
	if err != nil {
		return err
	}
	parent, _ := splitRel(rel)
	if err := d.noSymlinks(parent); err != nil {
		return err
	}
	return d.h.root.Rename(filepath.FromSlash(rel), filepath.Join(filepath.FromSlash(parent), filepath.Base(to)))
}

// openOutput opens the output file abs as openFile does.
func (d *outDir) openOutput(abs string, flag int, perm os.FileMode) (fileHandle, error) {
	return d.openFile(abs, flag, perm)
}
