//go:build linux

package main

import (
	"bytes"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lc-voip/lc/internal/capture"
	"github.com/lc-voip/lc/internal/testenv"
	"github.com/lc-voip/lc/internal/testnet"
)

// Loopback calls: caller on 127.0.0.1, callee on 127.0.0.2, both on lo.
const (
	loopCalls = 3
	loopRTP   = 5 // RTP packets per direction per call
)

var loopCaller, loopCallee = netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("127.0.0.2")

// TestLiveLoopback: on a loopback device the kernel shows every packet
// twice, going out and coming in; lc, like tcpdump, captures it once. SIP
// calls with RTP run over lo inside a namespace while tcpdump and lc
// capture on lo, and on "any": tcpdump and lc each count every datagram
// once, each call's SIP pcap holds its seven messages once, and lc on
// tcpdump's file gives the same files and events, byte for byte.
func TestLiveLoopback(t *testing.T) {
	bin := buildLC(t)
	t.Run("lo", func(t *testing.T) { liveLoopback(t, bin, "lo") })
	t.Run("any", func(t *testing.T) { liveLoopback(t, bin, "any") })
}

func liveLoopback(t *testing.T, bin, iface string) {
	p := livePair(t)
	testenv.Command(t, "tcpdump")
	if err := p.Do(1, loopbackUp); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	pcap := filepath.Join(dir, "tcpdump.pcap")
	td := start(t, p.Command(1, "tcpdump", "-i", iface, "-w", pcap, "-U", "--immediate-mode",
		"--time-stamp-precision=nano", "-Z", "root", "-B", "16384", "-n"), "listening on")
	liveOut, liveEvents := filepath.Join(dir, "live"), filepath.Join(dir, "live.jsonl")
	lc := start(t, p.Command(1, bin, "process", "-i", iface, "-o", liveOut, "-f", "udp",
		"--events", liveEvents, "--call-grace-period", "200ms", "--status-interval", "0"), "capturing")

	sent, err := sendLoopbackCalls(p)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(400 * time.Millisecond) // past the grace period: the calls end by the clock
	captured := awaitPackets(pcap, sent, 5*time.Second)
	liveLog := lc.stop(t)
	tdLog := td.stop(t)
	if !allReceived(t, liveLog, sent) {
		return
	}
	checkSIPOnce(t, liveOut)
	if captured = countPackets(pcap); captured != sent {
		// tcpdump's capture is the reference only when it is whole.
		t.Logf("tcpdump captured %d of %d packets: outputs not compared\n%s", captured, sent, tdLog)
		return
	}

	fileOut, fileEvents := filepath.Join(dir, "file"), filepath.Join(dir, "file.jsonl")
	if code, _, stderr := run(t, nil, "process", "-r", pcap, "-o", fileOut, "-f", "udp",
		"--events", fileEvents, "--call-grace-period", "200ms"); code != 0 {
		t.Fatalf("lc -r: exit %d\n%s", code, stderr)
	}
	if liveTree, fileTree := tree(t, liveOut), tree(t, fileOut); len(liveTree) == 0 || !slices.Equal(liveTree, fileTree) {
		t.Errorf("output trees differ:\nlive: %v\nfile: %v", liveTree, fileTree)
	}
	live := sameOut(readFile(t, liveEvents), liveOut)
	file := sameOut(readFile(t, fileEvents), fileOut)
	if live != file || strings.Count(live, `"call_completed"`) != loopCalls {
		t.Errorf("events differ (want %d call_completed):\nlive:\n%s\nfile:\n%s", loopCalls, live, file)
	}
}

// loopbackUp fails unless the namespace's lo is up with 127.0.0.1.
func loopbackUp() error {
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		return err
	}
	addrs, err := lo.Addrs()
	if err != nil {
		return err
	}
	if lo.Flags&net.FlagUp == 0 || !slices.ContainsFunc(addrs, func(a net.Addr) bool { return strings.HasPrefix(a.String(), "127.0.0.1/") }) {
		return fmt.Errorf("lo of the test namespace is not up with 127.0.0.1: %v %v", lo.Flags, addrs)
	}
	return nil
}

// checkSIPOnce fails unless every call's SIP pcap holds its seven
// messages, none of them twice.
func checkSIPOnce(t *testing.T, root string) {
	t.Helper()
	var files []string
	walkOutput(root, func(path string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(path, "_sip.pcap") {
			files = append(files, path)
		}
		return err
	})
	if len(files) != loopCalls {
		t.Fatalf("%d SIP pcaps, want %d: %v", len(files), loopCalls, files)
	}
	for _, path := range files {
		f, err := capture.OpenFile(path, 0)
		if err != nil {
			t.Fatal(err)
		}
		var seen [][]byte
		for {
			pkt, err := f.Next()
			if err != nil {
				break
			}
			if slices.ContainsFunc(seen, func(b []byte) bool { return bytes.Equal(b, pkt.Data) }) {
				t.Errorf("%s: a packet is recorded twice", filepath.Base(path))
			}
			seen = append(seen, slices.Clone(pkt.Data))
		}
		f.Close()
		if len(seen) != 7 {
			t.Errorf("%s holds %d packets, want the 7 SIP messages of the call", filepath.Base(path), len(seen))
		}
	}
}

// loopDatagram is one datagram of a loopback call.
type loopDatagram struct {
	from, to netip.AddrPort
	payload  []byte
}

// sendLoopbackCalls plays loopCalls calls over lo in namespace 1 and
// returns the number of datagrams sent. Every port is bound, and each
// datagram is read at its destination before the next is sent.
func sendLoopbackCalls(p *testnet.Pair) (sent int, err error) {
	err = p.Do(1, func() error {
		conns := map[netip.AddrPort]*net.UDPConn{}
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		conn := func(a netip.AddrPort) (*net.UDPConn, error) {
			if c := conns[a]; c != nil {
				return c, nil
			}
			c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(a))
			conns[a] = c
			return c, err
		}
		buf := make([]byte, 4096)
		for k := range loopCalls {
			for _, d := range loopbackCall(k) {
				src, err := conn(d.from)
				if err != nil {
					return err
				}
				dst, err := conn(d.to)
				if err != nil {
					return err
				}
				if _, err := src.WriteToUDPAddrPort(d.payload, d.to); err != nil {
					return err
				}
				dst.SetReadDeadline(time.Now().Add(5 * time.Second))
				if n, _, err := dst.ReadFromUDPAddrPort(buf); err != nil || !bytes.Equal(buf[:n], d.payload) {
					return fmt.Errorf("datagram %d to %s did not arrive: %v", sent, d.to, err)
				}
				sent++
			}
		}
		return nil
	})
	return sent, err
}

// loopbackCall returns the datagrams of call k in the order they are
// sent: INVITE, 100, 180, 200, ACK, RTP both ways, BYE and its 200.
func loopbackCall(k int) []loopDatagram {
	a, b := netip.AddrPortFrom(loopCaller, 5060), netip.AddrPortFrom(loopCallee, 5060)
	rtpA, rtpB := netip.AddrPortFrom(loopCaller, uint16(20000+2*k)), netip.AddrPortFrom(loopCallee, uint16(30000+2*k))
	callID := fmt.Sprintf("loop-%d@lc-test", k)
	from := fmt.Sprintf("From: <sip:alice%d@%s>;tag=a%d", k, loopCaller, k)
	to := fmt.Sprintf("To: <sip:bob%d@%s>", k, loopCallee)
	toTag := fmt.Sprintf("%s;tag=b%d", to, k)
	msg := func(start, branch, to, cseq, body string) []byte {
		var s strings.Builder
		fmt.Fprintf(&s, "%s\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK-%d-%s\r\n%s\r\n%s\r\nCall-ID: %s\r\nCSeq: %s\r\n", start, a, k, branch, from, to, callID, cseq)
		if body != "" {
			s.WriteString("Content-Type: application/sdp\r\n")
		}
		fmt.Fprintf(&s, "Content-Length: %d\r\n\r\n%s", len(body), body)
		return []byte(s.String())
	}
	sdp := func(user string, rtp netip.AddrPort) string {
		return fmt.Sprintf("v=0\r\no=%s %d 1 IN IP4 %s\r\ns=lc test call\r\nc=IN IP4 %s\r\nt=0 0\r\nm=audio %d RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n",
			user, 1000+k, rtp.Addr(), rtp.Addr(), rtp.Port())
	}
	target := fmt.Sprintf("sip:bob%d@%s", k, b)
	ds := []loopDatagram{
		{a, b, msg(fmt.Sprintf("INVITE sip:bob%d@%s SIP/2.0", k, loopCallee), "invite", to, "1 INVITE", sdp("alice", rtpA))},
		{b, a, msg("SIP/2.0 100 Trying", "invite", to, "1 INVITE", "")},
		{b, a, msg("SIP/2.0 180 Ringing", "invite", toTag, "1 INVITE", "")},
		{b, a, msg("SIP/2.0 200 OK", "invite", toTag, "1 INVITE", sdp("bob", rtpB))},
		{a, b, msg("ACK "+target+" SIP/2.0", "ack", toTag, "1 ACK", "")},
	}
	for i := range loopRTP {
		for dir, ends := range [2][2]netip.AddrPort{{rtpA, rtpB}, {rtpB, rtpA}} {
			pkt := make([]byte, 172)
			pkt[0], pkt[1] = 0x80, 0 // RTP version 2, PCMU
			pkt[3], pkt[7], pkt[11] = byte(i), byte(i*160), byte(2*k+dir)
			ds = append(ds, loopDatagram{ends[0], ends[1], pkt})
		}
	}
	return append(ds,
		loopDatagram{a, b, msg("BYE "+target+" SIP/2.0", "bye", toTag, "2 BYE", "")},
		loopDatagram{b, a, msg("SIP/2.0 200 OK", "bye", toTag, "2 BYE", "")})
}
