package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// exampleUnits are the example units, with the lc command each runs.
var exampleUnits = []struct {
	path    string
	command []string
	flags   func() *cobra.Command
}{
	{"../../examples/systemd/lc.service", []string{"process"}, func() *cobra.Command { return newProcessCmd(streams{}) }},
	{"../../examples/systemd/lc-worker.service", []string{"hooks", "worker"}, func() *cobra.Command { return newHooksWorkerCmd(streams{}) }},
}

// execStart returns the arguments of the ExecStart line of the unit at
// path, with its backslash continuations joined.
func execStart(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(b), "\\\n", " ")
	for _, line := range strings.Split(text, "\n") {
		if rest, ok := strings.CutPrefix(line, "ExecStart="); ok {
			return strings.Fields(rest)
		}
	}
	t.Fatal("no ExecStart line")
	return nil
}

// TestSystemdUnitFlags: every flag a unit passes is one its lc command
// has, with a value it takes.
func TestSystemdUnitFlags(t *testing.T) {
	for _, u := range exampleUnits {
		t.Run(filepath.Base(u.path), func(t *testing.T) {
			args := execStart(t, u.path)
			want := append([]string{"/usr/local/bin/lc"}, u.command...)
			if !slices.Equal(args[:len(want)], want) {
				t.Fatalf("ExecStart runs %q, want %q", args[:len(want)], want)
			}
			cmd := u.flags()
			if err := cmd.ParseFlags(args[len(want):]); err != nil {
				t.Fatalf("ExecStart flags: %v", err)
			}
			if got, _ := cmd.Flags().GetString("metrics-addr"); !strings.HasPrefix(got, "127.0.0.1:") {
				t.Errorf("the unit serves metrics on %q; examples bind loopback", got)
			}
		})
	}
}

// TestSystemdUnitVerifies runs systemd-analyze verify on each unit, with
// ExecStart pointing at a real file: systemd must know every setting.
func TestSystemdUnitVerifies(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not installed")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range exampleUnits {
		t.Run(filepath.Base(u.path), func(t *testing.T) {
			b, err := os.ReadFile(u.path)
			if err != nil {
				t.Fatal(err)
			}
			unit := filepath.Join(t.TempDir(), filepath.Base(u.path))
			os.WriteFile(unit, []byte(strings.Replace(string(b), "ExecStart=/usr/local/bin/lc", "ExecStart="+self, 1)), 0o644)
			out, err := exec.Command(analyze, "verify", unit).CombinedOutput()
			if err != nil || len(out) > 0 {
				t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
			}
		})
	}
}
