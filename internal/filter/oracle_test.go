package filter

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/lc-voip/lc/internal/testenv"
	"golang.org/x/net/bpf"
)

// oracleExprs are compiled by tcpdump and by this package on every link,
// and both programs must agree on every packet of the corpus.
var oracleExprs = []string{
	"",
	"ip",
	"ip6",
	"arp",
	"rarp",
	"tcp",
	"udp",
	"sctp",
	"icmp",
	"icmp6",
	"udp port 5060",
	"port 5060",
	"tcp port 80 or 443",
	"udp port 5060 or 5080",
	"not port 22 and not 53",
	"src port 5060",
	"dst port 5060",
	"tcp src port 80",
	"sctp dst port 2905",
	"src or dst port 5060",
	"src and dst port 5060",
	"portrange 10000-20000",
	"udp portrange 20000-10000",
	"tcp src portrange 1-1024",
	"udp port 5060 or udp portrange 10000-20000",
	"udp portrange 0-65535",
	"port 0",
	"host 10.0.0.1",
	"host 10.0.0.1 or 10.0.0.2",
	"src host 10.0.0.1",
	"dst host 192.168.1.1",
	"src and dst host 10.0.0.2",
	"ip host 10.0.0.1",
	"arp host 10.0.0.1",
	"rarp src host 10.0.0.1",
	"host ::1",
	"host 2001:db8::1",
	"ip6 src host fe80::1",
	"host ::ffff:1.2.3.4",
	"net 10.0.0.0/8",
	"net 10.1",
	"dst net 192.168.0.0/16",
	"net 10.0.0.0 mask 255.0.0.0",
	"net 0.0.0.0/0",
	"net 2001:db8::/32",
	"net 2001:db8:1000::/36",
	"ip6 net ::/0",
	"ip proto 17",
	`ip proto \tcp`,
	"ip6 proto 17",
	"proto 132",
	"ip6 proto 44",
	"ether proto 0x0800",
	`ether proto \arp`,
	"ether host 00:11:22:33:44:55",
	"ether src 00:11:22:33:44:55",
	"ether dst 00:11:22:33:44:55 or ff:ff:ff:ff:ff:ff",
	"less 100",
	"greater 200",
	"vlan",
	"vlan 100",
	"vlan and udp port 5060",
	"vlan 100 and host 10.0.0.1",
	"udp port 5060 or vlan and tcp",
	"vlan and vlan 100 and ip6",
	"(tcp or udp) and not icmp",
	"not (udp and port 5060)",
	"host 10.0.0.1 and (port 5060 or 5080)",
	"host 10.0.0.1 and (port 22) or 10.0.0.2",
	"port 80 and (tcp) or 5060",
	"udp port 5060 or not udp port 5060",
	"ip and not ip",
	"arp or udp",
	"ip && !tcp || ip6 && udp",
	"icmp or icmp6 or arp",
	"tcp port 5060 and host 10.0.0.1 or udp port 5080 and not src net 10.0.0.0/8",
	"host 10.0.0.1 or host 10.0.0.2 or host 192.168.1.1",
	"port 5060 or port 5061 or portrange 10000-10010",
	"(udp and (port 5060 or 5080)) or (tcp and (port 80 or 443))",
	"src host 10.0.0.1 and dst host 10.0.0.2 or src host 10.0.0.2 and dst host 10.0.0.1",
	"not (host 10.0.0.1 or host 10.0.0.2) and udp",
	"ip6 and (host 2001:db8::1 or host 2001:db8::2) and udp port 5060",
	"vlan and (host 10.0.0.1 or host 10.0.0.2)",
	"net 192.168.0.0/16 and not net 192.168.1.0/24",
	"udp and not (src port 5060 and dst port 5060)",
	"(ether host 00:11:22:33:44:55 or ether host 02:00:5e:10:00:01) and ip",
}

// deviates reports whether err is one of the errors this package gives
// where libpcap compiles a program: libpcap maps ether proto ip and ip6 to
// the version nibble on raw IP, and rejects everything for other
// EtherTypes, where every ether primitive is an error here.
func deviates(l Link, err error) bool {
	var e *Error
	return l == Raw && errors.As(err, &e) && strings.HasPrefix(e.Msg, "ether proto")
}

// TestOracle compares programs with tcpdump's on four link types.
//
// With the shared captures present it compares 5,995,977 (expression,
// packet) pairs: each of the 86 expressions that compiles on a link, on
// that link's 19,375 to 20,243 packets. These are the shared captures of
// the link, the shared Ethernet frames reframed for it, and the 3,112
// prefixes of the 38 synthetic frames reframed for it.
func TestOracle(t *testing.T) {
	tcpdump := testenv.Command(t, "tcpdump")
	shared := sharedPackets(t)
	var pairs atomic.Int64
	t.Run("links", func(t *testing.T) {
		for _, lt := range oracleLinks {
			t.Run(lt.link.String(), func(t *testing.T) {
				t.Parallel()
				empty := emptyPcap(t, lt.linktype)
				pkts := corpus(shared, lt.link)
				for _, expr := range oracleExprs {
					n := compareWithTcpdump(t, tcpdump, empty, expr, lt.link, pkts)
					pairs.Add(int64(n))
				}
			})
		}
	})
	t.Logf("compared %d (expression, packet) pairs", pairs.Load())
}

// oracleLinks are the links compared with tcpdump, with their LINKTYPE_.
var oracleLinks = []struct {
	link     Link
	linktype uint32
}{{Ethernet, 1}, {LinuxSLL, 113}, {LinuxSLL2, 276}, {Raw, 101}}

// TestOracleRandom compares programs with tcpdump's for random
// combinations of primitives, which exercise the optimizer's rewrites in
// ways a fixed list does not, on every prefix of the synthetic frames.
func TestOracleRandom(t *testing.T) {
	tcpdump := testenv.Command(t, "tcpdump")
	rng := rand.New(rand.NewPCG(2024, 1))
	for _, lt := range oracleLinks {
		empty := emptyPcap(t, lt.linktype)
		pkts := corpus(nil, lt.link)
		for range 40 {
			compareWithTcpdump(t, tcpdump, empty, randomExpr(rng, 3), lt.link, pkts)
		}
	}
}

// randomPrims are the primitives random expressions are built from.
var randomPrims = []string{
	"ip", "ip6", "arp", "tcp", "udp", "sctp", "icmp", "icmp6",
	"port 5060", "port 80", "src port 5060", "dst port 5080", "udp port 5060", "tcp port 80",
	"portrange 10000-20000", "udp dst portrange 1-1024",
	"host 10.0.0.1", "host 10.0.0.2", "src host 10.0.0.1", "dst host 192.168.1.1", "arp host 10.0.0.1",
	"host 2001:db8::1", "dst host ::1", "net 10.0.0.0/8", "net 2001:db8::/32", "src net 192.168.0.0/16",
	"ip proto 17", "ip6 proto 6", "proto 132",
	"ether proto 0x86dd", "ether host 00:11:22:33:44:55",
	"less 100", "greater 60", "vlan", "vlan 100",
}

// randomExpr returns a random expression of primitives joined by and, or
// and not, up to depth levels deep.
func randomExpr(rng *rand.Rand, depth int) string {
	if depth == 0 || rng.IntN(3) == 0 {
		p := randomPrims[rng.IntN(len(randomPrims))]
		if rng.IntN(4) == 0 {
			p = "not " + p
		}
		return p
	}
	var b strings.Builder
	for i := range 2 + rng.IntN(2) {
		if i > 0 {
			b.WriteString([]string{" and ", " or "}[rng.IntN(2)])
		}
		sub := randomExpr(rng, depth-1)
		switch rng.IntN(3) {
		case 0:
			b.WriteString("(" + sub + ")")
		case 1:
			b.WriteString("not (" + sub + ")")
		default:
			b.WriteString(sub)
		}
	}
	return b.String()
}

// compareWithTcpdump checks one expression on one link and returns the
// number of packets compared.
func compareWithTcpdump(t *testing.T, tcpdump, empty, expr string, l Link, pkts [][]byte) int {
	t.Helper()
	want, tdErr := tcpdumpProgram(t, tcpdump, empty, expr)
	f, err := Parse(expr)
	if err != nil {
		t.Errorf("Parse(%q): %v", expr, err)
		return 0
	}
	got, err := f.Compile(l, 262144)
	switch {
	case err != nil && tdErr != nil:
		return 0
	case err != nil:
		if deviates(l, err) {
			return 0
		}
		t.Errorf("%q on %s: Compile: %v; tcpdump accepts it", expr, l, err)
		return 0
	case tdErr != nil:
		if strings.Contains(tdErr.Error(), "rejects all packets") {
			// libpcap's optimizer proved what ours did not; the
			// program must still reject everything.
			want = []bpf.RawInstruction{{Op: 6, K: 0}}
			break
		}
		t.Errorf("%q on %s: tcpdump fails (%v) but Compile succeeds", expr, l, tdErr)
		return 0
	}
	vmWant, vmGot := newVM(t, want), newVM(t, got)
	bad := 0
	for _, p := range pkts {
		w, _ := vmWant.Run(p)
		g, _ := vmGot.Run(p)
		if (w > 0) != (g > 0) {
			bad++
			if bad <= 3 {
				t.Errorf("%q on %s: tcpdump accepts=%v, Compile accepts=%v for %d bytes: % x", expr, l, w > 0, g > 0, len(p), p[:min(len(p), 80)])
			}
		}
	}
	if bad > 0 {
		t.Errorf("%q on %s: %d of %d packets differ; program:\n%s", expr, l, bad, len(pkts), disasm(got))
	}
	return len(pkts)
}

// tcpdumpProgram returns tcpdump's program for expr, read with -ddd.
func tcpdumpProgram(t *testing.T, tcpdump, empty, expr string) ([]bpf.RawInstruction, error) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), tcpdump, "-ddd", "-r", empty, expr)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%w: %s", err, strings.TrimSpace(stderr.String()))
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	n, err := strconv.Atoi(lines[0])
	if err != nil || n != len(lines)-1 {
		t.Fatalf("tcpdump -ddd %q: unexpected output %q", expr, stdout.String())
	}
	prog := make([]bpf.RawInstruction, n)
	for i, line := range lines[1:] {
		var op, jt, jf, k uint64
		if _, err := fmt.Sscan(line, &op, &jt, &jf, &k); err != nil {
			t.Fatalf("tcpdump -ddd %q: line %q: %v", expr, line, err)
		}
		prog[i] = bpf.RawInstruction{Op: uint16(op), Jt: uint8(jt), Jf: uint8(jf), K: uint32(k)}
	}
	return prog, nil
}

// emptyPcap writes a pcap file header with the given link type and no
// packets, for tcpdump to read the link type from.
func emptyPcap(t *testing.T, linktype uint32) string {
	t.Helper()
	h := make([]byte, 24)
	binary.LittleEndian.PutUint32(h[0:], 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(h[4:], 2)
	binary.LittleEndian.PutUint16(h[6:], 4)
	binary.LittleEndian.PutUint32(h[16:], 262144)
	binary.LittleEndian.PutUint32(h[20:], linktype)
	path := filepath.Join(t.TempDir(), "empty.pcap")
	if err := os.WriteFile(path, h, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func newVM(t testing.TB, raw []bpf.RawInstruction) *bpf.VM {
	t.Helper()
	prog, ok := bpf.Disassemble(raw)
	if !ok {
		t.Fatalf("cannot disassemble %v", raw)
	}
	vm, err := bpf.NewVM(prog)
	if err != nil {
		t.Fatalf("NewVM: %v\n%s", err, disasm(raw))
	}
	return vm
}

// disasm renders a program one instruction a line, for failure messages.
func disasm(raw []bpf.RawInstruction) string {
	prog, _ := bpf.Disassemble(raw)
	var b strings.Builder
	for i, ins := range prog {
		fmt.Fprintf(&b, "(%03d) %v\n", i, ins)
	}
	return b.String()
}
