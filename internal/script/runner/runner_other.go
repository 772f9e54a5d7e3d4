//go:build unix && !linux

package runner

import "syscall"

// closeOnExecInherited does nothing outside Linux: descriptors lc inherited
// without close-on-exec are passed on to hooks there.
func closeOnExecInherited() {}

// groupHasLiveMember assumes a group whose processes are all zombies is
// alive outside Linux, so the caller escalates to SIGKILL, which is
// harmless to zombies.
func groupHasLiveMember(pgid int) bool { return true }

// processAttr puts a child in a process group of its own.
func processAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }
