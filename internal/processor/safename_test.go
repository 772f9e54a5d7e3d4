package processor

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestSafeName(t *testing.T) {
	tests := []struct {
		name, in string
		want     string // exact, or prefix when hashed is set
		hashed   bool
	}{
		{name: "plain", in: "a84b4c76e66710@pc33.example.com", want: "a84b4c76e66710@pc33.example.com"},
		{name: "slash", in: "../../etc/passwd", want: "_._.._etc_passwd~", hashed: true},
		{name: "leading dot", in: ".hidden", want: "_hidden~", hashed: true},
		{name: "shell", in: "a;b $(c)`d`", want: "a_b___c__d_~", hashed: true},
		{name: "empty", in: "", want: "~", hashed: true},
		{name: "nul and newline", in: "a\x00b\nc", want: "a_b_c~", hashed: true},
		{name: "long", in: strings.Repeat("x", 100), want: strings.Repeat("x", 64) + "~", hashed: true},
		{name: "tilde is hashed", in: "a~b", want: "a_b~", hashed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := SafeName(tt.in)
			if !tt.hashed && got != tt.want {
				t.Fatalf("SafeName(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if tt.hashed && (!strings.HasPrefix(got, tt.want) || len(got) != len(tt.want)+12) {
				t.Fatalf("SafeName(%q) = %q, want %q + 12 hex digits", tt.in, got, tt.want)
			}
			if filepath.Base(got) != got || got == "." || got == ".." || strings.HasPrefix(got, ".") {
				t.Fatalf("SafeName(%q) = %q is not a plain file name", tt.in, got)
			}
		})
	}
}

func TestSafeNameDistinct(t *testing.T) {
	ids := []string{"a/b", "a_b", "a\\b", "a b", "a~b", strings.Repeat("y", 64) + "1", strings.Repeat("y", 64) + "2"}
	seen := map[string]string{}
	for _, id := range ids {
		n := SafeName(id)
		if prev, ok := seen[n]; ok {
			t.Fatalf("%q and %q share the name %q", prev, id, n)
		}
		seen[n] = id
	}
}

func FuzzSafeName(f *testing.F) {
	for _, s := range []string{"", ".", "..", "../x", "abc@host", "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		n := SafeName(id)
		if n == "" || n == "." || n == ".." || strings.ContainsAny(n, "/\\\x00") || strings.HasPrefix(n, ".") || len(n) > 64+13 {
			t.Fatalf("SafeName(%q) = %q", id, n)
		}
		if n != id && !strings.Contains(n, "~") {
			t.Fatalf("SafeName(%q) = %q changed the name without a hash", id, n)
		}
	})
}
