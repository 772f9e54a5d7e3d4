package runner

import (
	"bytes"
	"os"
	"strconv"
	"syscall"
)

// close_range(2) and its flag that marks descriptors close-on-exec instead
// of closing them (Linux 5.11). The number is the same on every
// architecture Go supports.
const (
	sysCloseRange     = 436
	closeRangeCloexec = 1 << 2
)

// closeOnExecInherited marks every descriptor of lc above 2 close-on-exec.
// Go opens its own descriptors that way already; this catches those lc
// inherited from its parent without the flag, which would otherwise reach
// every hook. It changes no descriptor lc uses, only what a child gets.
func closeOnExecInherited() {
	_, _, errno := syscall.Syscall(sysCloseRange, 3, uintptr(^uint32(0)), closeRangeCloexec)
	if errno == 0 {
		return
	}
	// An older kernel, or a seccomp filter that refuses close_range.
	closeOnExecListed()
}

// closeOnExecListed marks close-on-exec every descriptor above 2 that
// /proc/self/fd lists.
func closeOnExecListed() {
	dir, err := os.Open("/proc/self/fd")
	if err != nil {
		return
	}
	defer dir.Close()
	names, _ := dir.Readdirnames(-1)
	for _, name := range names {
		if fd, err := strconv.Atoi(name); err == nil && fd > 2 {
			syscall.CloseOnExec(fd)
		}
	}
}

// groupHasLiveMember reports whether /proc lists a process of the group
// pgid that is not a zombie. When /proc cannot be read it assumes there is
// one, so the caller escalates rather than leaving a process behind.
func groupHasLiveMember(pgid int) bool {
	dir, err := os.Open("/proc")
	if err != nil {
		return true
	}
	defer dir.Close()
	names, err := dir.Readdirnames(-1)
	if err != nil {
		return true
	}
	want := []byte(strconv.Itoa(pgid))
	for _, name := range names {
		if name[0] < '0' || name[0] > '9' {
			continue
		}
		stat, err := os.ReadFile("/proc/" + name + "/stat")
		if err != nil {
			continue // exited meanwhile
		}
		// "pid (comm) state ppid pgrp ...", where comm may hold anything.
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		f := bytes.Fields(stat[i+1:])
		if len(f) < 3 || !bytes.Equal(f[2], want) {
			continue
		}
		if state := f[0][0]; state != 'Z' && state != 'X' {
			return true
		}
	}
	return false
}

// processAttr puts a child in a process group of its own and has the
// kernel kill it when lc dies (a kill -9, a crash): a hook that was
// running then runs again when lc restarts (from its journal), and must
// not go on beside its rerun. Processes the child started are not
// reached: they belong to its group, which lc can no longer signal.
func processAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
