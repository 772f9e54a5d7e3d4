package sip

import (
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

func TestParseSDP(t *testing.T) {
	ip := netip.MustParseAddr
	ap := netip.MustParseAddrPort
	tests := []struct {
		name string
		in   string
		want Session
	}{
		{
			name: "offer",
			in:   crlf(offerSDP),
			want: Session{
				Origin: "alice 2890844526 2890844526 IN IP4 192.0.2.101",
				Media:  []Media{{Type: "audio", Port: 49170, NumPorts: 1, Proto: "RTP/AVP", Addr: ip("192.0.2.101")}},
			},
		},
		{
			name: "ipv6 with a=rtcp without address",
			in:   answerSDP,
			want: Session{
				Origin: "bob 2808844564 2808844564 IN IP6 2001:db8::2",
				Media:  []Media{{Type: "audio", Port: 3456, NumPorts: 1, Proto: "RTP/AVP", Addr: ip("2001:db8::2"), RTCP: ap("[2001:db8::2]:3457")}},
			},
		},
		{
			name: "session-level and media-level c=",
			in: "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n" +
				"m=audio 5000 RTP/AVP 0\r\n" +
				"m=video 5002 RTP/AVP 96\r\nc=IN IP4 198.51.100.2\r\n" +
				"m=image 5004 udptl t38\r\na=T38FaxVersion:0\r\n",
			want: Session{
				Origin: "- 1 1 IN IP4 192.0.2.1",
				Media: []Media{
					{Type: "audio", Port: 5000, NumPorts: 1, Proto: "RTP/AVP", Addr: ip("192.0.2.1")},
					{Type: "video", Port: 5002, NumPorts: 1, Proto: "RTP/AVP", Addr: ip("198.51.100.2")},
					{Type: "image", Port: 5004, NumPorts: 1, Proto: "udptl", Addr: ip("192.0.2.1")},
				},
			},
		},
		{
			name: "only media-level c=, the first counts",
			in:   "v=0\nm=audio 6000 RTP/AVP 0\nc=IN IP4 192.0.2.7\nc=IN IP4 192.0.2.8\nm=audio 6002 RTP/AVP 0\n",
			want: Session{Media: []Media{
				{Type: "audio", Port: 6000, NumPorts: 1, Proto: "RTP/AVP", Addr: ip("192.0.2.7")},
				{Type: "audio", Port: 6002, NumPorts: 1, Proto: "RTP/AVP"},
			}},
		},
		{
			name: "port 0, port count, a=rtcp with address, a=rtcp-mux",
			in: "v=0\nc=IN IP4 192.0.2.1\nm=audio 0 RTP/AVP 0\nm=audio 49170/2 RTP/AVP 0\na=rtcp:53020 IN IP6 2001:db8::9\n" +
				"m=video 51372 UDP/TLS/RTP/SAVPF 96\na=rtcp-mux\na=rtcp:51372\n",
			want: Session{Media: []Media{
				{Type: "audio", Port: 0, NumPorts: 1, Proto: "RTP/AVP", Addr: ip("192.0.2.1")},
				{Type: "audio", Port: 49170, NumPorts: 2, Proto: "RTP/AVP", Addr: ip("192.0.2.1"), RTCP: ap("[2001:db8::9]:53020")},
				{Type: "video", Port: 51372, NumPorts: 1, Proto: "UDP/TLS/RTP/SAVPF", Addr: ip("192.0.2.1"), RTCP: ap("192.0.2.1:51372"), RTCPMux: true},
			}},
		},
		{
			name: "a=rtcp before the media c=",
			in:   "v=0\nc=IN IP4 192.0.2.1\nm=audio 7000 RTP/AVP 0\na=rtcp:7005\nc=IN IP4 192.0.2.2\n",
			want: Session{Media: []Media{
				{Type: "audio", Port: 7000, NumPorts: 1, Proto: "RTP/AVP", Addr: ip("192.0.2.2"), RTCP: ap("192.0.2.2:7005")},
			}},
		},
		{
			name: "multicast ttl and count",
			in:   "v=0\nc=IN IP4 224.2.1.1/127/3\nm=audio 49170 RTP/AVP 0\nm=video 51372 RTP/AVP 99\nc=IN IP6 FF15::101/3\n",
			want: Session{Media: []Media{
				{Type: "audio", Port: 49170, NumPorts: 1, Proto: "RTP/AVP", Addr: ip("224.2.1.1")},
				{Type: "video", Port: 51372, NumPorts: 1, Proto: "RTP/AVP", Addr: ip("ff15::101")},
			}},
		},
		{
			name: "fqdn and ipv4-mapped c=",
			in:   "v=0\nc=IN IP4 media.example.com\nm=audio 1 RTP/AVP 0\nm=audio 2 RTP/AVP 0\nc=IN IP6 ::ffff:192.0.2.5\nm=audio 3 RTP/AVP 0\nc=IN IP4 host.example\n",
			want: Session{Media: []Media{
				{Type: "audio", Port: 1, NumPorts: 1, Proto: "RTP/AVP"},
				{Type: "audio", Port: 2, NumPorts: 1, Proto: "RTP/AVP", Addr: ip("192.0.2.5")},
				{Type: "audio", Port: 3, NumPorts: 1, Proto: "RTP/AVP"},
			}},
		},
		{
			name: "hold address, msrp, unknown lines and trailing garbage",
			in:   "v=0\r\nc=IN IP4 0.0.0.0\r\nx-junk\r\nm=message 2855 TCP/MSRP *\r\na=path:msrp://a.example:2855/kjh;tcp\r\n\r\n\x00\x00garbage",
			want: Session{Media: []Media{
				{Type: "message", Port: 2855, NumPorts: 1, Proto: "TCP/MSRP", Addr: ip("0.0.0.0")},
			}},
		},
		{
			name: "m= without v=",
			in:   "m=audio 9 RTP/AVP 0",
			want: Session{Media: []Media{{Type: "audio", Port: 9, NumPorts: 1, Proto: "RTP/AVP"}}},
		},
		{
			name: "v= without m=",
			in:   "v=0\no=- 0 0 IN IP4 192.0.2.1\n",
			want: Session{Origin: "- 0 0 IN IP4 192.0.2.1"},
		},
		{
			name: "unknown media and proto",
			in:   "v=0\nm=x-custom 4000 FOO/BAR 0\n",
			want: Session{Media: []Media{{Type: "x-custom", Port: 4000, NumPorts: 1, Proto: "FOO/BAR"}}},
		},
		{
			name: "bad a=rtcp is ignored",
			in:   "v=0\nm=audio 4000 RTP/AVP 0\na=rtcp:x\na=rtcp:70000\na=rtcp:0\n",
			want: Session{Media: []Media{{Type: "audio", Port: 4000, NumPorts: 1, Proto: "RTP/AVP"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSDP([]byte(tt.in))
			if err != nil {
				t.Fatalf("ParseSDP: %v", err)
			}
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("ParseSDP:\n got %+v\nwant %+v", *got, tt.want)
			}
		})
	}
}

func TestParseSDPErrors(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantMsg string
	}{
		{"empty", "", "sdp: no v= or m= line"},
		{"not sdp", "hello world\r\n", "sdp: no v= or m= line"},
		{"bad port", "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\na=x\r\nm=audio x RTP/AVP 0\r\n", `sdp: line 7: bad m= port "x"`},
		{"port too big", "v=0\nm=audio 65536 RTP/AVP 0\n", `sdp: line 2: bad m= port "65536"`},
		{"negative port", "v=0\nm=audio -1 RTP/AVP 0\n", `sdp: line 2: bad m= port "-1"`},
		{"bad port count", "v=0\nm=audio 5000/x RTP/AVP 0\n", `sdp: line 2: bad m= port count "x"`},
		{"zero port count", "v=0\nm=audio 5000/0 RTP/AVP 0\n", `sdp: line 2: bad m= port count "0"`},
		{"too few fields", "v=0\nm=audio 5000\n", `sdp: line 2: m= line "audio 5000" has too few fields`},
		{"empty m=", "v=0\n\nm=\n", `sdp: line 3: m= line "" has too few fields`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := ParseSDP([]byte(tt.in))
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("ParseSDP = %+v, %v; want an error wrapping ErrMalformed", s, err)
			}
			if err.Error() != tt.wantMsg {
				t.Errorf("ParseSDP error %q, want %q", err, tt.wantMsg)
			}
		})
	}
}

func TestParseSDPMediaLimit(t *testing.T) {
	in := "v=0\n" + strings.Repeat("m=audio 1000 RTP/AVP 0\n", maxMedia+10)
	s, err := ParseSDP([]byte(in))
	if err != nil {
		t.Fatalf("ParseSDP: %v", err)
	}
	if len(s.Media) != maxMedia {
		t.Errorf("ParseSDP returned %d media, want %d", len(s.Media), maxMedia)
	}
}

func FuzzSDP(f *testing.F) {
	f.Add([]byte(crlf(offerSDP)))
	f.Add([]byte(answerSDP))
	f.Add([]byte("v=0\nc=IN IP4 224.2.1.1/127/3\nm=audio 49170/2 RTP/AVP 0\na=rtcp:53020 IN IP6 2001:db8::9\nm=video 0 UDP/TLS/RTP/SAVPF 96\na=rtcp-mux\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseSDP(b)
		if err != nil {
			if s != nil || !errors.Is(err, ErrMalformed) {
				t.Fatalf("ParseSDP = %v, %v", s, err)
			}
			return
		}
		if len(s.Media) > maxMedia {
			t.Fatalf("%d media, limit %d", len(s.Media), maxMedia)
		}
		for _, m := range s.Media {
			if m.NumPorts < 1 || m.Addr.Zone() != "" || m.Addr.Is4In6() {
				t.Fatalf("bad media %+v", m)
			}
		}
	})
}

func BenchmarkParseSDP(b *testing.B) {
	in := []byte(crlf(offerSDP))
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, err := ParseSDP(in); err != nil {
			b.Fatal(err)
		}
	}
}
