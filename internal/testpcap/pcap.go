package testpcap

import (
	"bufio"
	"bytes"
	"io"
	"iter"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Packet is one frame of a synthetic capture.
type Packet struct {
	Time time.Time
	Data []byte
}

// Write writes pkts as a classic microsecond pcap with the given link type.
func Write(w io.Writer, link layers.LinkType, pkts []Packet) error {
	return WriteSeq(w, link, slices.Values(pkts))
}

// WriteSeq writes the packets of a sequence, such as Merge's, as a classic
// microsecond pcap with the given link type, through a buffer of its own
// that it flushes before returning.
func WriteSeq(w io.Writer, link layers.LinkType, pkts iter.Seq[Packet]) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	pw := pcapgo.NewWriter(bw)
	if err := pw.WriteFileHeader(262144, link); err != nil {
		return err
	}
	for p := range pkts {
		ci := gopacket.CaptureInfo{Timestamp: p.Time, CaptureLength: len(p.Data), Length: len(p.Data)}
		if err := pw.WritePacket(ci, p.Data); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// Bytes returns pkts as an Ethernet pcap file image.
func Bytes(pkts []Packet) []byte {
	var b bytes.Buffer
	if err := Write(&b, layers.LinkTypeEthernet, pkts); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// WriteFile writes pkts as an Ethernet pcap at path.
func WriteFile(tb testing.TB, path string, pkts []Packet) {
	tb.Helper()
	if err := os.WriteFile(path, Bytes(pkts), 0o644); err != nil {
		tb.Fatal(err)
	}
}

// Read returns the packets of a pcap file, for checking outputs.
func Read(tb testing.TB, path string) []Packet {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	var out []Packet
	for {
		data, ci, err := r.ReadPacketData()
		if err == io.EOF {
			return out
		}
		if err != nil {
			tb.Fatalf("%s: %v", path, err)
		}
		out = append(out, Packet{Time: ci.Timestamp, Data: data})
	}
}
