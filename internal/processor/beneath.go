package processor

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// outDir is the output directory, opened once by New. Every directory lc
// makes and every name it looks up there is resolved beneath it, component
// by component, without following a symlink: a symlink planted inside the
// output tree is an output failure, never a way out of it.
//
// Its methods take and return absolute paths under path, the form events
// report; the platform files implement the resolution (mkdir, lstat,
// checkDir, openFile, remove), the handle's close and openOutDir.
type outDir struct {
	path string // absolute path of the output directory
	h    dirHandle
}

// symlinkError reports a symlink found where lc expects a directory or a
// file of its own.
type symlinkError struct {
	path string
}

// Error implements error.
func (e *symlinkError) Error() string {
	return fmt.Sprintf("refusing to follow symlink %q", e.path)
}

// rel returns abs relative to the output directory, slash-separated, and
// fails when abs is not beneath it or names it.
func (d *outDir) rel(abs string) (string, error) {
	r, err := filepath.Rel(d.path, abs)
	if err != nil || r == "." || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) || filepath.IsAbs(r) {
		return "", fmt.Errorf("path %q is not beneath the output directory %q", abs, d.path)
	}
	return filepath.ToSlash(r), nil
}

// abs returns the absolute path of rel, a slash-separated path beneath the
// output directory.
func (d *outDir) abs(rel string) string {
	return filepath.Join(d.path, filepath.FromSlash(rel))
}

// mkdirAll makes the directory abs and its missing parents beneath the
// output directory. Each of them that already exists must be a directory,
// not a symlink to one.
func (d *outDir) mkdirAll(abs string) error {
	rel, err := d.rel(abs)
	if err != nil {
		return err
	}
	if err := d.mkdirAllRel(rel); err != nil {
		return fmt.Errorf("make directory %q: %w", abs, err)
	}
	return nil
}

// mkdirAllRel is mkdirAll on a path relative to the output directory.
func (d *outDir) mkdirAllRel(rel string) error {
	parent, err := d.mkdirWithParents(rel)
	if parent == "" && errors.Is(err, fs.ErrExist) {
		return d.checkDir(rel)
	}
	return err
}

// mkdirWithParents makes the directory rel; when its parent does not
// exist, it makes the missing parents (mkdirAllRel) and tries again. When
// making a parent fails, it returns that parent with the error; the
// error is rel's own otherwise.
func (d *outDir) mkdirWithParents(rel string) (failedParent string, err error) {
	err = d.mkdir(rel)
	if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	if parent, _ := splitRel(rel); parent != "." {
		if err := d.mkdirAllRel(parent); err != nil {
			return parent, err
		}
	}
	return "", d.mkdir(rel)
}

// mkdirUnique makes the directory abs, or abs_N for the smallest N >= 1
// that does not exist yet, with any missing parents, and returns its path.
// A name taken by anything, a symlink included, is skipped, never entered.
func (d *outDir) mkdirUnique(abs string) (string, error) {
	base, err := d.rel(abs)
	if err != nil {
		return "", err
	}
	rel := base
	for n := 1; ; n++ {
		parent, err := d.mkdirWithParents(rel)
		switch {
		case parent != "":
			return "", fmt.Errorf("make directory %q: %w", d.abs(parent), err)
		case err == nil:
			return d.abs(rel), nil
		case !errors.Is(err, fs.ErrExist):
			return "", fmt.Errorf("make directory %q: %w", d.abs(rel), err)
		}
		rel = fmt.Sprintf("%s_%d", base, n)
	}
}

// uniquePath returns base+ext, or base_N+ext for the smallest N >= 1 that
// names nothing yet beneath the output directory, nor does with one of
// the suffixes of compressed copies added (a file compressed and removed
// still takes its name); base is absolute.
func (d *outDir) uniquePath(base, ext string) (string, error) {
	rel, err := d.rel(base + ext)
	if err != nil {
		return "", err
	}
	for n := 1; ; n++ {
		taken, err := d.takenRel(rel)
		if err != nil {
			return "", fmt.Errorf("look up %q: %w", d.abs(rel), err)
		}
		if !taken {
			return d.abs(rel), nil
		}
		if rel, err = d.rel(fmt.Sprintf("%s_%d%s", base, n, ext)); err != nil {
			return "", err
		}
	}
}

// takenRel reports whether rel, or its compressed copy, names anything.
func (d *outDir) takenRel(rel string) (bool, error) {
	for _, suffix := range []string{"", compressedExt[CompressGzip], compressedExt[CompressZstd]} {
		if taken, err := d.lstat(rel + suffix); taken || err != nil {
			return taken, err
		}
	}
	return false, nil
}

// close releases the output directory; closing twice is not an error.
func (d *outDir) close() error {
	if err := d.h.close(); !errors.Is(err, os.ErrClosed) {
		return err
	}
	return nil
}

// splitRel splits a slash-separated relative path into its parent ("."
// for a single component) and its last component.
func splitRel(rel string) (parent, name string) {
	i := strings.LastIndexByte(rel, '/')
	if i < 0 {
		return ".", rel
	}
	return rel[:i], rel[i+1:]
}
