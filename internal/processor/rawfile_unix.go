//go:build unix

package processor

import (
	"io/fs"
	"os"

	"golang.org/x/sys/unix"
)

// rawFile is an output file written through its bare descriptor. An
// *os.File costs an fcntl to make and a try at registering the descriptor
// with the runtime's poller, for every one of the thousands of files a run
// opens and reopens, and a regular file gains nothing from the poller.
type rawFile struct {
	fd   int
	name string
}

// openOutput opens the output file abs beneath the output directory, as
// openFile does, as a rawFile.
func (d *outDir) openOutput(abs string, flag int, perm os.FileMode) (fileHandle, error) {
	fd, err := d.openFD(abs, flag, perm)
	if err != nil {
		return nil, err
	}
	return &rawFile{fd: fd, name: abs}, nil
}

// Write writes all of b, as os.File.Write does: a short write is carried
// on until an error stops it.
func (f *rawFile) Write(b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := unix.Write(f.fd, b[n:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return n, &fs.PathError{Op: "write", Path: f.name, Err: err}
		}
		if m == 0 {
			return n, &fs.PathError{Op: "write", Path: f.name, Err: unix.EIO}
		}
		n += m
	}
	return n, nil
}

// Truncate changes the file's size.
func (f *rawFile) Truncate(size int64) error {
	for {
		err := unix.Ftruncate(f.fd, size)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return &fs.PathError{Op: "truncate", Path: f.name, Err: err}
		}
		return nil
	}
}

// Close closes the descriptor. It is not retried on EINTR: on Linux the
// descriptor is gone whatever close returns.
func (f *rawFile) Close() error {
	if err := unix.Close(f.fd); err != nil {
		return &fs.PathError{Op: "close", Path: f.name, Err: err}
	}
	return nil
}
