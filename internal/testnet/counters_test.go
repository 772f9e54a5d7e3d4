//go:build linux

package testnet

import (
	"net"
	"net/netip"
	"testing"
)

// TestUnboundPortDrawsICMP shows that the checks elsewhere would see a
// datagram sent to a port nobody bound: the capture has the ICMP error and
// the counters of the receiving side count it.
func TestUnboundPortDrawsICMP(t *testing.T) {
	p := newTestPair(t)
	d := startTcpdump(t, p, 1)
	var base [2]udpCounters
	for i := range base {
		var err error
		if base[i], err = p.udp(i); err != nil {
			t.Fatal(err)
		}
	}
	err := p.Do(0, func() error {
		c, err := net.ListenUDP("udp", nil)
		if err != nil {
			return err
		}
		defer c.Close()
		_, err = c.WriteToUDPAddrPort([]byte("anyone?"), netip.AddrPortFrom(p.Addr[1], 9))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.settle(base, [2]int{0, 1}); err == nil {
		t.Error("settle did not report the datagram that found no socket")
	}
	s := summarize(d.stop(t, 1))
	if s.udp != 1 || s.icmp != 1 {
		t.Errorf("captured %d UDP and %d ICMP, want 1 and 1", s.udp, s.icmp)
	}
	after, err := p.udp(1)
	if err != nil {
		t.Fatal(err)
	}
	if got := after.sub(base[1]); got.NoPorts != 1 || got.InErrors != 0 {
		t.Errorf("counters of B moved by %+v, want NoPorts 1", got)
	}
}

func TestParseSNMP(t *testing.T) {
	in := "Ip: Forwarding DefaultTTL\nIp: 1 64\nUdp: InDatagrams NoPorts InErrors\nUdp: 10 2 7\n"
	m, err := parseSNMP([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if m["Udp:NoPorts"] != 2 || m["Udp:InErrors"] != 7 || m["Ip:DefaultTTL"] != 64 {
		t.Errorf("parsed %v", m)
	}
	if _, err := parseSNMP([]byte("Udp: A B\nUdp: 1\n")); err == nil {
		t.Error("accepted a short value line")
	}
	m6, err := parseSNMP6([]byte("Udp6InErrors                    \t5\nUdp6NoPorts 1\n"))
	if err != nil || m6["Udp6InErrors"] != 5 || m6["Udp6NoPorts"] != 1 {
		t.Errorf("parsed %v, %v", m6, err)
	}
}
