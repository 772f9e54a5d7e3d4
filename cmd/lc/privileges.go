package main

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"strconv"
	"syscall"
)

// account is the user lc switches to with --user.
type account struct {
	name     string
	uid, gid int
}

// lookupAccount resolves --user; "" means no switch. Switching needs root.
func lookupAccount(name string) (*account, error) {
	if name == "" {
		return nil, nil
	}
	u, err := user.Lookup(name)
	if err != nil {
		return nil, fmt.Errorf("user = %q: %w", name, err)
	}
	uid, err1 := strconv.Atoi(u.Uid)
	gid, err2 := strconv.Atoi(u.Gid)
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("user = %q: %w", name, err)
	}
	if os.Geteuid() != 0 {
		return nil, fmt.Errorf("user = %q: switching user needs root (lc runs as uid %d)", name, os.Geteuid())
	}
	return &account{name: name, uid: uid, gid: gid}, nil
}

// become switches the whole process (every thread, as Go does on Linux)
// to the account: supplementary groups, then group, then user. Leaving
// uid 0 clears every capability, so nothing privileged is left after it.
// outDir, when lc created it, is given to the account first so that it
// can write there.
func (a *account) become(outDir string, createdOut bool) error {
	if createdOut {
		if err := os.Chown(outDir, a.uid, a.gid); err != nil {
			return fmt.Errorf("give output directory to %s: %w", a.name, err)
		}
	}
	if err := syscall.Setgroups([]int{a.gid}); err != nil {
		return fmt.Errorf("switch to user %s: setgroups: %w", a.name, err)
	}
	if err := syscall.Setgid(a.gid); err != nil {
		return fmt.Errorf("switch to user %s: setgid: %w", a.name, err)
	}
	if err := syscall.Setuid(a.uid); err != nil {
		return fmt.Errorf("switch to user %s: setuid: %w", a.name, err)
	}
	return nil
}
