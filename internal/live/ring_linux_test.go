//go:build linux

package live

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/lc-voip/lc/internal/filter"
	"golang.org/x/sys/unix"
)

// fakeFrame is one packet as the kernel puts it in a ring block.
type fakeFrame struct {
	sec, nsec uint32
	origLen   uint32
	status    uint32
	tci       uint32
	tpid      uint16
	sa        unix.RawSockaddrLinklayer
	data      []byte
}

// fakeBlock lays frames out in a block of a one-block ring the way
// TPACKET_V3 does: block descriptor, then tpacket3_hdr + sockaddr_ll +
// data for each frame, 16-byte aligned, and marks it ready for user space.
func fakeBlock(t *testing.T, frames []fakeFrame) []byte {
	t.Helper()
	ring := make([]byte, 2*blockSize)
	const first = 48
	binary.NativeEndian.PutUint32(ring[8:], unix.TP_STATUS_USER)
	binary.NativeEndian.PutUint32(ring[12:], uint32(len(frames)))
	binary.NativeEndian.PutUint32(ring[16:], first)
	off := first
	for i, f := range frames {
		mac := hdrLen + 32 // room for sockaddr_ll, as the kernel leaves
		h := (*unix.Tpacket3Hdr)(unsafe.Pointer(&ring[off]))
		h.Sec, h.Nsec, h.Snaplen, h.Len, h.Status = f.sec, f.nsec, uint32(len(f.data)), f.origLen, f.status
		h.Mac, h.Net = uint16(mac), uint16(mac)
		h.Hv1.Vlan_tci, h.Hv1.Vlan_tpid = f.tci, f.tpid
		*(*unix.RawSockaddrLinklayer)(unsafe.Pointer(&ring[off+hdrLen])) = f.sa
		copy(ring[off+mac:], f.data)
		size := (mac + len(f.data) + 15) &^ 15
		if i < len(frames)-1 {
			h.Next_offset = uint32(size)
		}
		off += size
	}
	binary.NativeEndian.PutUint32(ring[20:], uint32(off))
	return ring
}

var ethFrame = append(bytes.Repeat([]byte{0xaa}, 6), append(bytes.Repeat([]byte{0xbb}, 6), 0x08, 0x00, 0x45, 0, 0, 20)...)

func TestTakeEthernetPutsVLANTagBack(t *testing.T) {
	frames := []fakeFrame{
		{sec: 1700000000, nsec: 123456789, origLen: uint32(len(ethFrame)), data: ethFrame},
		{sec: 1700000001, nsec: 5, origLen: 1500, status: unix.TP_STATUS_VLAN_VALID, tci: 42, data: ethFrame},
		{sec: 1700000002, status: unix.TP_STATUS_VLAN_VALID | unix.TP_STATUS_VLAN_TPID_VALID, tci: 7, tpid: 0x88a8, origLen: uint32(len(ethFrame)), data: ethFrame},
	}
	s := &socket{iface: iface{name: "eth0", view: viewEthernet}, source: 2, ring: fakeBlock(t, frames), blocks: 2}
	pkts := s.take()
	if len(pkts) != 3 {
		t.Fatalf("%d packets, want 3", len(pkts))
	}
	if !bytes.Equal(pkts[0].Data, ethFrame) {
		t.Errorf("untagged frame changed: % x", pkts[0].Data)
	}
	if want := time.Unix(1700000000, 123456789); !pkts[0].Info.Timestamp.Equal(want) || !pkts[0].Nanosecond {
		t.Errorf("timestamp %v (ns %v), want %v with nanoseconds", pkts[0].Info.Timestamp, pkts[0].Nanosecond, want)
	}
	tagged := append(append(append([]byte{}, ethFrame[:12]...), 0x81, 0x00, 0, 42), ethFrame[12:]...)
	if !bytes.Equal(pkts[1].Data, tagged) {
		t.Errorf("tagged frame\n got % x\nwant % x", pkts[1].Data, tagged)
	}
	if pkts[1].Info.Length != 1504 || pkts[1].Info.CaptureLength != len(tagged) {
		t.Errorf("lengths %d/%d, want 1504/%d", pkts[1].Info.Length, pkts[1].Info.CaptureLength, len(tagged))
	}
	if got := pkts[2].Data[12:16]; !bytes.Equal(got, []byte{0x88, 0xa8, 0, 7}) {
		t.Errorf("QinQ tag % x, want 88 a8 00 07", got)
	}
	for i, p := range pkts {
		if p.LinkType != linkEthernet || p.Source != 2 || p.Frame != i+1 {
			t.Errorf("packet %d: link %d source %d frame %d", i, p.LinkType, p.Source, p.Frame)
		}
	}
	if st := binary.NativeEndian.Uint32(s.ring[8:]); st != unix.TP_STATUS_KERNEL {
		t.Errorf("block status %d after take, want it given back to the kernel", st)
	}
	if s.next != 1 || s.received.Load() != 3 {
		t.Errorf("next block %d, received %d; want 1, 3", s.next, s.received.Load())
	}
}

func TestTakeCookedBuildsSLL2Header(t *testing.T) {
	ip := []byte{0x45, 0, 0, 20, 1, 2, 3, 4}
	sa := unix.RawSockaddrLinklayer{Protocol: htons(0x0800), Ifindex: 7, Hatype: 1, Pkttype: 4, Halen: 6, Addr: [8]byte{1, 2, 3, 4, 5, 6}}
	frames := []fakeFrame{
		{origLen: uint32(len(ip)), sa: sa, data: ip},
		{origLen: uint32(len(ip)), sa: sa, status: unix.TP_STATUS_VLAN_VALID, tci: 100, data: ip},
	}
	s := &socket{iface: iface{name: "any", view: viewCooked}, ring: fakeBlock(t, frames), blocks: 2}
	pkts := s.take()
	want := append([]byte{0x08, 0x00, 0, 0, 0, 0, 0, 7, 0, 1, 4, 6, 1, 2, 3, 4, 5, 6, 0, 0}, ip...)
	if !bytes.Equal(pkts[0].Data, want) {
		t.Errorf("SLL2 frame\n got % x\nwant % x", pkts[0].Data, want)
	}
	if pkts[0].LinkType != linkSLL2 || pkts[0].Info.Length != len(want) {
		t.Errorf("link %d length %d", pkts[0].LinkType, pkts[0].Info.Length)
	}
	wantTagged := append([]byte{0x81, 0x00, 0, 0, 0, 0, 0, 7, 0, 1, 4, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0, 100, 0x08, 0x00}, ip...)
	if !bytes.Equal(pkts[1].Data, wantTagged) {
		t.Errorf("tagged SLL2 frame\n got % x\nwant % x", pkts[1].Data, wantTagged)
	}
}

func TestTakeKeepsPacketsApart(t *testing.T) {
	frames := []fakeFrame{{origLen: 14, data: ethFrame}, {origLen: 14, data: ethFrame}}
	s := &socket{iface: iface{view: viewEthernet}, ring: fakeBlock(t, frames), blocks: 2}
	pkts := s.take()
	pkts[0].Data = append(pkts[0].Data, 0xff) // must not run into the next packet
	if !bytes.Equal(pkts[1].Data, ethFrame) {
		t.Fatal("appending to one packet changed the next one")
	}
}

func TestCompileRefusesVLAN(t *testing.T) {
	f, err := filter.Parse("vlan 100 and udp port 5060")
	if err != nil {
		t.Fatal(err)
	}
	_, err = compile(f, viewEthernet, 100)
	var fe *filter.Error
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), "vlan cannot be tested on a live interface") {
		t.Fatalf("got %v, want a filter error about vlan", err)
	}
	f, _ = filter.Parse("udp port 5060")
	if prog, err := compile(f, viewEthernet, 100); err != nil || len(prog) == 0 {
		t.Fatalf("udp port 5060: %v", err)
	}
	if prog, err := compile(nil, viewCooked, 100); err != nil || len(prog) != 1 || prog[0].K != 100 {
		t.Fatalf("no filter: %v %v, want one ret #100", prog, err)
	}
}

// runAncillary runs a socket filter made only of the instructions
// echoFilter uses and "ret #k", as the kernel does, for a packet of type
// pktType on a device of hardware type hatype, and returns the filter's
// verdict: 0 rejects, more keeps that many bytes.
func runAncillary(t *testing.T, prog []unix.SockFilter, pktType, hatype uint32) uint32 {
	t.Helper()
	var a uint32
	for pc := 0; pc < len(prog); pc++ {
		ins := prog[pc]
		switch ins.Code {
		case unix.BPF_LD | unix.BPF_W | unix.BPF_ABS:
			switch int32(ins.K) {
			case -0x1000 + 4: // SKF_AD_OFF + SKF_AD_PKTTYPE (linux/filter.h)
				a = pktType
			case -0x1000 + 28: // SKF_AD_OFF + SKF_AD_HATYPE
				a = hatype
			default:
				t.Fatalf("instruction %d loads %#x", pc, ins.K)
			}
		case unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K:
			if a == ins.K {
				pc += int(ins.Jt)
			} else {
				pc += int(ins.Jf)
			}
		case unix.BPF_RET | unix.BPF_K:
			return ins.K
		default:
			t.Fatalf("instruction %d: unexpected code %#x", pc, ins.Code)
		}
	}
	t.Fatal("the program ran off its end")
	return 0
}

// TestEchoFilter: the kernel shows a packet sent over a loopback or CAN
// device twice, going out and coming in; the socket filter rejects the
// outgoing copy on such an interface and, on "any", on such devices, and
// lets every other packet through to the capture filter.
func TestEchoFilter(t *testing.T) {
	const snaplen = 1500
	lo := iface{name: "lo", index: 1, view: viewEthernet, echoes: echoes(arphrdLoopback)}
	can := iface{name: "can0", index: 3, view: viewCooked, echoes: echoes(arphrdCAN)}
	eth := iface{name: "eth0", index: 2, view: viewEthernet, echoes: echoes(arphrdEther)}
	any := iface{name: "any", view: viewCooked}
	const host, outgoing, broadcast = 0, packetOutgoing, 1
	for _, tc := range []struct {
		ifc             iface
		pktType, hatype uint32
		want            uint32
	}{
		{lo, outgoing, arphrdLoopback, 0},
		{lo, host, arphrdLoopback, snaplen},
		{can, outgoing, arphrdCAN, 0},
		{can, broadcast, arphrdCAN, snaplen},
		{eth, outgoing, arphrdEther, snaplen},
		{eth, host, arphrdEther, snaplen},
		{any, outgoing, arphrdLoopback, 0},
		{any, outgoing, arphrdCAN, 0},
		{any, host, arphrdLoopback, snaplen},
		{any, outgoing, arphrdEther, snaplen},
		{any, host, arphrdEther, snaplen},
		{any, outgoing, 512 /* PPP */, snaplen},
	} {
		prog, err := program(nil, tc.ifc, snaplen)
		if err != nil {
			t.Fatal(err)
		}
		if got := runAncillary(t, prog, tc.pktType, tc.hatype); got != tc.want {
			t.Errorf("%s, packet type %d, device type %d: filter returns %d, want %d", tc.ifc.name, tc.pktType, tc.hatype, got, tc.want)
		}
	}
	if prog, _ := program(nil, eth, snaplen); len(prog) != 1 {
		t.Errorf("eth0: %d instructions, want the capture filter's one", len(prog))
	}

	f, _ := filter.Parse("udp port 5060")
	user, _ := compile(f, viewCooked, snaplen)
	prog, err := program(f, any, snaplen)
	if echo := len(echoFilter(any)); err != nil || len(prog) != echo+len(user) || prog[echo].Code != user[0].Op || prog[echo].K != user[0].K {
		t.Errorf("any with a filter: %v, %d instructions; want the %d of echoFilter, then the filter's %d", err, len(prog), echo, len(user))
	}
}
