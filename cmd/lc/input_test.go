package main

import (
	"bytes"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/lc-voip/lc/internal/testpcap"
)

func TestCaptureFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{nil, []string{"no input: give -r FILE or -i INTERFACE"}},
		{[]string{"-r", samplePath, "-i", "lo"}, []string{"give capture files (-r) or interfaces (-i), not both"}},
		{[]string{"-i", "lo", "--snaplen", "10", "--capture-buffer", "10K"},
			[]string{`processor.snaplen = "10" (from flag --snaplen): must be from 64 to 262144`,
				`processor.capture_buffer = "10K" (from flag --capture-buffer): must be from 1M to 2G`}},
		{[]string{"-r", samplePath, "-f", "udp port 5060 and (host 10.0.0.1"}, []string{`filter "udp port 5060 and (host 10.0.0.1"`}},
		{[]string{"-r", samplePath, "-f", "host sip.example.com"}, []string{`filter "host sip.example.com"`, "not resolved"}},
	} {
		code, _, stderr := run(t, nil, append([]string{"process", "-o", t.TempDir()}, tc.args...)...)
		if code != exitUsage {
			t.Errorf("%q: exit %d, want %d\n%s", tc.args, code, exitUsage, stderr)
		}
		for _, w := range tc.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%q: stderr lacks %q:\n%s", tc.args, w, stderr)
			}
		}
	}
}

func TestCaptureMissingInterface(t *testing.T) {
	code, _, stderr := run(t, nil, "process", "-i", "no-such-if0", "-o", t.TempDir())
	if code != exitError || !strings.Contains(stderr, `interface "no-such-if0": no such interface`) {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
}

// TestFileFilter: -f applies to capture files too, like tcpdump -r with a
// filter. The summary counts what the filter left out, and the packets it
// kept add up on their own.
func TestFileFilter(t *testing.T) {
	code, _, stderr := run(t, nil, "process", "-r", samplePath, "-o", t.TempDir(), "-f", "udp port 5060")
	if code != exitOK {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	for _, want := range []string{
		"lc: 19 packets",
		"left out by the filter (not counted here): 100",
		"written: 16 sip + 0 rtp + 3 other = 19 records",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("summary lacks %q:\n%s", want, stderr)
		}
	}
}

// TestFilterWordsRefused: a tcpdump-style filter after the flags is a
// usage error that shows how lc takes it.
func TestFilterWordsRefused(t *testing.T) {
	code, _, stderr := run(t, nil, "process", "-r", samplePath, "-o", t.TempDir(), "udp", "port", "5060")
	if code != exitUsage || !strings.Contains(stderr, `-f 'udp port 5060'`) {
		t.Errorf("exit %d, want %d with a hint:\n%s", code, exitUsage, stderr)
	}
}

// TestSnaplenOnFiles: --snaplen cuts packets read from files as it cuts
// captured ones, after the filter, keeping their wire length.
func TestSnaplenOnFiles(t *testing.T) {
	out := t.TempDir()
	code, _, stderr := run(t, nil, "process", "-r", samplePath, "-o", out, "--snaplen", "64", "-f", "udp port 5060")
	if code != exitOK {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	records := 0
	err := walkOutput(out, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		for _, p := range testpcap.Read(t, path) {
			records++
			if len(p.Data) != 64 {
				t.Errorf("%s: a record of %d bytes, want 64", path, len(p.Data))
			}
		}
		return nil
	})
	if err != nil || records == 0 {
		t.Fatalf("%d records: %v", records, err)
	}
}

// TestCompressedInput: a gzip or zstd capture, named anything and read
// from a file or from standard input, gives the output tree of the capture
// itself, byte for byte; one cut short is a warning, like a cut plain one.
func TestCompressedInput(t *testing.T) {
	plain, err := os.ReadFile(samplePath)
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	if _, err := zw.Write(plain); err != nil || zw.Close() != nil {
		t.Fatal(err)
	}
	enc, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	zst := enc.EncodeAll(plain, nil)
	enc.Close()
	dir := t.TempDir()
	gzPath := filepath.Join(dir, "sample.cap")
	if err := os.WriteFile(gzPath, gz.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	want := processedTree(t, nil, samplePath)
	for _, tc := range []struct {
		name  string
		stdin []byte
		path  string
	}{
		{name: "gzip file", path: gzPath},
		{name: "zstd standard input", stdin: zst, path: "-"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := processedTree(t, tc.stdin, tc.path)
			if !maps.EqualFunc(got, want, bytes.Equal) {
				t.Errorf("output files %q, want %q with the same bytes", slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)))
			}
		})
	}

	cut := filepath.Join(dir, "cut.pcap.gz")
	if err := os.WriteFile(cut, gz.Bytes()[:gz.Len()/2], 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := run(t, nil, "process", "-r", cut, "-o", t.TempDir())
	if code != exitOK || !strings.Contains(stderr, `warning: read capture "`+cut+`" (gzip): `) ||
		!strings.Contains(stderr, "truncated capture: compressed stream cut off") {
		t.Errorf("cut gzip: exit %d, want %d with a warning:\n%s", code, exitOK, stderr)
	}
}

// processedTree runs lc process on path and returns the output files, by
// path relative to the output directory, with their contents.
func processedTree(t *testing.T, stdin []byte, path string) map[string][]byte {
	t.Helper()
	out := t.TempDir()
	code, _, stderr := run(t, stdin, "process", "-r", path, "-o", out)
	if code != exitOK {
		t.Fatalf("%s: exit %d:\n%s", path, code, stderr)
	}
	files := map[string][]byte{}
	err := walkOutput(out, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(out, p)
		files[rel] = b
		return err
	})
	if err != nil || len(files) == 0 {
		t.Fatalf("%s: %d output files, %v", path, len(files), err)
	}
	return files
}
