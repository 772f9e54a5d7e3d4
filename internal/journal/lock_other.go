//go:build !unix

package journal

import (
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// lockName is the file in the journal directory that Open locks.
const lockName = "lock"

// lockDir opens the lock file; this system has no flock, so two Journals
// on one directory are not kept apart.
func lockDir(dir string, _ time.Duration) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, lockName), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open journal lock: %w", err)
	}
	return f, nil
}
