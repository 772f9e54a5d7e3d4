package testenv

import (
	"os"
	"strconv"
	"testing"
)

// LongEnv is the environment variable that opts into the long suite:
// measurements of throughput, drop rates, latencies and deadlines against
// the wall clock, and the largest scale tests. They depend on how busy the
// machine is, so the default `go test ./...` leaves them out.
const LongEnv = "LC_LONG_TESTS"

// LongEnabled reports whether the long suite runs: LC_LONG_TESTS is set to
// a true value (1, t, true; see strconv.ParseBool).
func LongEnabled() bool {
	v, err := strconv.ParseBool(os.Getenv(LongEnv))
	return err == nil && v
}

// Long skips the test unless the long suite runs. Call it first in a test
// or benchmark that measures time or needs minutes.
func Long(tb testing.TB) {
	tb.Helper()
	if !LongEnabled() {
		tb.Skipf("long suite: set %s=1 to run", LongEnv)
	}
}
