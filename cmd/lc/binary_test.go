package main

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// lcBinary is the lc program built once for the tests that run it as a
// process of its own, and removed by TestMain.
var lcBinary struct {
	once      sync.Once
	dir, path string
	err       error
	out       []byte
}

func TestMain(m *testing.M) {
	code := m.Run()
	if lcBinary.dir != "" {
		os.RemoveAll(lcBinary.dir)
	}
	os.Exit(code)
}

// buildLC returns the path of the lc binary, built on first use without
// cgo, as the service instructions say.
func buildLC(t *testing.T) string {
	t.Helper()
	b := &lcBinary
	b.once.Do(func() {
		if b.dir, b.err = os.MkdirTemp("", "lc-test-"); b.err != nil {
			return
		}
		b.path = filepath.Join(b.dir, "lc")
		cmd := exec.Command("go", "build", "-o", b.path, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		b.out, b.err = cmd.CombinedOutput()
	})
	if b.err != nil {
		t.Fatalf("build: %v\n%s", b.err, b.out)
	}
	return b.path
}

// eventIDs matches the event IDs in --events lines.
var eventIDs = regexp.MustCompile(`"event_id":"[0-9a-f]{32}"`)

// sameOut makes the --events lines of a run into out comparable with those
// of a run into another directory: out becomes "OUT", and the event IDs,
// which depend on the paths, become "ID".
func sameOut(events, out string) string {
	return eventIDs.ReplaceAllString(strings.ReplaceAll(events, out, "OUT"), `"event_id":"ID"`)
}

// walkOutput walks an output directory as filepath.WalkDir does, leaving
// out lc's own state under .lc (the journal).
func walkOutput(root string, fn fs.WalkDirFunc) error {
	return filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() && d.Name() == ".lc" && path != root {
			return filepath.SkipDir
		}
		return fn(path, d, err)
	})
}
