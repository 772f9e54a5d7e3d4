// Package testenv is what tests need from the machine they run on: a
// program (tshark, tcpdump), the public captures beside the repository,
// root. A missing prerequisite skips the test on a developer's machine and
// fails it in CI (the CI environment variable set to anything but a false
// value), so that CI never passes by skipping. It also says whether the
// opt-in long suite runs (LC_LONG_TESTS=1): the tests that measure time,
// throughput or drops, which depend on how busy the machine is. Recorder
// and Buffer collect what other goroutines report (hook traces, log
// lines) for a test to read or wait for. Tests only; nothing in lc
// imports it.
package testenv
