package journal

import (
	"fmt"
	"os"
	"path/filepath"
)

// lockName is the file in the journal directory that Open locks.
const lockName = "lock"

// openLock opens, making it when missing, dir's lock file.
func openLock(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, lockName), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open journal lock: %w", err)
	}
	return f, nil
}
