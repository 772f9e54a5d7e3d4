//go:build linux

package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lc-voip/lc/internal/capture"
	"github.com/lc-voip/lc/internal/testenv"
	"github.com/lc-voip/lc/internal/testnet"
)

// livePair makes a namespace pair for a live capture test: root is a
// prerequisite, missing in a normal user's run, required in CI.
func livePair(t *testing.T) *testnet.Pair {
	t.Helper()
	p, err := testnet.NewPair(t)
	if err != nil {
		testenv.MissingPrerequisite(t, "live capture test: %v", err)
	}
	return p
}

// background is a process started by a test, its standard error kept.
type background struct {
	cmd    *exec.Cmd
	mu     sync.Mutex
	stderr bytes.Buffer
	lines  chan string
	done   chan error
}

// start runs cmd in a directory of its own and waits until a line of its
// standard error contains ready.
func start(t *testing.T, cmd *exec.Cmd, ready string) *background {
	t.Helper()
	cmd.Dir = t.TempDir()
	b := &background{cmd: cmd, lines: make(chan string, 1024), done: make(chan error, 1)}
	pipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			b.mu.Lock()
			b.stderr.WriteString(sc.Text() + "\n")
			b.mu.Unlock()
			select {
			case b.lines <- sc.Text():
			default:
			}
		}
		b.done <- cmd.Wait()
	}()
	t.Cleanup(func() { cmd.Process.Kill() })
	timeout := time.After(20 * time.Second)
	for {
		select {
		case line := <-b.lines:
			if strings.Contains(line, ready) {
				return b
			}
		case err := <-b.done:
			t.Fatalf("%s ended before it was ready: %v\n%s", cmd.Path, err, b.output())
		case <-timeout:
			t.Fatalf("%s not ready after 20 s:\n%s", cmd.Path, b.output())
		}
	}
}

func (b *background) output() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.stderr.String()
}

// stop interrupts the process and waits for it to end.
func (b *background) stop(t *testing.T) string {
	t.Helper()
	b.cmd.Process.Signal(syscall.SIGINT)
	select {
	case err := <-b.done:
		if err != nil {
			t.Fatalf("%s: %v\n%s", b.cmd.Path, err, b.output())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not stop within 30 s of SIGINT:\n%s", b.cmd.Path, b.output())
	}
	return b.output()
}

// waitForPackets waits until the capture at path holds n packets.
func waitForPackets(t *testing.T, path string, n int) {
	t.Helper()
	if got := awaitPackets(path, n, 10*time.Second); got < n {
		t.Fatalf("%s holds %d packets after 10 s, want %d", path, got, n)
	}
}

// awaitPackets waits up to d until the capture at path holds n packets,
// and returns how many it holds.
func awaitPackets(path string, n int, d time.Duration) int {
	deadline := time.Now().Add(d)
	got := countPackets(path)
	for got < n && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		got = countPackets(path)
	}
	return got
}

func countPackets(path string) int {
	f, err := capture.OpenFile(path, 0)
	if err != nil {
		return 0
	}
	defer f.Close()
	n := 0
	for {
		if _, err := f.Next(); err != nil {
			return n
		}
		n++
	}
}

// sendOne sends one UDP datagram from side 0 to a socket bound on side 1
// for it, so that no ICMP answers it.
func sendOne(t *testing.T, p *testnet.Pair, port uint16, payload []byte) {
	t.Helper()
	dst := netip.AddrPortFrom(p.Addr[1], port)
	var sink *net.UDPConn
	if err := p.Do(1, func() (err error) {
		sink, err = net.ListenUDP("udp", net.UDPAddrFromAddrPort(dst))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	if err := p.Do(0, func() error {
		c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(dst))
		if err != nil {
			return err
		}
		defer c.Close()
		_, err = c.Write(payload)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	sink.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, _, err := sink.ReadFromUDP(make([]byte, 2048)); err != nil {
		t.Fatalf("the datagram did not arrive: %v", err)
	}
}

// TestLiveCaptureMatchesTcpdump sends real SIP calls with RTP across a
// veth link between two network namespaces, captures them with lc -i and
// with tcpdump at the same time, then runs lc on tcpdump's file: files,
// events and hook runs must be the same, byte for byte. It does so on the
// veth itself (Ethernet frames), over IPv4 and IPv6, and on "any" (cooked,
// Linux SLL2 headers).
func TestLiveCaptureMatchesTcpdump(t *testing.T) {
	bin := buildLC(t)
	t.Run("veth", func(t *testing.T) { liveMatchesTcpdump(t, bin, false, false) })
	t.Run("veth-ipv6", func(t *testing.T) { liveMatchesTcpdump(t, bin, false, true) })
	t.Run("any", func(t *testing.T) { liveMatchesTcpdump(t, bin, true, false) })
}

func liveMatchesTcpdump(t *testing.T, bin string, any, ipv6 bool) {
	p := livePair(t)
	testenv.Command(t, "tcpdump")
	iface := p.Iface[1]
	if any {
		iface = "any"
	}
	dir := t.TempDir()
	pcap := filepath.Join(dir, "tcpdump.pcap")
	td := start(t, p.Command(1, "tcpdump", "-i", iface, "-w", pcap, "-U", "--immediate-mode",
		"--time-stamp-precision=nano", "-Z", "root", "-B", "16384", "-n"), "listening on")

	hooks := func(tag string) []string {
		log := filepath.Join(dir, tag+"-hooks.txt")
		return []string{
			"--events", filepath.Join(dir, tag+"-events.jsonl"),
			"--call-grace-period", "200ms",
			"--voip-command", "sh -c 'echo call \"$1\" \"$2\" \"$3\" \"$4\" >> " + log + "' sh %callid% %caller% %called% %state%",
			"--pcap-command", "sh -c 'echo file \"$(basename \"$1\")\" >> " + log + "' sh %pcap%",
		}
	}
	liveOut := filepath.Join(dir, "live")
	lc := start(t, p.Command(1, bin, append([]string{"process", "-i", iface, "-o", liveOut,
		"-f", "udp", "--status-interval", "0"}, hooks("live")...)...), "capturing")

	// tcpdump on "any" loses packets of back-to-back bursts; a small gap
	// keeps the reference capture whole.
	_, sent, err := p.SendCalls(testnet.Calls{N: 4, RTP: 25, Gap: 200 * time.Microsecond, IPv6: ipv6})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(400 * time.Millisecond) // past the grace period: the calls end
	sendOne(t, p, 5070, []byte("OPTIONS sip:ping@lc-test SIP/2.0\r\nCall-ID: ping@lc-test\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"))
	sent++
	waitForPackets(t, pcap, sent)
	liveLog := lc.stop(t)
	td.stop(t)
	if n := countPackets(pcap); n != sent {
		t.Fatalf("tcpdump captured %d packets, %d were sent", n, sent)
	}
	if !allReceived(t, liveLog, sent) {
		return
	}

	fileOut := filepath.Join(dir, "file")
	code, _, stderr := run(t, nil, append([]string{"process", "-r", pcap, "-o", fileOut, "-f", "udp"}, hooks("file")...)...)
	if code != 0 {
		t.Fatalf("lc -r: exit %d\n%s", code, stderr)
	}

	liveTree, fileTree := tree(t, liveOut), tree(t, fileOut)
	if len(liveTree) == 0 || !slices.Equal(liveTree, fileTree) {
		t.Errorf("output trees differ:\nlive: %v\nfile: %v", liveTree, fileTree)
	}
	liveEvents := sameOut(readFile(t, filepath.Join(dir, "live-events.jsonl")), liveOut)
	fileEvents := sameOut(readFile(t, filepath.Join(dir, "file-events.jsonl")), fileOut)
	if liveEvents != fileEvents {
		t.Errorf("events differ:\nlive:\n%s\nfile:\n%s", liveEvents, fileEvents)
	}
	if n := strings.Count(liveEvents, `"call_completed"`); n != 4 {
		t.Errorf("%d call_completed events, want 4", n)
	}
	liveHooks, fileHooks := sortedLines(t, filepath.Join(dir, "live-hooks.txt")), sortedLines(t, filepath.Join(dir, "file-hooks.txt"))
	if len(liveHooks) != 4+4*2+1 || !slices.Equal(liveHooks, fileHooks) {
		t.Errorf("hook runs differ (want 4 calls, 8 call files, 1 other file):\nlive: %q\nfile: %q", liveHooks, fileHooks)
	}
}

// allReceived fails the test unless lc's summary in log accounts for
// every packet sent, as received or dropped, and processed every packet it
// received; it reports whether lc received them all. A busy machine can
// fill the ring: lc's capture and a reference capture then hold different
// packets, and their outputs cannot be compared.
func allReceived(t *testing.T, log string, sent int) bool {
	t.Helper()
	received, kernel, ifaceDrops := parseCapture(t, log)
	if received+kernel+ifaceDrops != int64(sent) || parsePackets(t, log) != received {
		t.Fatalf("%d sent, but lc counts %d received, %d kernel drops, %d interface drops:\n%s", sent, received, kernel, ifaceDrops, log)
	}
	if received != int64(sent) {
		t.Logf("lc received %d of %d packets: outputs not compared", received, sent)
		return false
	}
	return true
}

// tree lists the files under root with a hash of their contents.
func tree(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := walkOutput(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		rel, _ := filepath.Rel(root, path)
		out = append(out, fmt.Sprintf("%s %x", rel, sha256.Sum256(b)))
		return err
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	return out
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func sortedLines(t *testing.T, path string) []string {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(readFile(t, path)), "\n")
	slices.Sort(lines)
	return lines
}

// TestLiveUnprivileged runs lc as the service unit does: as an ordinary
// user whose only capability is CAP_NET_RAW (ambient, bounding set reduced
// to it, no new privileges). lc captures, then drops the capability, so
// its hooks run with none. Started as root with --user, lc opens the
// socket first and then captures as that user, hooks too. Without the
// capability, lc says what is missing.
func TestLiveUnprivileged(t *testing.T) {
	p := livePair(t)
	bin := buildLC(t)
	base := t.TempDir()
	for d := base; d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
		os.Chmod(d, 0o755) // nobody must reach the output directory
	}
	os.Chmod(base, 0o777)
	setpriv := []string{"--reuid=65534", "--regid=65534", "--clear-groups", "--no-new-privs", "--reset-env"}
	withRaw := append(slices.Clone(setpriv), "--inh-caps=-all,+net_raw", "--ambient-caps=+net_raw", "--bounding-set=-all,+net_raw")
	lcArgs := func(name string) []string {
		return []string{bin, "process", "-i", p.Iface[1], "-o", filepath.Join(base, name), "--call-grace-period", "100ms",
			"--voip-command", "sh -c '{ id -u; grep ^Cap /proc/self/status; } > " + filepath.Join(base, name+"-hook") + "'"}
	}
	for _, tc := range []struct {
		name, logs string
		cmd        []string
	}{
		{"ambient", "capabilities dropped after opening the capture", append(append([]string{"setpriv"}, withRaw...), lcArgs("ambient")...)},
		{"user", "running as user", append(lcArgs("user"), "--user", "nobody")},
	} {
		lc := start(t, p.Command(1, tc.cmd[0], tc.cmd[1:]...), "capturing")
		if _, _, err := p.SendCalls(testnet.Calls{N: 1, RTP: 5}); err != nil {
			t.Fatal(err)
		}
		hook := filepath.Join(base, tc.name+"-hook")
		deadline := time.Now().Add(10 * time.Second)
		for !fileExists(hook) && time.Now().Before(deadline) { // the call ends by the clock tick alone
			time.Sleep(50 * time.Millisecond)
		}
		log := lc.stop(t)
		if !strings.Contains(log, tc.logs) || !strings.Contains(log, "completed 1") {
			t.Errorf("%s: lc did not capture the call or did not give up its privileges:\n%s", tc.name, log)
		}
		status := readFile(t, hook)
		if !strings.HasPrefix(status, "65534\n") {
			t.Errorf("%s: the hook ran as uid %q, want 65534", tc.name, strings.SplitN(status, "\n", 2)[0])
		}
		for _, set := range []string{"CapInh", "CapPrm", "CapEff", "CapAmb"} {
			if !strings.Contains(status, set+":\t0000000000000000") {
				t.Errorf("%s: the hook ran with %s set:\n%s", tc.name, set, status)
			}
		}
	}

	cmd := p.Command(1, "setpriv", append(setpriv, lcArgs("none")...)...)
	out, err := cmd.CombinedOutput()
	if code := cmd.ProcessState.ExitCode(); code != exitError || !strings.Contains(string(out), "capture on "+p.Iface[1]+": opening a packet socket: operation not permitted (capturing needs root or CAP_NET_RAW)") {
		t.Errorf("without CAP_NET_RAW: exit %d (%v)\n%s", code, err, out)
	}
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// TestLiveFilter: the filter runs in the kernel, so lc receives only what
// it keeps, as its metrics say while it runs; a filter that cannot apply
// to the interface's link layer is a usage error naming it.
func TestLiveFilter(t *testing.T) {
	p := livePair(t)
	bin := buildLC(t)
	lc := start(t, p.Command(1, bin, "process", "-i", p.Iface[1], "-o", t.TempDir(), "-f", "udp port 5060",
		"--metrics-addr", "127.0.0.1:0"), "capturing")
	if _, _, err := p.SendCalls(testnet.Calls{N: 2, RTP: 5}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // the last ring block is handed over
	addr := regexp.MustCompile(`"serving metrics" addr=(\S+)`).FindStringSubmatch(lc.output())
	if addr == nil {
		t.Fatalf("no metrics address logged:\n%s", lc.output())
	}
	var scrape []byte
	if err := p.Do(1, func() error {
		// Dialled here, on the thread inside the namespace: an
		// http.Client would dial from another goroutine, outside it.
		conn, err := net.Dial("tcp", addr[1])
		if err != nil {
			return err
		}
		defer conn.Close()
		fmt.Fprintf(conn, "GET /metrics HTTP/1.0\r\nHost: %s\r\n\r\n", addr[1])
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		scrape, err = io.ReadAll(resp.Body)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		fmt.Sprintf(`lc_capture_received_packets_total{interface="%s"} 14`, p.Iface[1]),
		fmt.Sprintf(`lc_capture_kernel_drops_total{interface="%s"} 0`, p.Iface[1]),
		fmt.Sprintf(`lc_capture_interface_drops_total{interface="%s"} 0`, p.Iface[1]),
	} {
		if !strings.Contains(string(scrape), want+"\n") {
			t.Errorf("scrape lacks %q", want)
		}
	}
	log := lc.stop(t)
	if received, kernel, _ := parseCapture(t, log); received != 14 || kernel != 0 {
		t.Errorf("received %d, dropped %d; want the 14 SIP packets of 2 calls and no RTP:\n%s", received, kernel, log)
	}

	// --snaplen truncates in the kernel: every record keeps 64 bytes and
	// the length on the wire.
	short := t.TempDir()
	lc = start(t, p.Command(1, bin, "process", "-i", p.Iface[1], "-o", short, "-f", "udp port 5060", "--snaplen", "64"), "capturing")
	if _, _, err := p.SendCalls(testnet.Calls{N: 1, RTP: 5}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	lc.stop(t)
	records := 0
	walkOutput(short, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		f, err := capture.OpenFile(path, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		for {
			pkt, err := f.Next()
			if err != nil {
				return nil
			}
			records++
			if pkt.Info.CaptureLength != 64 || pkt.Info.Length <= 64 {
				t.Errorf("%s: record of %d bytes of %d, want 64 of more", path, pkt.Info.CaptureLength, pkt.Info.Length)
			}
		}
	})
	if records != 7 {
		t.Errorf("%d records written with --snaplen 64, want the 7 SIP packets", records)
	}

	cmd := p.Command(1, bin, "process", "-i", "any", "-o", t.TempDir(), "-f", "ether host 02:00:00:00:00:01")
	out, _ := cmd.CombinedOutput()
	if code := cmd.ProcessState.ExitCode(); code != exitUsage || !strings.Contains(string(out), `filter "ether host 02:00:00:00:00:01"`) {
		t.Errorf("a link-layer filter on any: exit %d\n%s", code, out)
	}
}

// TestLiveTwoInterfaces captures as on a network tap with one port per
// direction: a second veth link carries everything B sends to A, so lc,
// capturing on both of B's ends, gets each call's requests on one
// interface and its responses on the other, in blocks that the kernel
// hands over independently. The events must equal those of lc on tcpdump's
// "any" capture of the same traffic, where the kernel gave one ordered
// stream, but for file sizes (SLL2 headers there, Ethernet here), and
// nothing may be out of order.
func TestLiveTwoInterfaces(t *testing.T) {
	p := livePair(t)
	bin := buildLC(t)
	back := [2]string{"lcw0", "lcw1"}
	mac := [2]string{"02:6c:64:00:00:01", "02:6c:64:00:00:02"}
	steps := [][]string{
		{"0", "ip", "link", "add", back[0], "address", mac[0], "type", "veth", "peer", "name", back[1], "address", mac[1], "netns", p.NS[1]},
	}
	for i := range 2 {
		n := fmt.Sprint(i)
		steps = append(steps,
			[]string{n, "ip", "link", "set", back[i], "addrgenmode", "none", "arp", "off", "up"},
			[]string{n, "sysctl", "-qw", "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf." + back[i] + ".rp_filter=0"})
	}
	steps = append(steps, // B reaches A over the second link
		[]string{"1", "ip", "route", "add", p.Addr[0].String() + "/32", "dev", back[1]},
		[]string{"1", "ip", "neigh", "replace", p.Addr[0].String(), "lladdr", mac[0], "dev", back[1], "nud", "permanent"})
	for _, s := range steps {
		i := int(s[0][0] - '0')
		if out, err := p.Command(i, s[1], s[2:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", s[1:], err, out)
		}
	}

	dir := t.TempDir()
	pcap := filepath.Join(dir, "tcpdump.pcap")
	td := start(t, p.Command(1, "tcpdump", "-i", "any", "-w", pcap, "-U", "--immediate-mode",
		"--time-stamp-precision=nano", "-Z", "root", "-B", "16384", "-n"), "listening on")
	liveOut, liveEvents := filepath.Join(dir, "live"), filepath.Join(dir, "live.jsonl")
	lc := start(t, p.Command(1, bin, "process", "-i", p.Iface[1], "-i", back[1], "-o", liveOut,
		"--events", liveEvents, "--call-grace-period", "200ms"), "capturing")
	_, sent, err := p.SendCalls(testnet.Calls{N: 4, RTP: 25, Gap: 200 * time.Microsecond})
	if err != nil {
		t.Fatal(err)
	}
	waitForPackets(t, pcap, sent)
	time.Sleep(500 * time.Millisecond) // the calls end by the clock
	log := lc.stop(t)
	td.stop(t)
	if strings.Contains(log, "out-of-order") || !strings.Contains(log, "completed 4") {
		t.Errorf("lc on two interfaces:\n%s", log)
	}
	for _, iface := range []string{p.Iface[1], back[1]} {
		if !strings.Contains(log, "capture on "+iface+": ") {
			t.Errorf("no capture line for %s:\n%s", iface, log)
		}
	}

	fileOut, fileEvents := filepath.Join(dir, "file"), filepath.Join(dir, "file.jsonl")
	if code, _, stderr := run(t, nil, "process", "-r", pcap, "-o", fileOut, "--events", fileEvents, "--call-grace-period", "200ms"); code != 0 {
		t.Fatalf("lc -r: exit %d\n%s", code, stderr)
	}
	sizes := regexp.MustCompile(`"bytes":\d+,`)
	live := sizes.ReplaceAllString(sameOut(readFile(t, liveEvents), liveOut), "")
	file := sizes.ReplaceAllString(sameOut(readFile(t, fileEvents), fileOut), "")
	if live != file || strings.Count(live, `"call_completed"`) != 4 {
		t.Errorf("events differ:\nlive:\n%s\nfile:\n%s", live, file)
	}
}

// TestLiveInterfaceDownAndGone: an interface that goes down is waited for
// without burning CPU, and capture goes on when it comes back; one that
// disappears ends the run with status 1 naming it, after the calls already
// seen have been written and their hooks run.
func TestLiveInterfaceDownAndGone(t *testing.T) {
	p := livePair(t)
	bin := buildLC(t)
	dir := t.TempDir()
	hook := filepath.Join(dir, "calls.txt")
	lc := start(t, p.Command(1, bin, "process", "-i", p.Iface[1], "-o", filepath.Join(dir, "out"), "--call-grace-period", "100ms",
		"--voip-command", "sh -c 'echo \"$1\" \"$2\" >> "+hook+"' sh %callid% %state%"), "capturing")
	if _, _, err := p.SendCalls(testnet.Calls{N: 1, RTP: 5}); err != nil {
		t.Fatal(err)
	}
	ip := func(args ...string) {
		t.Helper()
		if out, err := p.Command(1, "ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v\n%s", args, err, out)
		}
	}
	ip("link", "set", p.Iface[1], "down")
	waitFor(t, lc, "interface went down")
	before := cpuTime(t, lc.cmd.Process.Pid)
	time.Sleep(time.Second)
	if used := cpuTime(t, lc.cmd.Process.Pid) - before; used > 200*time.Millisecond {
		t.Errorf("lc used %v of CPU in 1 s waiting for the interface", used)
	}
	ip("link", "set", p.Iface[1], "up")
	sendOne(t, p, 5070, []byte("OPTIONS sip:ping@lc-test SIP/2.0\r\nCall-ID: ping@lc-test\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"))
	waitFor(t, lc, "interface is up again")

	if out, err := p.Command(0, "ip", "link", "del", p.Iface[0]).CombinedOutput(); err != nil { // both ends go
		t.Fatalf("%v\n%s", err, out)
	}
	select {
	case err := <-lc.done:
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != exitError {
			t.Errorf("lc ended with %v, want exit status %d", err, exitError)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("lc still runs after its interface disappeared:\n%s", lc.output())
	}
	log := lc.output()
	for _, want := range []string{"lc: capture on " + p.Iface[1] + ": the interface is gone", "completed 1", "1 other"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	if got := readFile(t, hook); got != "call-0@lc-test completed\n" {
		t.Errorf("hook runs: %q", got)
	}
}

// waitFor waits until the process has logged want.
func waitFor(t *testing.T, b *background, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(b.output(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q after 10 s:\n%s", want, b.output())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// procStat returns the fields of /proc/PID/stat after the process's name,
// from its state on: the state is f[0].
func procStat(pid int) ([]string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil, err
	}
	return strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:])), nil
}

// cpuTime is the user and system time a process has used so far.
func cpuTime(t *testing.T, pid int) time.Duration {
	t.Helper()
	f, err := procStat(pid)
	if err != nil {
		t.Fatal(err)
	}
	var user, sys int64
	fmt.Sscan(f[11], &user) // utime and stime, fields 14 and 15, in clock ticks
	fmt.Sscan(f[12], &sys)
	return time.Duration(user+sys) * time.Second / 100
}
