//go:build linux

package testnet

import (
	"testing"
	"time"
)

func TestBlast(t *testing.T) {
	p := newTestPair(t)
	d := startTcpdump(t, p, 1)
	l := Load{Rate: 20000, Duration: 500 * time.Millisecond, Calls: 8}
	sent, achieved, err := p.Blast(l)
	if err != nil {
		t.Fatal(err)
	}
	s := summarize(d.stop(t, sent))
	t.Logf("sent %d packets at %.0f/s; captured %d UDP, %d ICMP, %d other", sent, achieved, s.udp, s.icmp, s.other)

	target := int(float64(l.Rate) * l.Duration.Seconds())
	if sent > target || sent < target/2 {
		t.Errorf("sent %d packets, want at most %d and at least half", sent, target)
	}
	if achieved < float64(l.Rate)/2 || achieved > float64(l.Rate)*1.1 {
		t.Errorf("achieved %.0f packets/s, requested %d", achieved, l.Rate)
	}
	if s.udp != sent || s.icmp != 0 || s.other != 0 {
		t.Errorf("captured %d UDP, %d ICMP, %d other frames; want %d UDP and nothing else", s.udp, s.icmp, s.other, sent)
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
