package filter

import "testing"

// BenchmarkMatcher runs the predicate for a SIP and RTP filter over a
// 200-byte Ethernet UDP frame that matches the port range, the longer path.
func BenchmarkMatcher(b *testing.B) {
	f, err := Parse("udp port 5060 or udp portrange 10000-20000")
	if err != nil {
		b.Fatal(err)
	}
	match, err := f.Matcher(Ethernet)
	if err != nil {
		b.Fatal(err)
	}
	frame := ether(macB, macA, []uint16{0x0800}, ipv4("10.0.0.1", "10.0.0.2", 17, 0, nil, l4(16000, 16002, 200-14-20-20)))
	if len(frame) != 200 || !match(frame) {
		b.Fatalf("frame of %d bytes, match %v", len(frame), match(frame))
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(frame)))
	for b.Loop() {
		match(frame)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pkts/s")
}
