package main

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// dropCapabilities empties the capability sets of every thread when lc
// runs as a user other than root with capabilities (CAP_NET_RAW given by
// systemd's AmbientCapabilities, say): once the capture sockets are open,
// neither lc nor its hooks keep any. Root is left alone; --user is the
// way out of root. Go can change every thread's capabilities only when
// the binary is built without cgo; otherwise this is an error that the
// caller logs.
func dropCapabilities() (dropped bool, err error) {
	if os.Geteuid() == 0 {
		return false, nil
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var have [2]unix.CapUserData
	if err := unix.Capget(&hdr, &have[0]); err != nil {
		return false, fmt.Errorf("reading capabilities: %w", err)
	}
	if have == [2]unix.CapUserData{} {
		return false, nil
	}
	var none [2]unix.CapUserData
	_, _, errno := syscall.AllThreadsSyscall(unix.SYS_CAPSET, uintptr(unsafe.Pointer(&hdr)), uintptr(unsafe.Pointer(&none[0])), 0)
	switch errno {
	case 0:
		return true, nil
	case syscall.ENOTSUP:
		return false, errors.New("capabilities kept: this lc binary was built with cgo, which keeps Go from changing every thread; build it with CGO_ENABLED=0")
	}
	return false, fmt.Errorf("dropping capabilities: %w", errno)
}
