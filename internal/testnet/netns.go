//go:build linux

package testnet

import (
	"fmt"
	"path/filepath"
	"runtime"

	"golang.org/x/sys/unix"
)

// netnsDir is where "ip netns add" bind-mounts the namespaces it names.
const netnsDir = "/run/netns"

// Do runs fn on a new goroutine whose OS thread has joined namespace i (0
// or 1), waits for it and returns its error, or the error of joining.
//
// The goroutine locks its thread and never unlocks it, so when fn returns
// the Go runtime ends the thread instead of handing it, still inside the
// namespace, to other goroutines. Sockets opened by fn stay in namespace i
// for their whole life and may be used from any goroutine afterwards.
// Goroutines that fn starts do not inherit the namespace, and neither do
// blocking calls that the runtime hands to another thread, such as name
// resolution through cgo.
func (p *Pair) Do(i int, fn func() error) error {
	path := filepath.Join(netnsDir, p.NS[i])
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// No UnlockOSThread: see above.
		if err := enterNetns(path); err != nil {
			errc <- err
			return
		}
		errc <- fn()
	}()
	return <-errc
}

// enterNetns moves the calling thread into the network namespace
// bind-mounted at path.
func enterNetns(path string) error {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open namespace %q: %w", path, err)
	}
	defer unix.Close(fd)
	if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
		return fmt.Errorf("join namespace %q: %w", path, err)
	}
	return nil
}
