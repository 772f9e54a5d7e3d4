//go:build linux

package testnet

import (
	"testing"
	"time"

	"github.com/lc-voip/lc/internal/testenv"
)

// TestBlast sends a mixed SIP/RTP load and checks it with tcpdump: every
// packet sent is captured or counted as dropped by tcpdump's kernel
// buffer, nothing but UDP is sent, every SIP message parses and about 1%
// of the packets are SIP. Whether the rate was achieved depends on the
// machine's load: TestBlastRate, in the long suite.
func TestBlast(t *testing.T) {
	p := newTestPair(t)
	d := startTcpdump(t, p, 1)
	l := Load{Rate: 20000, Duration: 500 * time.Millisecond, Calls: 8}
	sent, achieved, err := p.Blast(l)
	if err != nil {
		t.Fatal(err)
	}
	pkts := d.stop(t, sent)
	s := summarize(pkts)
	dropped := d.dropped(t)
	t.Logf("sent %d packets at %.0f/s; captured %d UDP, %d ICMP, %d other; tcpdump dropped %d", sent, achieved, s.udp, s.icmp, s.other, dropped)

	if target := int(float64(l.Rate) * l.Duration.Seconds()); sent > target || sent == 0 {
		t.Errorf("sent %d packets, want at most %d and some", sent, target)
	}
	if s.udp+dropped != sent || s.icmp != 0 || s.other != 0 {
		t.Errorf("captured %d UDP (and %d dropped), %d ICMP, %d other frames; want %d UDP and nothing else", s.udp, dropped, s.icmp, s.other, sent)
	}
	sip := 0
	for i, b := range s.payloads {
		if s.ports[i] != [2]uint16{5060, 5060} {
			continue
		}
		sip++
		if _, err := parseSIP(b); err != nil {
			t.Errorf("SIP message %d: %v\n%s", sip, err, b)
		}
	}
	// Each call's five SIP messages come with 495 RTP packets; the calls
	// set up at the start add a little.
	if share := float64(sip) / float64(s.udp); share < 0.005 || share > 0.03 {
		t.Errorf("%d of %d packets are SIP (%.1f%%), want about 1%%", sip, s.udp, 100*share)
	}
}

// TestBlastRate checks that Blast achieves the rate it is asked for, to
// within a factor of two, on a machine that has the CPU for it: long
// suite.
func TestBlastRate(t *testing.T) {
	testenv.Long(t)
	p := newTestPair(t)
	l := Load{Rate: 20000, Duration: 500 * time.Millisecond, Calls: 8}
	sent, achieved, err := p.Blast(l)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("sent %d packets at %.0f/s, asked for %d/s", sent, achieved, l.Rate)
	if target := int(float64(l.Rate) * l.Duration.Seconds()); sent < target/2 {
		t.Errorf("sent %d packets, want at least half of %d", sent, target)
	}
	if achieved < float64(l.Rate)/2 || achieved > float64(l.Rate)*1.1 {
		t.Errorf("achieved %.0f packets/s, requested %d", achieved, l.Rate)
	}
}

func TestBlastRejectsUnboundedLoad(t *testing.T) {
	p := &Pair{} // Blast checks its argument before touching the Pair
	for _, l := range []Load{
		{Rate: 0, Duration: time.Second},
		{Rate: MaxLoadRate + 1, Duration: time.Second},
		{Rate: 1000, Duration: 0},
		{Rate: 1000, Duration: MaxLoadDuration + 1},
		{Rate: 1000, Duration: time.Second, Calls: -1},
		{Rate: 1000, Duration: time.Second, Calls: maxSlots + 1},
	} {
		if _, _, err := p.Blast(l); err == nil {
			t.Errorf("Blast(%+v) succeeded", l)
		}
	}
}
