package processor

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/lc-voip/lc/internal/capture"
	"github.com/lc-voip/lc/internal/testpcap"
)

// TestFileCacheBound writes to more files than may be open and checks the
// limit holds and every file reads back whole.
func TestFileCacheBound(t *testing.T) {
	root := testRoot(t, t.TempDir())
	dir := root.path
	const files, limit, rounds = 40, 4, 5
	fc := newFileCache(limit, root, nil, nil)
	pfs := make([]*pcapFile, files)
	for i := range pfs {
		pfs[i] = &pcapFile{path: filepath.Join(dir, fmt.Sprintf("%d.pcap", i)), format: format{linkType: uint32(layers.LinkTypeEthernet)}}
	}
	for r := range rounds {
		for i, pf := range pfs {
			data := []byte(fmt.Sprintf("round %d file %d", r, i))
			p := &capture.Packet{Data: data, Info: gopacket.CaptureInfo{Timestamp: t0.Add(time.Duration(r) * time.Second), Length: len(data)}}
			if err := fc.write(pf, p); err != nil {
				t.Fatal(err)
			}
			if fc.open > limit {
				t.Fatalf("%d files open, limit %d", fc.open, limit)
			}
		}
	}
	if err := fc.closeAll(); err != nil {
		t.Fatal(err)
	}
	if fc.open != 0 {
		t.Fatalf("%d files still open", fc.open)
	}
	for i, pf := range pfs {
		got := testpcap.Read(t, pf.path)
		if len(got) != rounds {
			t.Fatalf("file %d has %d packets, want %d", i, len(got), rounds)
		}
		for r, p := range got {
			if want := fmt.Sprintf("round %d file %d", r, i); string(p.Data) != want {
				t.Fatalf("file %d packet %d = %q, want %q", i, r, p.Data, want)
			}
		}
	}
	if fc.evictions == 0 {
		t.Fatal("no evictions counted")
	}
}

// testRoot opens dir as an output directory for the length of the test.
func testRoot(t *testing.T, dir string) *outDir {
	t.Helper()
	root, err := openOutDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.close() })
	return root
}
