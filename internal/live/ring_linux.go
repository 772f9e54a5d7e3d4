//go:build linux

package live

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/gopacket/gopacket"
	"github.com/lc-voip/lc/internal/capture"
	"github.com/lc-voip/lc/internal/filter"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// Ring geometry. A block is what the kernel hands over at once: when it is
// full, or retireTimeout after its first packet.
const (
	blockSize     = 1 << 20
	retireTimeout = 50 * time.Millisecond
	pollTimeout   = 100 * time.Millisecond // how soon a reader notices Stop on an idle interface
	// drainLimit is how long a stopping reader waits for the kernel to
	// hand over a block it holds packets in: the block is due
	// retireTimeout after its first packet, but a busy machine can be
	// later than that.
	drainLimit = time.Second
	hdrLen     = 48 // TPACKET_ALIGN(sizeof(struct tpacket3_hdr)): where struct sockaddr_ll starts
	sll2Len    = 20 // the LINKTYPE_LINUX_SLL2 header built in cooked mode
	vlanLen    = 4
)

// socket is one AF_PACKET socket with its mapped ring.
type socket struct {
	iface  iface
	source int // position of the interface in Config.Interfaces
	fd     int
	ring   []byte
	blocks int
	next   int // the block to read next
	frames int // packets handed out so far; the last one's Frame

	received atomic.Int64
	mu       sync.Mutex // guards the fields below and fd after close
	final    *Stats     // the counters when the socket was closed
	drops    int64      // kernel drops read so far (the socket option resets on read)
	queued   int64      // packets the kernel put in the ring so far, likewise
	ifdrops  int64      // interface drops when the socket opened; -1 when unknown
}

// openSocket makes the socket for ifc. Everything is set up before bind, so
// that no packet arrives unfiltered or outside the ring.
func openSocket(ifc iface, source int, cfg *Config) (_ *socket, err error) {
	typ := unix.SOCK_RAW
	if ifc.view == viewCooked {
		typ = unix.SOCK_DGRAM
	}
	// Protocol 0: the socket receives nothing until bind names ETH_P_ALL.
	fd, err := unix.Socket(unix.AF_PACKET, typ|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, socketError(ifc.name, "opening a packet socket", err)
	}
	s := &socket{iface: ifc, source: source, fd: fd}
	defer func() {
		if err != nil {
			s.release()
		}
	}()
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_VERSION, unix.TPACKET_V3); err != nil {
		return nil, socketError(ifc.name, "asking for TPACKET_V3", err)
	}
	prog, err := program(cfg.Filter, ifc, uint32(cfg.Snaplen))
	if err != nil {
		return nil, fmt.Errorf("capture on %s: %w", ifc.name, err)
	}
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	if err := unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &fprog); err != nil {
		return nil, socketError(ifc.name, "attaching the capture filter", err)
	}
	s.blocks = max(2, cfg.Buffer/blockSize)
	req := unix.TpacketReq3{
		Block_size:     blockSize,
		Block_nr:       uint32(s.blocks),
		Frame_size:     blockSize,
		Frame_nr:       uint32(s.blocks),
		Retire_blk_tov: uint32(retireTimeout / time.Millisecond),
	}
	if err := unix.SetsockoptTpacketReq3(fd, unix.SOL_PACKET, unix.PACKET_RX_RING, &req); err != nil {
		return nil, socketError(ifc.name, fmt.Sprintf("making a %d MiB ring", s.blocks*blockSize>>20), err)
	}
	s.ring, err = unix.Mmap(fd, 0, s.blocks*blockSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, socketError(ifc.name, "mapping the ring", err)
	}
	if cfg.Promisc && ifc.index != 0 {
		mreq := unix.PacketMreq{Ifindex: int32(ifc.index), Type: unix.PACKET_MR_PROMISC}
		if err := unix.SetsockoptPacketMreq(fd, unix.SOL_PACKET, unix.PACKET_ADD_MEMBERSHIP, &mreq); err != nil {
			return nil, socketError(ifc.name, "entering promiscuous mode", err)
		}
	}
	s.ifdrops = -1
	if n, err := interfaceDrops(sysNet, ifc.name); err == nil {
		s.ifdrops = n
	}
	sa := &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifc.index}
	if err := unix.Bind(fd, sa); err != nil {
		return nil, socketError(ifc.name, "binding to the interface", err)
	}
	return s, nil
}

// program compiles the filter for the socket of ifc, behind echoFilter.
// The accept value is the snap length, so the kernel truncates; without a
// filter the program only does that.
func program(f *filter.Filter, ifc iface, snaplen uint32) ([]unix.SockFilter, error) {
	raw, err := compile(f, ifc.view, snaplen)
	if err != nil {
		return nil, err
	}
	echo, err := bpf.Assemble(echoFilter(ifc))
	if err != nil {
		return nil, fmt.Errorf("internal error: assemble: %w", err)
	}
	if len(echo)+len(raw) > maxInstructions {
		return nil, &filter.Error{Expr: f.String(), Pos: -1, Msg: fmt.Sprintf(
			"with the %d instructions that keep looped-back packets from being captured twice, the program on %s has %d, more than the kernel's %d",
			len(echo), ifc.name, len(echo)+len(raw), maxInstructions)}
	}
	prog := make([]unix.SockFilter, 0, len(echo)+len(raw))
	for _, ins := range append(echo, raw...) {
		prog = append(prog, unix.SockFilter{Code: ins.Op, Jt: ins.Jt, Jf: ins.Jf, K: ins.K})
	}
	return prog, nil
}

// maxInstructions is the longest socket filter the kernel takes
// (BPF_MAXINSNS).
const maxInstructions = 4096

// packetOutgoing is PACKET_OUTGOING (linux/if_packet.h): the packet type
// of the copy the kernel shows a packet socket of a packet being sent.
const packetOutgoing = 4

// echoFilter returns the instructions that run before the capture filter
// on ifc and reject the outgoing copy of a packet that the kernel also
// shows as incoming: every outgoing packet of a loopback or CAN interface
// (see echoes) and, on "any", the outgoing packets of such interfaces,
// told by the hardware type of the packet's device. The incoming copy is
// the one captured, as libpcap does. Rejected by the filter, the copy
// takes no room in the ring, and PACKET_STATISTICS counts it neither as a
// packet nor as a drop: "received" and the kernel's drops add up to the
// packets on the interface, each counted once. Other interfaces get no
// instructions.
func echoFilter(ifc iface) []bpf.Instruction {
	pktType := bpf.LoadExtension{Num: bpf.ExtType}
	reject := bpf.RetConstant{Val: 0}
	switch {
	case ifc.index == 0: // "any"
		return []bpf.Instruction{
			pktType,
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: packetOutgoing, SkipFalse: 4}, // incoming: to the capture filter
			bpf.LoadExtension{Num: bpf.ExtLinkLayerType},
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: arphrdLoopback, SkipTrue: 1},
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: arphrdCAN, SkipFalse: 1},
			reject,
		}
	case ifc.echoes:
		return []bpf.Instruction{
			pktType,
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: packetOutgoing, SkipFalse: 1},
			reject,
		}
	}
	return nil
}

func compile(f *filter.Filter, v view, snaplen uint32) ([]bpf.RawInstruction, error) {
	if f == nil {
		return bpf.Assemble([]bpf.Instruction{bpf.RetConstant{Val: snaplen}})
	}
	if f.UsesVLAN() {
		// The kernel has taken the tags out of the frame before a socket
		// filter runs; a vlan test would see the inner frame.
		return nil, &filter.Error{Expr: f.String(), Pos: -1,
			Msg: "vlan cannot be tested on a live interface: Linux takes VLAN tags out of frames before the capture filter sees them (the filter sees the untagged frame; lc puts the tag back when saving it)"}
	}
	link := filter.Ethernet
	switch v {
	case viewRaw:
		link = filter.Raw
	case viewCooked:
		link = filter.Cooked
	}
	return f.Compile(link, snaplen)
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// socketError names the interface and the step, and what is missing when
// the kernel said no.
func socketError(name, step string, err error) error {
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
		return fmt.Errorf("capture on %s: %s: %w (capturing needs root or CAP_NET_RAW)", name, step, err)
	}
	return fmt.Errorf("capture on %s: %s: %w", name, step, err)
}

// blockStatus points at block i's block_status word.
func (s *socket) blockStatus(i int) *uint32 {
	return (*uint32)(unsafe.Pointer(&s.ring[i*blockSize+8]))
}

// ready says, without waiting, whether the next block is the program's to
// read. Blocks are retired and taken in ring order, so when it is not,
// every block the kernel has retired so far has been taken.
func (s *socket) ready() bool {
	return atomic.LoadUint32(s.blockStatus(s.next))&unix.TP_STATUS_USER != 0
}

// wait waits up to timeout for the next block and says whether it is the
// program's to read. An error the kernel reported on the socket is
// returned, and cleared: ENETDOWN when the interface went down or away.
func (s *socket) wait(timeout time.Duration) (bool, error) {
	fds := []unix.PollFd{{Fd: int32(s.fd), Events: unix.POLLIN | unix.POLLERR}}
	n, _ := unix.Poll(fds, int(timeout/time.Millisecond)) // EINTR and timeouts alike: look again
	if n > 0 && fds[0].Revents&unix.POLLERR != 0 {
		if e, err := unix.GetsockoptInt(s.fd, unix.SOL_SOCKET, unix.SO_ERROR); err == nil && e != 0 {
			return false, unix.Errno(e)
		}
	}
	return s.ready(), nil
}

// take copies the packets of the next block, gives the block back to the
// kernel and moves on.
func (s *socket) take() []capture.Packet {
	b := s.ring[s.next*blockSize : (s.next+1)*blockSize]
	n := int(binary.NativeEndian.Uint32(b[12:]))
	off := int(binary.NativeEndian.Uint32(b[16:]))
	used := int(binary.NativeEndian.Uint32(b[20:]))
	extra := vlanLen
	if s.iface.view == viewCooked {
		extra += sll2Len
	}
	slab := make([]byte, 0, used+n*extra)
	pkts := make([]capture.Packet, 0, n)
	for range n {
		h := (*unix.Tpacket3Hdr)(unsafe.Pointer(&b[off]))
		var frame []byte
		frame, slab = s.frame(b[off:], h, slab)
		s.frames++
		pkts = append(pkts, capture.Packet{
			Data: frame,
			Info: gopacket.CaptureInfo{
				Timestamp:      time.Unix(int64(h.Sec), int64(h.Nsec)),
				CaptureLength:  len(frame),
				Length:         int(h.Len) + len(frame) - int(h.Snaplen),
				InterfaceIndex: s.source,
			},
			LinkType:   s.iface.view.linkType(),
			Nanosecond: true,
			Source:     s.source,
			Frame:      s.frames,
		})
		off += int(h.Next_offset)
	}
	atomic.StoreUint32(s.blockStatus(s.next), unix.TP_STATUS_KERNEL)
	s.next = (s.next + 1) % s.blocks
	s.received.Add(int64(n))
	return pkts
}

// frame appends the packet whose ring header is h (at the start of p) to
// slab as lc writes it: with the SLL2 header in cooked mode and with the
// VLAN tag the card stripped put back (in cooked mode the header's
// protocol becomes the tag's TPID, followed by the TCI and the original
// protocol, as after an Ethernet header).
func (s *socket) frame(p []byte, h *unix.Tpacket3Hdr, slab []byte) (frame, rest []byte) {
	start := len(slab)
	var tagBuf [vlanLen]byte
	var tag []byte // TPID and TCI, when the kernel took a tag out
	if h.Status&unix.TP_STATUS_VLAN_VALID != 0 {
		tpid := uint16(0x8100)
		if h.Status&unix.TP_STATUS_VLAN_TPID_VALID != 0 {
			tpid = h.Hv1.Vlan_tpid
		}
		binary.BigEndian.PutUint16(tagBuf[:], tpid)
		binary.BigEndian.PutUint16(tagBuf[2:], uint16(h.Hv1.Vlan_tci))
		tag = tagBuf[:]
	}
	switch s.iface.view {
	case viewCooked:
		sa := (*unix.RawSockaddrLinklayer)(unsafe.Pointer(&p[hdrLen]))
		var proto [2]byte // the frame's EtherType, kept in network order
		binary.NativeEndian.PutUint16(proto[:], sa.Protocol)
		if tag != nil {
			slab = append(slab, tag[:2]...)
		} else {
			slab = append(slab, proto[:]...)
		}
		slab = append(slab, 0, 0) // reserved
		slab = binary.BigEndian.AppendUint32(slab, uint32(sa.Ifindex))
		slab = binary.BigEndian.AppendUint16(slab, sa.Hatype)
		slab = append(slab, sa.Pkttype, sa.Halen)
		slab = append(slab, sa.Addr[:]...)
		if tag != nil {
			slab = append(append(slab, tag[2:]...), proto[:]...)
		}
		slab = append(slab, p[h.Net:int(h.Net)+int(h.Snaplen)]...)
	case viewEthernet:
		data := p[h.Mac : int(h.Mac)+int(h.Snaplen)]
		if tag != nil && len(data) >= 12 {
			slab = append(slab, data[:12]...)
			slab = append(slab, tag...)
			data = data[12:]
		}
		slab = append(slab, data...)
	default:
		slab = append(slab, p[h.Mac:int(h.Mac)+int(h.Snaplen)]...)
	}
	return slab[start:len(slab):len(slab)], slab
}

// stats returns the socket's counters. The kernel's drop counter resets
// each time it is read, so it is accumulated here.
func (s *socket) stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.statsLocked()
}

func (s *socket) statsLocked() Stats {
	if s.final != nil {
		return *s.final
	}
	s.readKernelStats()
	st := Stats{Interface: s.iface.name, Received: s.received.Load(), KernelDrops: s.drops, InterfaceDrops: -1}
	if s.ifdrops >= 0 {
		if n, err := interfaceDrops(sysNet, s.iface.name); err == nil {
			st.InterfaceDrops = n - s.ifdrops
		}
	}
	return st
}

// readKernelStats adds what PACKET_STATISTICS counted since it was last
// read: tp_packets holds the drops too (TPACKET_V3). s.mu must be held.
func (s *socket) readKernelStats() {
	if st, err := unix.GetsockoptTpacketStatsV3(s.fd, unix.SOL_PACKET, unix.PACKET_STATISTICS); err == nil {
		s.drops += int64(st.Drops)
		s.queued += int64(st.Packets) - int64(st.Drops)
	}
}

// pending reports whether the kernel has put packets in the ring that
// have not been taken yet: a block it has not handed over.
func (s *socket) pending() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.final != nil {
		return false
	}
	s.readKernelStats()
	return s.queued > s.received.Load()
}

// release keeps the last counters, then unmaps the ring and closes the
// socket.
func (s *socket) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.final != nil {
		return
	}
	st := s.statsLocked()
	s.final = &st
	if s.ring != nil {
		unix.Munmap(s.ring)
	}
	unix.Close(s.fd)
}
