package testenv

import "testing"

func TestInCI(t *testing.T) {
	for v, want := range map[string]bool{"": false, "true": true, "1": true, "yes": true, "false": false, "0": false} {
		t.Setenv("CI", v)
		if got := InCI(); got != want {
			t.Errorf("CI=%q: InCI() = %v, want %v", v, got, want)
		}
	}
}

func TestLongEnabled(t *testing.T) {
	for v, want := range map[string]bool{"": false, "1": true, "true": true, "0": false, "no": false, "junk": false} {
		t.Setenv(LongEnv, v)
		if got := LongEnabled(); got != want {
			t.Errorf("%s=%q: LongEnabled() = %v, want %v", LongEnv, v, got, want)
		}
	}
}
