package testpcap

import (
	"net"
	"net/netip"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

var (
	macA = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x0a}
	macB = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x0b}
)

// UDP returns an Ethernet frame carrying payload from src to dst over UDP.
func UDP(src, dst netip.AddrPort, payload []byte) []byte {
	udp := &layers.UDP{SrcPort: layers.UDPPort(src.Port()), DstPort: layers.UDPPort(dst.Port())}
	return frame(src.Addr(), dst.Addr(), layers.IPProtocolUDP, udp, payload)
}

// TCP returns an Ethernet frame carrying one TCP segment from src to dst.
// Flags are given as a combination of "S", "A", "F", "R", "P".
func TCP(src, dst netip.AddrPort, seq, ack uint32, flags string, payload []byte) []byte {
	tcp := &layers.TCP{
		SrcPort: layers.TCPPort(src.Port()), DstPort: layers.TCPPort(dst.Port()),
		Seq: seq, Ack: ack, Window: 65535,
	}
	for _, f := range flags {
		switch f {
		case 'S':
			tcp.SYN = true
		case 'A':
			tcp.ACK = true
		case 'F':
			tcp.FIN = true
		case 'R':
			tcp.RST = true
		case 'P':
			tcp.PSH = true
		}
	}
	return frame(src.Addr(), dst.Addr(), layers.IPProtocolTCP, tcp, payload)
}

type transport interface {
	gopacket.SerializableLayer
	SetNetworkLayerForChecksum(gopacket.NetworkLayer) error
}

func frame(src, dst netip.Addr, proto layers.IPProtocol, tl transport, payload []byte) []byte {
	eth := &layers.Ethernet{SrcMAC: macA, DstMAC: macB}
	var nl gopacket.SerializableLayer
	if src.Is4() {
		eth.EthernetType = layers.EthernetTypeIPv4
		ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: proto, SrcIP: src.AsSlice(), DstIP: dst.AsSlice()}
		tl.SetNetworkLayerForChecksum(ip)
		nl = ip
	} else {
		eth.EthernetType = layers.EthernetTypeIPv6
		ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: proto, SrcIP: src.AsSlice(), DstIP: dst.AsSlice()}
		tl.SetNetworkLayerForChecksum(ip)
		nl = ip
	}
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(buf, opts, eth, nl, tl, gopacket.Payload(payload)); err != nil {
		panic(err) // only reachable with inconsistent arguments in a test
	}
	return buf.Bytes()
}

// IPv4Fragments returns the Ethernet frames of a UDP datagram from src to
// dst split into IPv4 fragments carrying at most mtu bytes of IP payload
// each (rounded down to a multiple of 8).
func IPv4Fragments(src, dst netip.AddrPort, id uint16, payload []byte, mtu int) [][]byte {
	udp := &layers.UDP{SrcPort: layers.UDPPort(src.Port()), DstPort: layers.UDPPort(dst.Port())}
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: src.Addr().AsSlice(), DstIP: dst.Addr().AsSlice()}
	udp.SetNetworkLayerForChecksum(ip)
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(buf, opts, udp, gopacket.Payload(payload)); err != nil {
		panic(err)
	}
	body := buf.Bytes()
	step := mtu &^ 7
	var frames [][]byte
	for off := 0; off < len(body); off += step {
		end := min(off+step, len(body))
		frag := &layers.IPv4{
			Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, Id: id,
			SrcIP: src.Addr().AsSlice(), DstIP: dst.Addr().AsSlice(),
			FragOffset: uint16(off / 8),
		}
		if end < len(body) {
			frag.Flags = layers.IPv4MoreFragments
		}
		eth := &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: layers.EthernetTypeIPv4}
		out := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(out, opts, eth, frag, gopacket.Payload(body[off:end])); err != nil {
			panic(err)
		}
		frames = append(frames, out.Bytes())
	}
	return frames
}
