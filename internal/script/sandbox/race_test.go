//go:build race

package sandbox

// raceEnabled is set when the tests run with the race detector, which
// makes Lua run several times slower: memory bombs may then reach the
// deadline before the budget.
const raceEnabled = true
