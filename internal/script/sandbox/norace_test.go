//go:build !race

package sandbox

// raceEnabled is set when the tests run with the race detector.
const raceEnabled = false
