package journal

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// setAsideTries bounds the names setAside tries for one journal.
const setAsideTries = 1000

// setAside renames the unreadable journal dir, whose lock is held, to
// "<dir>.unreadable-<UTC time>" (with "-2", "-3"... when that is taken),
// creates dir again, empty, and locks it. It returns the new name and the
// new lock; the old lock is closed. With sync, the rename is synced.
func setAside(dir string, lock *os.File, now time.Time, sync func(dir string) error) (string, *os.File, error) {
	aside, err := reserveName(dir + ".unreadable-" + now.UTC().Format("20060102T150405Z"))
	if err != nil {
		lock.Close()
		return "", nil, err
	}
	// aside is an empty directory that we made: rename(2) replaces it,
	// where os.Rename refuses to.
	if err := syscall.Rename(dir, aside); err != nil {
		os.Remove(aside)
		lock.Close()
		return "", nil, fmt.Errorf("set unreadable journal aside: %w", err)
	}
	lock.Close()
	if err := os.Mkdir(dir, 0o700); err != nil {
		return "", nil, fmt.Errorf("create journal directory: %w", err)
	}
	if sync != nil {
		if err := sync(filepath.Dir(dir)); err != nil {
			return "", nil, err
		}
	}
	lock, err = lockDir(dir, 0) // a directory of its own, just made
	if err != nil {
		return "", nil, err
	}
	return aside, lock, nil
}

// reserveName makes an empty directory named base, or base-2, base-3...,
// whichever does not exist yet, and returns its name.
func reserveName(base string) (string, error) {
	name := base
	for i := 2; ; i++ {
		err := os.Mkdir(name, 0o700)
		if err == nil {
			return name, nil
		}
		if !errors.Is(err, fs.ErrExist) || i > setAsideTries {
			return "", fmt.Errorf("name for unreadable journal: %w", err)
		}
		name = fmt.Sprintf("%s-%d", base, i)
	}
}
