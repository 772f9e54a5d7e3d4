package processor

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/lc-voip/lc/internal/capture"
	"github.com/lc-voip/lc/internal/event"
	"github.com/lc-voip/lc/internal/testpcap"
)

// sliceSource returns its packets in order, then io.EOF.
type sliceSource []capture.Packet

func (s *sliceSource) Next() (capture.Packet, error) {
	if len(*s) == 0 {
		return capture.Packet{}, io.EOF
	}
	p := (*s)[0]
	*s = (*s)[1:]
	return p, nil
}

func tick(at time.Time) capture.Packet {
	return capture.Packet{Info: gopacket.CaptureInfo{Timestamp: at}}
}

// TestTickEndsCallsWithoutTraffic: with no packet after the call's last
// one, clock ticks alone end an answered call by idle timeout and a hung-up
// call after its grace period, before the source ends.
func TestTickEndsCallsWithoutTraffic(t *testing.T) {
	var tl testpcap.Timeline
	tl.Now = t0
	hungUp, silent := testpcap.NewDialog(1), testpcap.NewDialog(2)
	tl.BasicCall(hungUp, 2)
	tl.Add(testpcap.UDP(silent.Caller, silent.Callee, silent.Request("INVITE", 1, "", testpcap.SDP(silent.CallerRTP))), 10*ms)
	tl.Add(testpcap.UDP(silent.Callee, silent.Caller, silent.Response(200, "OK", "INVITE", 1, "ts", testpcap.SDP(silent.CalleeRTP))), 10*ms)
	var src sliceSource
	for i, p := range tl.Pkts {
		src = append(src, capture.Packet{
			Data:     p.Data,
			Info:     gopacket.CaptureInfo{Timestamp: p.Time, CaptureLength: len(p.Data), Length: len(p.Data)},
			LinkType: uint16(layers.LinkTypeEthernet),
			Frame:    i + 1,
		})
	}
	last := tl.Pkts[len(tl.Pkts)-1].Time

	cfg := DefaultConfig()
	cfg.OutputDir = t.TempDir()
	cfg.IdleTimeout = time.Minute
	var calls []event.CallCompleted
	var ended []time.Time // the clock each call ended at: the tick that ended it
	var p *Processor
	cfg.Emit = func(e event.Event) {
		if c, ok := e.(event.CallCompleted); ok {
			calls = append(calls, c)
			ended = append(ended, p.clock)
		}
	}
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// Ticks every 10 s of wall clock, one of them earlier than the clock
	// (ignored), up to two minutes after the last packet.
	src = append(src, tick(last.Add(-time.Hour)))
	for at := last.Add(10 * time.Second); !at.After(last.Add(2 * time.Minute)); at = at.Add(10 * time.Second) {
		src = append(src, tick(at))
	}
	if err := p.Run(context.Background(), &src); err != nil {
		t.Fatal(err)
	}
	if len(calls) != 2 {
		t.Fatalf("%d calls ended before the source did, want 2: %+v", len(calls), calls)
	}
	if calls[0].State != event.StateCompleted || calls[1].State != event.StateTimeout {
		t.Fatalf("states %s, %s; want completed, timeout", calls[0].State, calls[1].State)
	}
	if want := last.Add(10 * time.Second); !ended[0].Equal(want) {
		t.Errorf("completed call ended at tick %v, want the first tick after the grace period, %v", ended[0], want)
	}
	if want := last.Add(time.Minute); !ended[1].Equal(want) {
		t.Errorf("silent call ended at tick %v, want %v (idle timeout after its last packet)", ended[1], want)
	}
	if n := p.Stats().Notes["out-of-order"]; n != 0 {
		t.Errorf("a late tick was counted as %d out-of-order packets", n)
	}
	if got := p.Counters().Published().Packets; got != int64(len(tl.Pkts)) {
		t.Errorf("published packets = %d after ticks, want %d", got, len(tl.Pkts))
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestTickDecidesHeldPackets: in live capture a packet far from the
// clock is decided by the wall clock's ticks when no packet follows it: a
// tick near the clock makes it a stray, a tick that agrees with it makes
// it a jump.
func TestTickDecidesHeldPackets(t *testing.T) {
	o := testpcap.NewDialog(3)
	options := testpcap.UDP(o.Caller, o.Callee, o.Request("OPTIONS", 1, "", ""))
	pkt := func(at time.Time) *capture.Packet {
		return &capture.Packet{Data: options, Info: gopacket.CaptureInfo{Timestamp: at, CaptureLength: len(options), Length: len(options)},
			LinkType: uint16(layers.LinkTypeEthernet)}
	}
	for _, tt := range []struct {
		name  string
		tick  time.Time
		notes map[string]int64
	}{
		{"tick near the clock", t0.Add(time.Second), map[string]int64{"future-timestamp": 1}},
		{"tick that agrees", t0.Add(48 * time.Hour), map[string]int64{"clock-jump": 1}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.OutputDir = t.TempDir()
			p, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			for _, at := range []time.Time{t0, t0.Add(48*time.Hour + time.Second)} {
				if err := p.Packet(pkt(at)); err != nil {
					t.Fatal(err)
				}
			}
			if n := p.Stats().Written[event.KindOther]; n != 1 {
				t.Fatalf("%d packets written before the tick, want 1 (the other held)", n)
			}
			p.Tick(tt.tick)
			st := p.Stats()
			if st.Written[event.KindOther] != 2 || st.Notes["future-timestamp"] != tt.notes["future-timestamp"] || st.Notes["clock-jump"] != tt.notes["clock-jump"] {
				t.Errorf("after the tick: %d written, notes %v; want 2 and %v", st.Written[event.KindOther], st.Notes, tt.notes)
			}
			if err := p.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
}
