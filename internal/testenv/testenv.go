package testenv

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
)

// InCI reports whether the tests run in CI: CI is set and not false.
func InCI() bool {
	v := os.Getenv("CI")
	ci, err := strconv.ParseBool(v)
	return v != "" && (err != nil || ci)
}

// MissingPrerequisite fails the test in CI and skips it elsewhere.
func MissingPrerequisite(tb testing.TB, format string, args ...any) {
	tb.Helper()
	if InCI() {
		tb.Fatalf(format, args...)
	}
	tb.Skipf(format, args...)
}

// Command returns the path of the program name, a prerequisite.
func Command(tb testing.TB, name string) string {
	tb.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		MissingPrerequisite(tb, "%s is needed: %v", name, err)
	}
	return path
}

// SharedCaptures returns the directory of public captures, LC_SHARED_PCAPS
// or shared/pcaps beside the repository, and its *.pcap and *.pcapng
// files as sorted slash-separated paths relative to it. Missing or empty,
// they are a missing prerequisite.
func SharedCaptures(tb testing.TB) (dir string, names []string) {
	tb.Helper()
	dir = os.Getenv("LC_SHARED_PCAPS")
	if dir == "" {
		root, err := repoRoot()
		if err != nil {
			tb.Fatal(err)
		}
		dir = filepath.Join(root, "..", "shared", "pcaps")
	}
	fi, err := os.Stat(dir)
	if err == nil && !fi.IsDir() {
		err = errors.New("not a directory")
	}
	if err != nil {
		MissingPrerequisite(tb, "captures directory (set LC_SHARED_PCAPS): %v", err)
	}
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		ext := filepath.Ext(path)
		if d.IsDir() || (ext != ".pcap" && ext != ".pcapng") {
			return nil
		}
		rel, err := filepath.Rel(dir, path)
		names = append(names, filepath.ToSlash(rel))
		return err
	})
	if err != nil {
		tb.Fatalf("list captures: %v", err)
	}
	if len(names) == 0 {
		MissingPrerequisite(tb, "no captures in %s", dir)
	}
	slices.Sort(names)
	return dir, names
}

// repoRoot is the directory holding go.mod, found upwards from the test's
// working directory (its package's directory).
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the test's directory")
		}
		dir = parent
	}
}
