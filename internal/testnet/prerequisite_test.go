//go:build linux

package testnet

import (
	"testing"

	"github.com/lc-voip/lc/internal/testenv"
)

// newTestPair returns a new Pair, or skips or fails the test when the
// machine cannot make one (not root, no ip, no namespaces).
func newTestPair(tb testing.TB) *Pair {
	tb.Helper()
	p, err := NewPair(tb)
	if err != nil {
		testenv.MissingPrerequisite(tb, "need network namespaces: %v", err)
	}
	return p
}
