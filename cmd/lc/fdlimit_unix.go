//go:build unix

package main

import (
	"fmt"
	"syscall"
)

// fdReserve is how many descriptors lc needs besides its output files and
// inputs: standard streams, the events file, the metrics listener and its
// connections, the runtime's own.
const fdReserve = 32

// fdsPerHook is how many descriptors one running hook command holds in lc
// (its stdout and stderr pipes, and what starting it takes).
const fdsPerHook = 4

// checkFileLimit reports a configuration that needs more file descriptors
// than the process may open (RLIMIT_NOFILE, raised to its hard limit by
// the Go runtime at start-up), so that it fails before reading a packet
// rather than in the middle of a run.
func checkFileLimit(maxOpenFiles, inputs, concurrency int) error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return nil // nothing to compare with
	}
	need := uint64(maxOpenFiles + inputs + fdReserve + fdsPerHook*concurrency)
	if lim.Cur >= need {
		return nil
	}
	return &flagError{Flag: "max-open-files", Value: fmt.Sprint(maxOpenFiles),
		Reason: fmt.Sprintf("with %d inputs and %d hooks at once lc needs about %d file descriptors, but may open %d (ulimit -n): lower it or raise the limit",
			inputs, concurrency, need, lim.Cur)}
}
