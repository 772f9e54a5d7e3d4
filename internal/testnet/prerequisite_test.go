//go:build linux

package testnet

import (
	"os"
	"testing"
)

// inCI reports whether the test runs in CI (CI set in the environment),
// where a missing prerequisite is a failure.
func inCI() bool {
	return os.Getenv("CI") != ""
}

// missingPrerequisite fails the test in CI and skips it elsewhere.
func missingPrerequisite(tb testing.TB, format string, args ...any) {
	tb.Helper()
	if inCI() {
		tb.Fatalf(format, args...)
	}
	tb.Skipf(format, args...)
}

// newTestPair returns a new Pair, or skips or fails the test when the
// machine cannot make one (not root, no ip, no namespaces).
func newTestPair(tb testing.TB) *Pair {
	tb.Helper()
	p, err := NewPair(tb)
	if err != nil {
		missingPrerequisite(tb, "need network namespaces: %v", err)
	}
	return p
}
