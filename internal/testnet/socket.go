//go:build linux

package testnet

import (
	"errors"
	"fmt"
	"net"
	"net/netip"

	"golang.org/x/sys/unix"
)

// listen opens one UDP socket in namespace i for each address in addrs,
// all or none. Every socket discards what it receives: a socket filter
// that accepts nothing drops each datagram as it arrives, so the port is
// bound (the kernel answers no ICMP port unreachable) without anyone
// having to read it. The drops are counted as UDP InErrors of the
// namespace, which is how settle sees that datagrams arrived.
func (p *Pair) listen(i int, addrs ...netip.AddrPort) ([]*net.UDPConn, error) {
	conns := make([]*net.UDPConn, 0, len(addrs))
	err := p.Do(i, func() error {
		for _, a := range addrs {
			c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(a))
			if err != nil {
				return fmt.Errorf("listen on %s in %s: %w", a, p.NS[i], err)
			}
			conns = append(conns, c)
			if err := discardInput(c); err != nil {
				return fmt.Errorf("discard input of %s in %s: %w", a, p.NS[i], err)
			}
		}
		return nil
	})
	if err != nil {
		closeAll(conns)
		return nil, err
	}
	return conns, nil
}

// discardInput attaches a classic BPF socket filter to c that accepts no
// packet ("ret #0").
func discardInput(c *net.UDPConn) error {
	rc, err := c.SyscallConn()
	if err != nil {
		return err
	}
	drop := []unix.SockFilter{{Code: unix.BPF_RET | unix.BPF_K, K: 0}}
	prog := unix.SockFprog{Len: uint16(len(drop)), Filter: &drop[0]}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptSockFprog(int(fd), unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &prog)
	}); err != nil {
		return err
	}
	return serr
}

// closeAll closes every connection and returns the errors joined.
func closeAll(conns []*net.UDPConn) error {
	var errs []error
	for _, c := range conns {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}
