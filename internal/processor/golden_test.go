package processor

import (
	"bytes"
	"crypto/sha256"
	"flag"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/lc-voip/lc/internal/capture"
	"github.com/lc-voip/lc/internal/event"
	"github.com/lc-voip/lc/internal/testpcap"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// runPackets runs a processor over pkts and returns its events and stats.
func runPackets(tb testing.TB, out string, pkts []testpcap.Packet, tune func(*Config)) ([]event.Event, Stats) {
	tb.Helper()
	cfg := DefaultConfig()
	cfg.OutputDir = out
	var events []event.Event
	cfg.Emit = func(e event.Event) { events = append(events, e) }
	if tune != nil {
		tune(&cfg)
	}
	p, err := New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	for i, tp := range pkts {
		pkt := &capture.Packet{
			Data:     tp.Data,
			Info:     gopacket.CaptureInfo{Timestamp: tp.Time, CaptureLength: len(tp.Data), Length: len(tp.Data)},
			LinkType: uint16(layers.LinkTypeEthernet),
			Frame:    i + 1,
		}
		if err := p.Packet(pkt); err != nil {
			tb.Fatal(err)
		}
	}
	if err := p.Close(); err != nil {
		tb.Fatal(err)
	}
	return events, p.Stats()
}

// TestGolden runs every scenario and compares its events and output tree
// with testdata/golden/<scenario>.txt.
func TestGolden(t *testing.T) {
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			tl := &testpcap.Timeline{Now: t0}
			sc.build(tl)
			out := t.TempDir()
			events, stats := runPackets(t, out, tl.Pkts, sc.cfg)
			checkAccounting(t, out, tl.Pkts, stats)
			got := render(t, out, events, stats)
			path := filepath.Join("testdata", "golden", sc.name+".txt")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("output differs from %s (run with -update after checking):\n--- got\n%s\n--- want\n%s", path, got, want)
			}
		})
	}
}

// render writes events (paths relative to out, each event's ID, which
// depends on out, checked and replaced by "ID"), the file tree and the
// counts in a stable text form.
// eventIDPattern matches the ID of an event in its JSON.
var eventIDPattern = regexp.MustCompile(`"event_id":"[0-9a-f]{32}"`)

func render(tb testing.TB, out string, events []event.Event, st Stats) []byte {
	tb.Helper()
	var b bytes.Buffer
	b.WriteString("# events\n")
	ids := map[string]bool{}
	for _, e := range events {
		line := event.AppendJSON(nil, e)
		id := event.Identified(e)
		found := string(eventIDPattern.Find(line))
		if !bytes.Equal(event.AppendJSON(nil, id), line) || found == "" || ids[found] {
			tb.Errorf("event without an ID of its own: %s", line)
		}
		ids[found] = true
		line = eventIDPattern.ReplaceAll(line, []byte(`"event_id":"ID"`))
		b.Write(bytes.ReplaceAll(line, []byte(out), []byte("OUT")))
		b.WriteByte('\n')
	}
	b.WriteString("# files\n")
	err := filepath.WalkDir(out, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(out, path)
		fmt.Fprintf(&b, "%s %d packets sha256:%x\n", rel, len(testpcap.Read(tb, path)), sha256.Sum256(data))
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	fmt.Fprintf(&b, "# stats\npackets %d, sip %d, rtp %d, other %d, copies %d, filtered %d\n",
		st.Packets, st.Written[event.KindSIP], st.Written[event.KindRTP], st.Written[event.KindOther], st.Copies, st.Filtered)
	for _, k := range slices.Sorted(maps.Keys(st.Notes)) {
		fmt.Fprintf(&b, "note %s %d\n", k, st.Notes[k])
	}
	return b.Bytes()
}

// checkAccounting asserts that every input packet is in some output file
// and that the counts add up.
func checkAccounting(tb testing.TB, out string, in []testpcap.Packet, st Stats) {
	tb.Helper()
	written := st.Written[event.KindSIP] + st.Written[event.KindRTP] + st.Written[event.KindOther]
	if st.Packets != int64(len(in)) || st.Packets != written-st.Copies+st.Filtered+st.Failed {
		tb.Errorf("counts do not add up: %d input, %d read, %d written, %d copies, %d filtered, %d failed",
			len(in), st.Packets, written, st.Copies, st.Filtered, st.Failed)
	}
	seen := map[string]bool{}
	var records int64
	err := filepath.WalkDir(out, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".pcap") {
			return err
		}
		for _, p := range testpcap.Read(tb, path) {
			seen[key(p)] = true
			records++
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	if records != written {
		tb.Errorf("%d records on disk, %d counted", records, written)
	}
	for i, p := range in {
		if !seen[key(p)] {
			tb.Errorf("input frame %d is in no output file", i+1)
		}
	}
}

func key(p testpcap.Packet) string { return fmt.Sprint(p.Time.UnixNano(), string(p.Data)) }
