package processor

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lc-voip/lc/internal/capture"
	"github.com/lc-voip/lc/internal/event"
	"github.com/lc-voip/lc/internal/testpcap"
)

// packetsOf reads every packet of the capture at path, compressed or not.
func packetsOf(t *testing.T, path string) []capture.Packet {
	t.Helper()
	f, err := capture.OpenFile(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var pkts []capture.Packet
	for {
		p, err := f.Next()
		if err != nil {
			return pkts
		}
		pkts = append(pkts, p)
	}
}

// TestCompressedOutput: with Compress set, every file lc closes is
// replaced by its compressed copy, which holds the packets of the
// uncompressed run's file; the events name the copies and give their
// sizes; nothing else is left beside them.
func TestCompressedOutput(t *testing.T) {
	tl := &testpcap.Timeline{Now: t0}
	for i := range 3 {
		tl.BasicCall(testpcap.NewDialog(i), 200)
	}
	o := testpcap.NewDialog(9)
	tl.Add(testpcap.UDP(o.Caller, o.Callee, o.Request("OPTIONS", 1, "", "")), time.Second)
	plain := startRun(t, t.TempDir(), nil)
	plain.feed(tl.Pkts...)
	plain.close()
	want := map[string]event.FileClosed{}
	for _, fc := range fileEvents(plain) {
		want[strings.TrimPrefix(fc.Path, plain.out)] = fc
	}
	for _, kind := range []string{CompressGzip, CompressZstd} {
		t.Run(kind, func(t *testing.T) {
			r := startRun(t, t.TempDir(), func(c *Config) { c.Compress = kind })
			r.feed(tl.Pkts...)
			if st := r.close(); r.err != nil || st.Files != int64(len(want)) {
				t.Fatalf("run error %v, %d files; want none and %d", r.err, st.Files, len(want))
			}
			for _, fc := range fileEvents(r) {
				rel := strings.TrimPrefix(fc.Path, r.out)
				raw, ok := strings.CutSuffix(rel, compressedExt[kind])
				p, found := want[raw]
				if !ok || !found {
					t.Errorf("event for %s: want the compressed copy of one of %d files", rel, len(want))
					continue
				}
				fi, err := os.Stat(fc.Path)
				if err != nil || fi.Size() != fc.Bytes || fc.Packets != p.Packets || fc.Error != "" {
					t.Errorf("%s: %v, event %+v; want %d bytes on disk and %d packets", rel, err, fc, fc.Bytes, p.Packets)
				}
				got, orig := packetsOf(t, fc.Path), packetsOf(t, p.Path)
				if len(got) != len(orig) {
					t.Fatalf("%s: %d packets, the uncompressed file %d", rel, len(got), len(orig))
				}
				for i := range got {
					if !bytes.Equal(got[i].Data, orig[i].Data) || !got[i].Info.Timestamp.Equal(orig[i].Info.Timestamp) {
						t.Fatalf("%s: packet %d differs from the uncompressed file's", rel, i)
					}
				}
			}
			filepath.WalkDir(r.out, func(path string, d os.DirEntry, err error) error {
				if err == nil && !d.IsDir() && !strings.HasSuffix(path, compressedExt[kind]) {
					t.Errorf("left beside the compressed files: %s", path)
				}
				return err
			})
		})
	}
}

// TestRecoverCompressing: a crash while a closed file was being
// compressed leaves the pcap, the pcap and a temporary or whole copy, or
// the whole copy alone. Recovery reports the pcap when it is there
// (removing any copy, whose event was never made), and the whole copy
// otherwise.
func TestRecoverCompressing(t *testing.T) {
	for _, tt := range []struct {
		name           string
		keepRaw        bool
		leave          string // what is left beside: "", ".gz" or ".gz.tmp"
		wantCompressed bool
	}{
		{"pcap and a temporary copy", true, ".gz.tmp", false},
		{"pcap and a whole copy", true, ".gz", false},
		{"whole copy alone", false, ".gz", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out, jdir := t.TempDir(), t.TempDir()
			j, _ := openJournal(t, jdir)
			r := startRun(t, out, withJournal(t, j))
			o := testpcap.NewDialog(1)
			tl := &testpcap.Timeline{Now: t0}
			for i := range 5 {
				tl.Add(testpcap.UDP(o.Caller, o.Callee, o.Request("OPTIONS", i+1, "", "")), 10*ms)
			}
			r.feed(tl.Pkts...)
			if err := r.p.files.flushAll(); err != nil {
				t.Fatal(err)
			}
			j.Close()
			j2, items := openJournal(t, jdir)
			raw := strings.TrimPrefix(items[0].ID, ledgerFile)
			z, err := newCompressor(CompressGzip, r.p.out)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := z.copy(raw, raw+tt.leave); err != nil {
				t.Fatal(err)
			}
			if !tt.keepRaw {
				os.Remove(raw)
			}
			r2 := startRun(t, out, withJournal(t, j2))
			if got := r2.p.Recover(items, nil); got.Files != 1 {
				t.Fatalf("Recover = %+v, want 1 file", got)
			}
			fc := fileEvents(r2)
			if len(fc) != 1 {
				t.Fatalf("events %v, want one file", r2.events)
			}
			for path, e := range fc {
				if (path == raw+".gz") != tt.wantCompressed || e.Packets != 5 || e.Error != "" {
					t.Errorf("reported %s: %+v; want 5 packets in the %s", path, e, map[bool]string{true: "copy", false: "pcap"}[tt.wantCompressed])
				}
			}
			entries, _ := os.ReadDir(filepath.Dir(raw))
			if len(entries) != 1 {
				t.Errorf("left in the directory: %v, want the file reported alone", entries)
			}
			if open := j2.Items(); len(open) != 0 {
				t.Errorf("the ledger still holds %d items", len(open))
			}
		})
	}
}

// TestCompressedNameStaysTaken: an "other" file compressed and removed by
// one run still takes its name: a later run with a first packet of the
// same second writes beside it, never over its compressed copy.
func TestCompressedNameStaysTaken(t *testing.T) {
	out := t.TempDir()
	o := testpcap.NewDialog(1)
	tl := &testpcap.Timeline{Now: t0}
	tl.Add(testpcap.UDP(o.Caller, o.Callee, o.Request("OPTIONS", 1, "", "")), 0)
	var paths []string
	for range 2 {
		r := startRun(t, out, func(c *Config) { c.Compress = CompressGzip })
		r.feed(tl.Pkts...)
		r.close()
		for path := range fileEvents(r) {
			paths = append(paths, path)
		}
	}
	if len(paths) != 2 || paths[0] == paths[1] {
		t.Fatalf("the two runs' files: %q, want two names", paths)
	}
	for _, path := range paths {
		if n := len(packetsOf(t, path)); n != 1 {
			t.Errorf("%s holds %d packets, want 1", path, n)
		}
	}
}
