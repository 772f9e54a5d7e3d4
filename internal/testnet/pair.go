//go:build linux

package testnet

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
)

// ErrNotRoot is returned by NewPair when the process is not running as
// root, which creating namespaces requires. Callers usually skip the test.
var ErrNotRoot = errors.New("network namespaces need root")

// Interface names inside the namespaces. Each namespace has its own set of
// names, so every Pair can use the same two.
const (
	ifaceA = "lcv0"
	ifaceB = "lcv1"
)

// pairSeq numbers the pairs made by this process, so that the namespace
// names of concurrent tests differ.
var pairSeq atomic.Uint64

// Pair is two network namespaces joined by one veth link. Index 0 is side
// A, index 1 is side B. Nothing is added to the namespace the test runs
// in: no interface, address or route.
//
// Side i holds the veth end Iface[i], Ethernet address MAC[i]
// (02:6c:63:x:y:01 or :02), with the addresses Addr[i] (10.x.y.1 or
// 10.x.y.2 in a /30, for random bytes x and y) and Addr6[i]
// (fd00:0:0:xy::1 or ::2 in a /64, with x and y as one group, added
// without duplicate address detection), and its loopback up. The link
// is quiet: the veths have no link-local address and ARP turned off, and
// each side has a permanent neighbour entry for the other, so nothing
// crosses the link but what a test sends (no ARP, neighbour discovery,
// router solicitation or MLD).
//
// NewPair sets the fields; they must not be changed. Command and Do may
// be called from several goroutines. SendCalls and Blast bind fixed ports,
// so only one of them may run on a Pair at a time.
type Pair struct {
	NS    [2]string           // namespace names, as "ip netns list" shows them
	Iface [2]string           // veth end inside each namespace
	MAC   [2]net.HardwareAddr // Ethernet address of each veth end
	Addr  [2]netip.Addr       // IPv4 address of each veth end
	Addr6 [2]netip.Addr       // IPv6 address of each veth end
}

// NewPair creates a Pair and registers a cleanup on tb that deletes both
// namespaces, which also removes the veth link. The namespaces are named
// lc-<pid>-<n>-a and lc-<pid>-<n>-b.
//
// It returns ErrNotRoot when not running as root, and an error naming the
// failing command when ip(8) is missing or refuses (inside a container
// without CAP_SYS_ADMIN, for example); the caller decides whether that
// skips or fails the test. Whatever was created before a failure is
// removed by the cleanup.
func NewPair(tb testing.TB) (*Pair, error) {
	tb.Helper()
	if os.Geteuid() != 0 {
		return nil, ErrNotRoot
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return nil, fmt.Errorf("find ip: %w", err)
	}
	base := fmt.Sprintf("lc-%d-%d", os.Getpid(), pairSeq.Add(1))
	x, y := byte(rand.IntN(256)), byte(rand.IntN(256))
	p := &Pair{
		NS:    [2]string{base + "-a", base + "-b"},
		Iface: [2]string{ifaceA, ifaceB},
		Addr: [2]netip.Addr{
			netip.AddrFrom4([4]byte{10, x, y, 1}),
			netip.AddrFrom4([4]byte{10, x, y, 2}),
		},
		Addr6: [2]netip.Addr{
			netip.AddrFrom16([16]byte{0xfd, 0, 0, 0, 0, 0, x, y, 15: 1}),
			netip.AddrFrom16([16]byte{0xfd, 0, 0, 0, 0, 0, x, y, 15: 2}),
		},
		MAC: [2]net.HardwareAddr{
			{0x02, 'l', 'c', x, y, 1},
			{0x02, 'l', 'c', x, y, 2},
		},
	}
	for _, ns := range p.NS {
		if err := ip(nil, "netns", "add", ns); err != nil {
			return nil, err
		}
		tb.Cleanup(func() {
			if err := ip(nil, "netns", "delete", ns); err != nil {
				tb.Errorf("remove test namespace: %v", err)
			}
		})
	}
	// The veth is created inside A with its peer placed in B by the same
	// request, so neither end ever exists in the caller's namespace.
	link := fmt.Sprintf("link add %s address %s type veth peer name %s address %s netns %s\n",
		p.Iface[0], p.MAC[0], p.Iface[1], p.MAC[1], p.NS[1])
	for i := range 2 {
		script := p.setup(i)
		if i == 0 {
			script = link + script
		}
		if err := ip(strings.NewReader(script), "-n", p.NS[i], "-batch", "-"); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// setup returns the ip(8) batch that configures side i once its veth end
// exists. Links come up before the neighbour entries are added, since
// taking a link down flushes them.
func (p *Pair) setup(i int) string {
	j := 1 - i
	dev := p.Iface[i]
	var b strings.Builder
	// No link-local address means no router solicitation; with ARP off
	// the kernel joins no solicited-node group, so it sends no MLD report.
	fmt.Fprintf(&b, "link set %s addrgenmode none arp off\n", dev)
	fmt.Fprintf(&b, "addr add %s/30 dev %s\n", p.Addr[i], dev)
	fmt.Fprintf(&b, "addr add %s/64 dev %s nodad\n", p.Addr6[i], dev)
	fmt.Fprintf(&b, "link set lo up\n")
	fmt.Fprintf(&b, "link set %s up\n", dev)
	fmt.Fprintf(&b, "neigh replace %s lladdr %s dev %s nud permanent\n", p.Addr[j], p.MAC[j], dev)
	fmt.Fprintf(&b, "neigh replace %s lladdr %s dev %s nud permanent\n", p.Addr6[j], p.MAC[j], dev)
	return b.String()
}

// Command returns a command that runs name with args inside namespace i
// (0 or 1) through "ip netns exec". ip execs the program in place, so the
// command's process is the program itself and signals sent to it arrive
// there. ip netns exec also gives the program its own mount namespace
// with /sys of namespace i.
func (p *Pair) Command(i int, name string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", p.NS[i], name}, args...)...)
}

// ip runs ip(8) with args, feeding it stdin when not nil, and returns an
// error carrying its output when it fails.
func ip(stdin io.Reader, args ...string) error {
	cmd := exec.Command("ip", args...)
	cmd.Stdin = stdin
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, bytes.TrimSpace(out.Bytes()))
	}
	return nil
}
