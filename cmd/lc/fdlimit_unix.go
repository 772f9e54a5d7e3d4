//go:build unix

package main

import (
	"fmt"
	"syscall"

	"github.com/lc-voip/lc/internal/processor"
)

// fdReserve is how many descriptors lc needs besides its output files and
// inputs: standard streams, the events file, the metrics listener and its
// connections, the runtime's own.
const fdReserve = 32

// fdsPerHook is how many descriptors one running hook command holds in lc
// (its stdout and stderr pipes, and what starting it takes).
const fdsPerHook = 4

// maxAutoOpenFiles caps the default open-file budget: each open file
// holds a write buffer of 32 KiB, so 4,096 of them hold 128 MiB.
const maxAutoOpenFiles = 4096

// autoOpenFiles is the --max-open-files default: the descriptors that
// RLIMIT_NOFILE leaves once the inputs, the running hooks and lc's own are
// counted, at most maxAutoOpenFiles. Under a limit too low for even two
// files it returns two, and checkFileLimit says why that fails.
func autoOpenFiles(inputs, concurrency int) int {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return processor.DefaultMaxOpenFiles
	}
	spare := int64(min(lim.Cur, 1<<30)) - int64(fdsBesideFiles(inputs, concurrency))
	return int(min(max(spare, 2), maxAutoOpenFiles))
}

// fdsBesideFiles is how many descriptors lc needs besides its output
// files: its inputs, its running hooks and its own.
func fdsBesideFiles(inputs, concurrency int) int {
	return inputs + fdReserve + fdsPerHook*concurrency
}

// checkFileLimit reports a configuration that needs more file descriptors
// than the process may open (RLIMIT_NOFILE, raised to its hard limit by
// the Go runtime at start-up), so that it fails before reading a packet
// rather than in the middle of a run.
func checkFileLimit(maxOpenFiles, inputs, concurrency int) error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return nil // nothing to compare with
	}
	need := uint64(maxOpenFiles + fdsBesideFiles(inputs, concurrency))
	if lim.Cur >= need {
		return nil
	}
	return &flagError{Flag: "max-open-files", Value: fmt.Sprint(maxOpenFiles),
		Reason: fmt.Sprintf("with %d inputs and %d hooks at once lc needs about %d file descriptors, but may open %d (ulimit -n): lower it or raise the limit",
			inputs, concurrency, need, lim.Cur)}
}
