package capture

import (
	"bytes"
	"io"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/lc-voip/lc/internal/testpcap"
)

// Shape of the capture BenchmarkRead reads: 100 calls of 20 s each way,
// 200,000 RTP packets and 46 MB of pcap.
const (
	benchCalls = 100
	benchRTP   = 1000
)

// The benchmark capture, built once. In benchVoice the RTP payloads are
// random bytes, which compress about as badly as µ-law speech; benchSilence
// keeps the builder's µ-law silence, which compresses very well.
var (
	benchVoice   = sync.OnceValue(func() []byte { return benchTrunk(true) })
	benchSilence = sync.OnceValue(func() []byte { return benchTrunk(false) })
)

// benchTrunk builds the benchmark capture as pcap.
func benchTrunk(voice bool) []byte {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	pkts := testpcap.Calls(benchCalls, benchRTP, start, 200*time.Millisecond)
	if voice {
		r := rand.New(rand.NewPCG(1, 2))
		for _, p := range pkts {
			// Ethernet, IPv4 and UDP headers, then RTP: 12 bytes and 160 of PCMU.
			if rtp := p.Data[42:]; len(rtp) == 172 && rtp[0] == 0x80 {
				for i := 12; i < len(rtp); i++ {
					rtp[i] = byte(r.Uint32())
				}
			}
		}
	}
	var b bytes.Buffer
	if err := testpcap.Write(&b, layers.LinkTypeEthernet, pkts); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// BenchmarkRead reads a busy trunk's capture uncompressed, gzipped and
// zstd-compressed (default levels, as the gzip and zstd tools use). MB/s
// is of pcap data, so the figures compare directly.
func BenchmarkRead(b *testing.B) {
	for _, payload := range []struct {
		name  string
		trunk func() []byte
	}{{"voice", benchVoice}, {"silence", benchSilence}} {
		plain := payload.trunk()
		want := countPackets(b, plain)
		for _, comp := range []struct {
			name string
			pack func(tb testing.TB, b []byte) []byte
		}{
			{name: "plain", pack: func(_ testing.TB, b []byte) []byte { return b }},
			{name: "gzip", pack: gzipped},
			{name: "zstd", pack: zstded},
		} {
			b.Run(payload.name+"/"+comp.name, func(b *testing.B) {
				packed := comp.pack(b, plain)
				b.ReportAllocs()
				b.SetBytes(int64(len(plain)))
				for b.Loop() {
					if n := countPackets(b, packed); n != want {
						b.Fatalf("read %d packets, want %d", n, want)
					}
				}
				b.ReportMetric(float64(want)*float64(b.N)/b.Elapsed().Seconds(), "pkts/s")
				b.ReportMetric(float64(len(plain))/float64(len(packed)), "ratio")
			})
		}
	}
}

// countPackets reads a whole capture and returns its number of packets.
func countPackets(tb testing.TB, file []byte) int {
	tb.Helper()
	f, err := newFile(bytes.NewReader(file), "bench", int64(len(file)), 0, nil)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	n := 0
	for {
		_, err := f.Next()
		if err == io.EOF {
			return n
		}
		if err != nil {
			tb.Fatal(err)
		}
		n++
	}
}
