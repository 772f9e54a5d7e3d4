//go:build linux

package testnet

import (
	"encoding/binary"
	"fmt"
	"slices"
	"testing"
	"time"
)

func TestSendCalls(t *testing.T) {
	tests := []struct {
		name  string
		calls Calls
	}{
		{"ipv4", Calls{N: 3, RTP: 10}},
		{"ipv6", Calls{N: 3, RTP: 10, IPv6: true}},
		{"signalling only", Calls{N: 2}},
		{"gap", Calls{N: 1, RTP: 2, Gap: 2 * time.Millisecond}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newTestPair(t)
			d := startTcpdump(t, p, 1)
			callIDs, packets, err := p.SendCalls(tt.calls)
			if err != nil {
				t.Fatal(err)
			}
			frames := d.stop(t, packets)
			s := summarize(frames)
			t.Logf("sent %d packets; captured %d UDP, %d ICMP, %d other", packets, s.udp, s.icmp, s.other)

			c := tt.calls
			if want := c.N * (7 + 2*c.RTP); packets != want {
				t.Errorf("SendCalls reports %d packets, want %d", packets, want)
			}
			if s.udp != packets || s.icmp != 0 || s.other != 0 || s.notEthernet != 0 {
				t.Errorf("captured %d UDP, %d ICMP, %d other, %d non-Ethernet frames; want %d UDP and nothing else",
					s.udp, s.icmp, s.other, s.notEthernet, packets)
			}
			var wantIDs []string
			for k := range c.N {
				wantIDs = append(wantIDs, fmt.Sprintf("call-%d@lc-test", k))
			}
			if !slices.Equal(callIDs, wantIDs) {
				t.Errorf("Call-IDs %v, want %v", callIDs, wantIDs)
			}
			checkWireOrder(t, s, c)
			checkRTP(t, s, c.RTP)
			if c.Gap > 0 {
				for i := 1; i < len(frames); i++ {
					if dt := frames[i].Info.Timestamp.Sub(frames[i-1].Info.Timestamp); dt < c.Gap/2 {
						t.Errorf("frames %d and %d are %v apart, want about %v", i, i+1, dt, c.Gap)
					}
				}
			}
		})
	}
}

// checkWireOrder checks that the captured UDP payloads are the calls of c,
// one after the other, in the order SendCalls documents, and that each
// SIP message is well formed and names the right call.
func checkWireOrder(t *testing.T, s frameSummary, c Calls) {
	t.Helper()
	var want, got []string
	for k := range c.N {
		want = append(want, fmt.Sprintf("%d INVITE", k), fmt.Sprintf("%d 100 INVITE", k),
			fmt.Sprintf("%d 180 INVITE", k), fmt.Sprintf("%d 200 INVITE", k), fmt.Sprintf("%d ACK", k))
		for range c.RTP {
			want = append(want, fmt.Sprintf("%d RTP %d>%d", k, 20000+2*k, 30000+2*k),
				fmt.Sprintf("%d RTP %d>%d", k, 30000+2*k, 20000+2*k))
		}
		want = append(want, fmt.Sprintf("%d BYE", k), fmt.Sprintf("%d 200 BYE", k))
	}
	k := -1
	for i, b := range s.payloads {
		ports := s.ports[i]
		if ports[0] != 5060 || ports[1] != 5060 {
			got = append(got, fmt.Sprintf("%d RTP %d>%d", k, ports[0], ports[1]))
			continue
		}
		m, err := parseSIP(b)
		if err != nil {
			t.Errorf("UDP payload %d: %v\n%s", i+1, err, b)
			got = append(got, "bad SIP")
			continue
		}
		if _, err := fmt.Sscanf(m.headers["call-id"][0], "call-%d@lc-test", &k); err != nil {
			t.Errorf("UDP payload %d: Call-ID %q", i+1, m.headers["call-id"][0])
		}
		got = append(got, fmt.Sprintf("%d %s", k, m.kind()))
	}
	if !slices.Equal(got, want) {
		t.Errorf("wire order:\n got %q\nwant %q", got, want)
	}
}

// checkRTP checks the RTP packets of each stream: version 2, PCMU, 160
// bytes of payload, marker on the first packet only, sequence numbers
// and timestamps advancing by 1 and 160, one SSRC per stream.
func checkRTP(t *testing.T, s frameSummary, perStream int) {
	t.Helper()
	type state struct {
		n        int
		seq      uint16
		ts, ssrc uint32
	}
	streams := map[[2]uint16]*state{}
	ssrcs := map[uint32][2]uint16{}
	for i, b := range s.payloads {
		ports := s.ports[i]
		if ports[0] == 5060 {
			continue
		}
		if len(b) != 172 || b[0] != 0x80 || b[1]&0x7f != 0 {
			t.Fatalf("RTP %v: bad packet of %d bytes, header % x", ports, len(b), b[:min(len(b), 12)])
		}
		marker := b[1]&0x80 != 0
		seq, ts, ssrc := binary.BigEndian.Uint16(b[2:]), binary.BigEndian.Uint32(b[4:]), binary.BigEndian.Uint32(b[8:])
		st := streams[ports]
		if st == nil {
			if other, ok := ssrcs[ssrc]; ok {
				t.Errorf("streams %v and %v share SSRC %#x", other, ports, ssrc)
			}
			ssrcs[ssrc] = ports
			st = &state{seq: seq - 1, ts: ts - 160, ssrc: ssrc}
			streams[ports] = st
		}
		if marker != (st.n == 0) || seq != st.seq+1 || ts != st.ts+160 || ssrc != st.ssrc {
			t.Errorf("RTP %v packet %d: marker %v seq %d ts %d ssrc %#x after seq %d ts %d ssrc %#x",
				ports, st.n, marker, seq, ts, ssrc, st.seq, st.ts, st.ssrc)
		}
		st.n++
		st.seq, st.ts = seq, ts
	}
	for ports, st := range streams {
		if st.n != perStream {
			t.Errorf("RTP %v: %d packets, want %d", ports, st.n, perStream)
		}
	}
}
