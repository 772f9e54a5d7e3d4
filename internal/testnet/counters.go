//go:build linux

package testnet

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// udpCounters are the UDP counters of one namespace, IPv4 and IPv6
// together, from /proc/net/snmp and /proc/net/snmp6.
type udpCounters struct {
	InErrors uint64 // datagrams dropped on arrival at a socket, which includes our filter's drops
	NoPorts  uint64 // datagrams for a port nobody bound; each may have drawn an ICMP error
}

// sub returns the counts since o.
func (c udpCounters) sub(o udpCounters) udpCounters {
	return udpCounters{InErrors: c.InErrors - o.InErrors, NoPorts: c.NoPorts - o.NoPorts}
}

// udp reads the UDP counters of namespace i. It reads them through
// /proc/thread-self, which shows the namespace of the calling thread;
// /proc/self would show that of the process's main thread.
func (p *Pair) udp(i int) (udpCounters, error) {
	var c udpCounters
	err := p.Do(i, func() error {
		v4, err := os.ReadFile("/proc/thread-self/net/snmp")
		if err != nil {
			return fmt.Errorf("read UDP counters: %w", err)
		}
		v6, err := os.ReadFile("/proc/thread-self/net/snmp6")
		if err != nil {
			return fmt.Errorf("read UDP counters: %w", err)
		}
		snmp, err := parseSNMP(v4)
		if err != nil {
			return err
		}
		snmp6, err := parseSNMP6(v6)
		if err != nil {
			return err
		}
		c.InErrors = snmp["Udp:InErrors"] + snmp6["Udp6InErrors"]
		c.NoPorts = snmp["Udp:NoPorts"] + snmp6["Udp6NoPorts"]
		return nil
	})
	return c, err
}

// parseSNMP reads /proc/net/snmp, where each protocol has a line of names
// followed by a line of values, into "Proto:Name" keys.
func parseSNMP(b []byte) (map[string]uint64, error) {
	m := make(map[string]uint64)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	for i := 0; i+1 < len(lines); i += 2 {
		names, values := strings.Fields(lines[i]), strings.Fields(lines[i+1])
		if len(names) != len(values) || len(names) == 0 || names[0] != values[0] {
			return nil, fmt.Errorf("malformed /proc/net/snmp near %q", lines[i])
		}
		for k := 1; k < len(names); k++ {
			// Some counters (Tcp:MaxConn) may be negative; they are not ours.
			v, _ := strconv.ParseUint(values[k], 10, 64)
			m[names[0]+names[k]] = v
		}
	}
	return m, nil
}

// parseSNMP6 reads /proc/net/snmp6, one "Name value" pair a line.
func parseSNMP6(b []byte) (map[string]uint64, error) {
	m := make(map[string]uint64)
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 2 {
			return nil, fmt.Errorf("malformed /proc/net/snmp6 line %q", sc.Text())
		}
		v, err := strconv.ParseUint(f[1], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("malformed /proc/net/snmp6 line %q", sc.Text())
		}
		m[f[0]] = v
	}
	return m, sc.Err()
}

// Settling bounds: how often settle polls, how long the counters must stay
// still to count as settled, and how long it waits at most.
const (
	settlePoll    = 2 * time.Millisecond
	settleQuiet   = 50 * time.Millisecond
	settleTimeout = 5 * time.Second
)

// settle waits until the packets sent to each side have been taken in by
// the kernel there, so that closing the sockets cannot turn late arrivals
// into ICMP errors. want[i] is the number of datagrams sent to side i and
// base[i] its counters before sending. settle returns the datagrams each
// side took in: all of them, or fewer once the counters have stayed still
// for settleQuiet (the rest were lost on the way). It fails when a
// datagram found no socket.
func (p *Pair) settle(base [2]udpCounters, want [2]int) ([2]int, error) {
	var got [2]int
	deadline := time.Now().Add(settleTimeout)
	still := time.Now()
	for {
		var now [2]udpCounters
		changed := false
		for i := range 2 {
			c, err := p.udp(i)
			if err != nil {
				return got, err
			}
			now[i] = c.sub(base[i])
			if now[i].NoPorts != 0 {
				return got, fmt.Errorf("%d datagrams reached no socket in %s", now[i].NoPorts, p.NS[i])
			}
			n := int(now[i].InErrors)
			changed = changed || n != got[i]
			got[i] = n
		}
		if got[0] >= want[0] && got[1] >= want[1] {
			return got, nil
		}
		t := time.Now()
		if changed {
			still = t
		}
		if t.Sub(still) >= settleQuiet || t.After(deadline) {
			return got, nil
		}
		time.Sleep(settlePoll)
	}
}
