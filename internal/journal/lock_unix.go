//go:build unix

package journal

import (
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// lockDir takes the lock on dir that makes this Journal its only writer,
// waiting up to wait (none when not positive) while another process holds
// it. The lock goes with the file when it is closed, or when the process
// dies.
func lockDir(dir string, wait time.Duration) (*os.File, error) {
	f, err := openLock(dir)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(wait)
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		switch {
		case err == nil:
			return f, nil
		case err == unix.EWOULDBLOCK && time.Now().Before(deadline):
			time.Sleep(lockRetry)
			continue
		}
		f.Close()
		if err == unix.EWOULDBLOCK {
			return nil, fmt.Errorf("lock journal %q: %w", dir, ErrLocked)
		}
		return nil, fmt.Errorf("lock journal %q: %w", dir, err)
	}
}

// lockRetry is how often lockDir tries again for a lock held elsewhere.
const lockRetry = 20 * time.Millisecond
