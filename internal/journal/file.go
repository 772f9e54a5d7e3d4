package journal

import (
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// segmentFile is an open segment file, as the Journal writes it. Tests
// put failing files in its place.
type segmentFile interface {
	// WriteAt writes all of p at off, or returns an error; it may have
	// written part of p then.
	WriteAt(p []byte, off int64) (int, error)
	// ReadAt reads len(p) bytes at off, as io.ReaderAt does: Data reads
	// the records of the current segment back through it.
	ReadAt(p []byte, off int64) (int, error)
	Truncate(size int64) error
	Sync() error // fdatasync where the system has it
	Close() error
}

// osFile is a segmentFile on the file system.
type osFile struct{ *os.File }

// Sync flushes the file's data, and the metadata needed to read it, to
// stable storage.
func (f osFile) Sync() error { return fdatasync(f.File) }

// env is what a Journal takes from the system, for tests to replace.
type env struct {
	now    func() time.Time
	after  func(time.Duration) <-chan time.Time
	create func(path string) (segmentFile, error) // a new segment file
	open   func(path string) (segmentFile, error) // a segment file, to append to or seal
	// syncDir makes the entries of directory dir durable.
	syncDir func(dir string) error
	synced  func() // called after each round of the syncer
}

// systemEnv is the env of Open.
func systemEnv() env {
	return env{
		now:     time.Now,
		after:   time.After,
		create:  createFile,
		open:    openFile,
		syncDir: syncDir,
		synced:  func() {},
	}
}

// createFile creates a new segment file for writing and reading back.
func createFile(path string) (segmentFile, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	return osFile{f}, nil
}

// openFile opens an existing segment file for writing and reading back.
func openFile(path string) (segmentFile, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	return osFile{f}, nil
}

// syncDir makes the creation, renaming and removal of dir's entries
// durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync journal directory: %w", err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sync journal directory %q: %w", dir, err)
	}
	return nil
}

// segmentPath is the path of segment n in dir.
func segmentPath(dir string, n uint64) string { return filepath.Join(dir, segmentName(n)) }
