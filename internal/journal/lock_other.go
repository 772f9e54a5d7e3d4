//go:build !unix

package journal

import (
	"os"
	"time"
)

// lockDir opens the lock file; this system has no flock, so two Journals
// on one directory are not kept apart.
func lockDir(dir string, _ time.Duration) (*os.File, error) { return openLock(dir) }
