//go:build linux

package testnet

import (
	"bufio"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/lc-voip/lc/internal/capture"
	"github.com/lc-voip/lc/internal/testenv"
)

// tcpdumpTimeout bounds every wait on tcpdump.
const tcpdumpTimeout = 10 * time.Second

// tcpdump is a tcpdump process writing a capture of one veth end.
type tcpdump struct {
	cmd  *exec.Cmd
	path string
	done chan struct{} // closed when tcpdump's stderr is closed

	mu     sync.Mutex
	stderr []string
}

// startTcpdump starts tcpdump on the veth end in namespace i and returns
// once it is capturing. A cleanup kills it if the test has not stopped it.
//
// Besides the usual options, it runs tcpdump with --immediate-mode, so
// that each packet reaches the file when it arrives rather than when the
// kernel's buffer block is handed over (which would lose the last packets
// on SIGINT), and with -Z root, so that it can still write into the
// test's root-owned temporary directory after dropping privileges, and
// with a 16 MiB buffer (-B), since writing packet by packet it falls
// behind a fast burst.
func startTcpdump(t *testing.T, p *Pair, i int) *tcpdump {
	t.Helper()
	testenv.Command(t, "tcpdump")
	d := &tcpdump{path: filepath.Join(t.TempDir(), "capture.pcap"), done: make(chan struct{})}
	d.cmd = p.Command(i, "tcpdump", "-i", p.Iface[i], "-w", d.path, "-U", "--immediate-mode",
		"--time-stamp-precision=nano", "-Z", "root", "-B", "16384")
	stderr, err := d.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := d.cmd.Start(); err != nil {
		t.Fatalf("start tcpdump: %v", err)
	}
	listening := make(chan struct{})
	go func() {
		defer close(d.done)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			d.mu.Lock()
			d.stderr = append(d.stderr, sc.Text())
			d.mu.Unlock()
			if strings.Contains(sc.Text(), "listening on") {
				close(listening)
			}
		}
	}()
	t.Cleanup(func() {
		if d.cmd.ProcessState == nil {
			d.cmd.Process.Kill()
			<-d.done
			d.cmd.Wait()
		}
	})
	select {
	case <-listening:
	case <-d.done:
		t.Fatalf("tcpdump ended before capturing: %s", d.output())
	case <-time.After(tcpdumpTimeout):
		t.Fatalf("tcpdump did not start capturing: %s", d.output())
	}
	return d
}

// output returns what tcpdump has written to stderr.
func (d *tcpdump) output() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return strings.Join(d.stderr, "; ")
}

// stop waits until the capture holds at least udp UDP packets (or gives
// up after a while), then stops tcpdump with SIGINT and returns the
// captured frames.
func (d *tcpdump) stop(t *testing.T, udp int) []capture.Packet {
	t.Helper()
	for deadline := time.Now().Add(tcpdumpTimeout); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		pkts, _ := readCapture(d.path)
		if summarize(pkts).udp >= udp {
			break
		}
	}
	if err := d.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatalf("stop tcpdump: %v", err)
	}
	select {
	case <-d.done:
	case <-time.After(tcpdumpTimeout):
		t.Fatalf("tcpdump did not stop: %s", d.output())
	}
	if err := d.cmd.Wait(); err != nil {
		t.Fatalf("tcpdump: %v: %s", err, d.output())
	}
	t.Logf("tcpdump: %s", d.output())
	pkts, err := readCapture(d.path)
	if err != nil {
		t.Fatal(err)
	}
	return pkts
}

// dropped returns what the stopped tcpdump reported as dropped by the
// kernel.
func (d *tcpdump) dropped(t *testing.T) int {
	t.Helper()
	out := d.output()
	i := strings.Index(out, " packets dropped by kernel")
	if i < 0 {
		t.Fatalf("tcpdump reported no drop count: %s", out)
	}
	n, err := strconv.Atoi(out[strings.LastIndexAny(out[:i], " \n")+1 : i])
	if err != nil {
		t.Fatalf("tcpdump's drop count: %v: %s", err, out)
	}
	return n
}

// readCapture returns the frames of the capture at path. For a capture
// still being written it returns the complete frames read so far together
// with the error.
func readCapture(path string) ([]capture.Packet, error) {
	f, err := capture.OpenFile(path, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var pkts []capture.Packet
	for {
		p, err := f.Next()
		if errors.Is(err, io.EOF) {
			return pkts, nil
		}
		if err != nil {
			return pkts, err
		}
		pkts = append(pkts, p)
	}
}

// frameSummary counts the frames of a capture by kind.
type frameSummary struct {
	udp, icmp, other int
	payloads         [][]byte // UDP payloads in capture order
	ports            [][2]uint16
	notEthernet      int
}

// summarize decodes frames with gopacket, independently of lc's decoder.
func summarize(pkts []capture.Packet) frameSummary {
	var s frameSummary
	for _, p := range pkts {
		if p.LinkType != uint16(layers.LinkTypeEthernet) {
			s.notEthernet++
			continue
		}
		pkt := gopacket.NewPacket(p.Data, layers.LayerTypeEthernet, gopacket.Default)
		switch {
		case pkt.Layer(layers.LayerTypeICMPv4) != nil, pkt.Layer(layers.LayerTypeICMPv6) != nil:
			s.icmp++
		case pkt.Layer(layers.LayerTypeUDP) != nil:
			u := pkt.Layer(layers.LayerTypeUDP).(*layers.UDP)
			s.udp++
			s.payloads = append(s.payloads, u.Payload)
			s.ports = append(s.ports, [2]uint16{uint16(u.SrcPort), uint16(u.DstPort)})
		default:
			s.other++
		}
	}
	return s
}
