package testenv

import (
	"encoding/json"
	"strings"
	"testing"
)

// JSONLines decodes text, one JSON object per line (a JSON log, an
// --events file), failing the test on a line that is not one.
func JSONLines(tb testing.TB, text string) []map[string]any {
	tb.Helper()
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(text), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			tb.Fatalf("line %q: %v", l, err)
		}
		lines = append(lines, m)
	}
	return lines
}
