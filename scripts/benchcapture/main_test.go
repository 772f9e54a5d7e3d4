package main

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lc-voip/lc/internal/testpcap"
)

func TestRun(t *testing.T) {
	path := filepath.Join(t.TempDir(), "small.pcap")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"-o", path, "-calls", "20", "-concurrent", "5", "-talk", "1s", "-seed", "3"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit status %d, stderr %q", code, stderr.String())
	}
	pkts := testpcap.Read(t, path)
	for _, want := range []string{"20 calls (", fmt.Sprintf(" %d packets, ", len(pkts)), "(seed 3)\n"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("stdout %q, want it to contain %q", stdout.String(), want)
		}
	}
}

func TestRunErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{name: "no output", args: []string{"-calls", "3"}, code: 2, stderr: "usage:"},
		{name: "unknown flag", args: []string{"-o", "x", "-bogus"}, code: 2, stderr: "-bogus"},
		{name: "bad config", args: []string{"-o", filepath.Join(dir, "x.pcap"), "-calls", "0", "-concurrent", "0"}, code: 1, stderr: "calls 0"},
		{name: "unwritable", args: []string{"-o", filepath.Join(dir, "missing", "x.pcap"), "-calls", "1"}, code: 1, stderr: "create capture"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tt.args, &stdout, &stderr)
			if code != tt.code || !strings.Contains(stderr.String(), tt.stderr) {
				t.Errorf("exit status %d, stderr %q; want %d and %q", code, stderr.String(), tt.code, tt.stderr)
			}
		})
	}
}
