//go:build linux

package main

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lc-voip/lc/internal/testenv"
	"github.com/lc-voip/lc/internal/testnet"
)

// loadRates are the packet rates the load test offers, for loadTime each,
// lowest first; it stops raising the rate at the first kernel drop. The
// default 32 MiB ring holds about half a second of 250k packets/s, so
// loadTime is long enough for a rate lc cannot sustain to overflow it.
var loadRates = []int{50_000, 100_000, 200_000, 300_000, 400_000, 500_000}

const loadTime = 3 * time.Second

var captureLine = regexp.MustCompile(`capture on \S+: (\d+) received, (\d+) dropped by the kernel \(ring full\), (\d+) by the interface`)

// TestLiveLoad offers mixed SIP/RTP (1% SIP) across a veth pair at rising
// rates to lc -i, without hooks and with hooks that compress every closed
// pcap and log every call, and reports the first rate at which the kernel
// dropped packets. At every rate the counts must add up: every packet sent
// was either received by lc and processed, or counted as a drop.
//
// The sender runs on the same two cores as lc, so the figures are those
// of this machine under this load, not of lc alone: it is in the long
// suite (LC_LONG_TESTS=1), with -v to see them.
func TestLiveLoad(t *testing.T) {
	testenv.Long(t)
	p := livePair(t)
	bin := buildLC(t)
	calls := filepath.Join(t.TempDir(), "calls.txt")
	for _, mode := range []struct {
		name  string
		hooks []string
	}{
		{"no hooks", nil},
		{"hooks", []string{"--pcap-command", "gzip -kf %pcap%", "--voip-command", "sh -c 'echo \"$1\" >> " + calls + "' sh %callid%"}},
	} {
		first := 0
		for _, rate := range loadRates {
			out := t.TempDir()
			args := append([]string{"process", "-i", p.Iface[1], "-o", out, "--call-grace-period", "100ms",
				"--status-interval", "0"}, mode.hooks...)
			lc := start(t, p.Command(1, bin, args...), "capturing")
			sent, achieved, err := p.Blast(testnet.Load{Rate: rate, Duration: loadTime, Calls: 64})
			if err != nil {
				t.Fatal(err)
			}
			time.Sleep(300 * time.Millisecond) // the last ring block is handed over
			log := lc.stop(t)
			received, kernel, iface := parseCapture(t, log)
			processed := parsePackets(t, log)
			t.Logf("%-8s offered %6d/s, sent %6d at %6.0f/s: lc received %6d, kernel drops %6d, interface drops %d",
				mode.name, rate, sent, achieved, received, kernel, iface)
			if received+kernel+iface != int64(sent) {
				t.Errorf("%s at %d/s: %d received + %d kernel drops + %d interface drops != %d sent",
					mode.name, rate, received, kernel, iface, sent)
			}
			if processed != received {
				t.Errorf("%s at %d/s: lc processed %d packets but received %d", mode.name, rate, processed, received)
			}
			for _, line := range strings.Split(log, "\n") {
				if strings.Contains(line, "  hooks: ") || strings.Contains(line, "  hook spool: ") {
					t.Log(strings.TrimSpace(line))
				}
			}
			if kernel > 0 && rate <= 100_000 {
				t.Errorf("%s: %d kernel drops at %d packets/s; lc must keep up with 100k packets/s", mode.name, kernel, rate)
			}
			if kernel > 0 {
				first = rate
				break
			}
		}
		if first > 0 {
			t.Logf("%s: first kernel drops at %d packets/s offered", mode.name, first)
		} else {
			t.Logf("%s: no kernel drop up to %d packets/s offered", mode.name, loadRates[len(loadRates)-1])
		}
	}
}

func parseCapture(t *testing.T, log string) (received, kernel, iface int64) {
	t.Helper()
	m := captureLine.FindStringSubmatch(log)
	if m == nil {
		t.Fatalf("no capture line in the summary:\n%s", log)
	}
	n := func(s string) int64 { v, _ := strconv.ParseInt(s, 10, 64); return v }
	return n(m[1]), n(m[2]), n(m[3])
}

func parsePackets(t *testing.T, log string) int64 {
	t.Helper()
	i := strings.Index(log, "lc: ")
	var n int64
	if i < 0 {
		t.Fatalf("no summary:\n%s", log)
	}
	if _, err := fmt.Sscanf(log[i:], "lc: %d packets", &n); err != nil {
		t.Fatalf("summary: %v\n%s", err, log[i:])
	}
	return n
}
