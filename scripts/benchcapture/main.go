package main

import (
	"flag"
	"fmt"
	"io"
	"iter"
	"os"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/lc-voip/lc/internal/testpcap"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is the whole program; it returns the exit status: 2 for bad usage,
// 1 when the capture cannot be written.
func run(args []string, stdout, stderr io.Writer) int {
	cfg := testpcap.DefaultLoadConfig()
	fs := flag.NewFlagSet("benchcapture", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "", "write the capture to `path` (required)")
	fs.IntVar(&cfg.Calls, "calls", cfg.Calls, "calls in the capture")
	fs.IntVar(&cfg.Concurrent, "concurrent", cfg.Concurrent, "calls open at once on average, once arrivals have ramped up")
	fs.DurationVar(&cfg.Talk, "talk", cfg.Talk, "mean talk time of an answered call")
	fs.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "random seed: the same flags give the same capture")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *out == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: benchcapture -o PATH [-calls N] [-concurrent N] [-talk D] [-seed N]")
		return 2
	}
	desc, err := generate(*out, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "benchcapture: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, desc)
	return 0
}

// generate writes the load of cfg to path, through a temporary file
// renamed into place once complete, and describes it.
func generate(path string, cfg testpcap.LoadConfig) (string, error) {
	calls, err := testpcap.Plan(cfg)
	if err != nil {
		return "", err
	}
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return "", fmt.Errorf("create capture: %w", err)
	}
	var st stats
	err = testpcap.WriteSeq(f, layers.LinkTypeEthernet, st.count(testpcap.Merge(calls)))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("write capture %q: %w", path, err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("stat capture: %w", err)
	}
	return fmt.Sprintf("%s: %s, %d packets, %.1f MB, %v of traffic, peak %d calls open at once (seed %d)",
		path, mix(calls), st.packets, float64(fi.Size())/1e6, st.last.Sub(st.first).Round(100*time.Millisecond),
		testpcap.Peak(calls), cfg.Seed), nil
}

// stats counts the packets going through a sequence.
type stats struct {
	packets     int
	first, last time.Time
}

func (s *stats) count(pkts iter.Seq[testpcap.Packet]) iter.Seq[testpcap.Packet] {
	return func(yield func(testpcap.Packet) bool) {
		for p := range pkts {
			if s.packets == 0 {
				s.first = p.Time
			}
			s.packets++
			s.last = p.Time
			if !yield(p) {
				return
			}
		}
	}
}

// mix describes the kinds of calls.
func mix(calls []testpcap.Call) string {
	var g711, g729, tcp, reinvite, cancelled int
	for _, c := range calls {
		if c.Codec == testpcap.G729 {
			g729++
		} else {
			g711++
		}
		if c.TCP {
			tcp++
		}
		if c.ReInvite {
			reinvite++
		}
		if c.Cancelled {
			cancelled++
		}
	}
	return fmt.Sprintf("%d calls (G.711 %d, G.729 %d; SIP over TCP %d; re-INVITE %d; cancelled %d)",
		len(calls), g711, g729, tcp, reinvite, cancelled)
}
