package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const unitPath = "../../examples/systemd/lc.service"

// execStart returns the arguments of the unit's ExecStart line, with its
// backslash continuations joined.
func execStart(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(unitPath)
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

// TestSystemdUnitFlags: every flag the unit passes is one lc process has,
// with a value it takes.
func TestSystemdUnitFlags(t *testing.T) {
	args := execStart(t)
	if args[0] != "/usr/local/bin/lc" || args[1] != "process" {
		t.Fatalf("ExecStart runs %q", args[:2])
	}
	cmd := newProcessCmd(streams{})
	if err := cmd.ParseFlags(args[2:]); err != nil {
		t.Fatalf("ExecStart flags: %v", err)
	}
	if got, _ := cmd.Flags().GetString("metrics-addr"); !strings.HasPrefix(got, "127.0.0.1:") {
		t.Errorf("the unit serves metrics on %q; examples bind loopback", got)
	}
}

// TestSystemdUnitVerifies runs systemd-analyze verify on the unit, with
// ExecStart pointing at a real file: systemd must know every setting.
func TestSystemdUnitVerifies(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not installed")
	}
	b, err := os.ReadFile(unitPath)
	if err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	unit := filepath.Join(t.TempDir(), "lc.service")
	os.WriteFile(unit, []byte(strings.Replace(string(b), "ExecStart=/usr/local/bin/lc", "ExecStart="+self, 1)), 0o644)
	out, err := exec.Command(analyze, "verify", unit).CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}
