package processor

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/lc-voip/lc/internal/capture"
	"github.com/lc-voip/lc/internal/event"
)

// TestStreamRotation checks every reason a stream starts a new part.
func TestStreamRotation(t *testing.T) {
	pkt := func(at time.Duration, link uint16, nano bool, size int) *capture.Packet {
		return &capture.Packet{
			Data:       make([]byte, size),
			Info:       gopacket.CaptureInfo{Timestamp: t0.Add(at), CaptureLength: size, Length: size},
			LinkType:   link,
			Nanosecond: nano,
		}
	}
	tests := []struct {
		name    string
		maxSize int64
		maxAge  time.Duration
		pkts    []*capture.Packet
		reasons []event.CloseReason
	}{
		{"link type", 0, 0, []*capture.Packet{pkt(0, 1, false, 60), pkt(1, 101, false, 40)}, []event.CloseReason{event.ReasonRotateLink, event.ReasonShutdown}},
		{"precision", 0, 0, []*capture.Packet{pkt(0, 1, false, 60), pkt(1, 1, true, 60)}, []event.CloseReason{event.ReasonRotateLink, event.ReasonShutdown}},
		{"size", 24 + 2*(16+100), 0, []*capture.Packet{pkt(0, 1, false, 100), pkt(1, 1, false, 100), pkt(2, 1, false, 100)},
			[]event.CloseReason{event.ReasonRotateSize, event.ReasonShutdown}},
		{"age", 0, time.Minute, []*capture.Packet{pkt(0, 1, false, 60), pkt(59*time.Second, 1, false, 60), pkt(time.Minute, 1, false, 60)},
			[]event.CloseReason{event.ReasonRotateAge, event.ReasonShutdown}},
		{"oversized first packet", 100, 0, []*capture.Packet{pkt(0, 1, false, 500)}, []event.CloseReason{event.ReasonShutdown}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := testRoot(t, t.TempDir())
			dir := root.path
			s := stream{ledger: nopLedger{}, kind: event.KindOther, maxSize: tt.maxSize, maxAge: tt.maxAge,
				name: func(_ *capture.Packet, part int) (string, error) {
					return filepath.Join(dir, fmt.Sprintf("part%d.pcap", part)), nil
				}}
			fc := newFileCache(4, root, nil, nil)
			var got []event.CloseReason
			emit := func(e event.Event) { got = append(got, e.(event.FileClosed).Reason) }
			for _, p := range tt.pkts {
				if _, err := s.write(fc, p, p.Info.Timestamp, emit); err != nil {
					t.Fatal(err)
				}
			}
			s.close(fc, event.ReasonShutdown, emit)
			if err := fc.closeAll(); err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.reasons) {
				t.Fatalf("close reasons %v, want %v", got, tt.reasons)
			}
		})
	}
}
