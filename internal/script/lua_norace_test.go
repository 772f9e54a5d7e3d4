//go:build !race

package script

// raceEnabled is set when the tests run with the race detector.
const raceEnabled = false
