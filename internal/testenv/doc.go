// Package testenv is what tests need from the machine they run on: a
// program (tshark, tcpdump), the public captures beside the repository,
// root. A missing prerequisite skips the test on a developer's machine and
// fails it in CI (the CI environment variable set to anything but a false
// value), so that CI never passes by skipping. Tests only; nothing in lc
// imports it.
package testenv
