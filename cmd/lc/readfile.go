package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"

	"github.com/lc-voip/lc/internal/units"
)

// Largest files lc reads whole at start-up or reload.
const (
	maxConfigFile = 1 << 20  // --config
	maxScriptFile = 16 << 20 // --hook-script
)

// readSmallFile reads the regular file at path, of at most limit bytes.
// Devices, FIFOs, sockets and directories are refused without reading
// them (a FIFO is opened without waiting for a writer), and so is a file
// larger than limit, so a mistaken path cannot block lc or exhaust its
// memory before it has started.
func readSmallFile(path string, limit int64) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file (%s)", path, fileKind(fi.Mode()))
	}
	if fi.Size() > limit {
		return nil, fmt.Errorf("%s: %s, larger than the %s lc reads", path, units.Bytes(fi.Size()), units.Bytes(limit))
	}
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, errors.New(path + ": grew past " + units.Bytes(limit) + " while being read")
	}
	return b, nil
}

// fileKind names a file type that is not a regular file.
func fileKind(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&os.ModeNamedPipe != 0:
		return "a FIFO"
	case m&os.ModeSocket != 0:
		return "a socket"
	case m&os.ModeDevice != 0:
		return "a device"
	}
	return m.Type().String()
}
