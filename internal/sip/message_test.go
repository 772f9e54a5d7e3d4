package sip

import (
	"bytes"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want Message
	}{
		{
			name: "invite with sdp",
			in:   inviteSDP,
			want: Message{
				Request: true, Method: "INVITE", RequestURI: "sip:bob@biloxi.example.com",
				CallID:        "3848276298220188511@atlanta.example.com",
				From:          Address{Display: "Alice", URI: "sip:alice@atlanta.example.com", Tag: "9fxced76sl"},
				To:            Address{Display: "Bob", URI: "sip:bob@biloxi.example.com"},
				CSeq:          1,
				CSeqMethod:    "INVITE",
				ContentType:   "application/sdp",
				ContentLength: len(crlf(offerSDP)),
				Body:          []byte(crlf(offerSDP)),
			},
		},
		{
			name: "response",
			in:   okSDP,
			want: Message{
				StatusCode: 200, Reason: "OK",
				CallID:        "3848276298220188511@atlanta.example.com",
				From:          Address{Display: "Alice", URI: "sip:alice@atlanta.example.com", Tag: "9fxced76sl"},
				To:            Address{Display: "Bob", URI: "sip:bob@biloxi.example.com", Tag: "8321234356"},
				CSeq:          1,
				CSeqMethod:    "INVITE",
				ContentType:   "application/sdp",
				ContentLength: len(crlf(answerSDP)),
				Body:          []byte(crlf(answerSDP)),
			},
		},
		{
			name: "response without reason phrase",
			in:   []byte("SIP/2.0 180\r\nCall-ID: x\r\nCSeq: 2 INVITE\r\n\r\n"),
			want: Message{StatusCode: 180, CallID: "x", CSeq: 2, CSeqMethod: "INVITE", ContentLength: -1},
		},
		{
			name: "compact form",
			in:   compactInvite,
			want: Message{
				Request: true, Method: "INVITE", RequestURI: "sip:97239287044@voip.example.net",
				CallID:        "105090259-446faf7a@192.0.2.2",
				From:          Address{Display: "arik", URI: "sip:816666@voip.example.net", Tag: "6433ef9"},
				To:            Address{URI: "sip:97239287044@voip.example.net"},
				CSeq:          1,
				CSeqMethod:    "INVITE",
				ContentType:   "application/sdp",
				ContentLength: 95,
				Body:          compactInvite[len(compactInvite)-95:],
			},
		},
		{
			name: "case-insensitive names and version",
			in:   []byte("bye sip:a@b sip/2.0\r\ncALL-id: abc\r\nFROM: <sip:a@b>;TAG=1\r\nto: sip:c@d\r\ncseq: 7 bye\r\ncontent-LENGTH: 0\r\n\r\n"),
			want: Message{
				Request: true, Method: "bye", RequestURI: "sip:a@b", CallID: "abc",
				From: Address{URI: "sip:a@b", Tag: "1"}, To: Address{URI: "sip:c@d"},
				CSeq: 7, CSeqMethod: "bye",
			},
		},
		{
			name: "folded lines",
			in: []byte("INVITE sip:b@b SIP/2.0\r\nCall-ID:\r\n folded-id\r\nFrom: \"A\"\r\n\t<sip:a@a>\r\n  ;tag=77\r\n" +
				"Subject: one\r\n two\r\nCSeq: 9\r\n INVITE\r\nContent-Length:\r\n 0\r\n\r\n"),
			want: Message{
				Request: true, Method: "INVITE", RequestURI: "sip:b@b", CallID: "folded-id",
				From: Address{Display: "A", URI: "sip:a@a", Tag: "77"},
				CSeq: 9, CSeqMethod: "INVITE",
			},
		},
		{
			name: "repeated and multi-value headers: the first counts",
			in: []byte("INVITE sip:b@b SIP/2.0\r\nVia: SIP/2.0/UDP a;branch=1, SIP/2.0/UDP b;branch=2\r\nt: <sip:first@b>\r\nTo: <sip:second@b>\r\n" +
				"From: <sip:a@a>;tag=1, <sip:z@z>;tag=2\r\ni: one\r\nCall-ID: two\r\nCSeq: 1 INVITE\r\nCSeq: 2 INVITE\r\n\r\n"),
			want: Message{
				Request: true, Method: "INVITE", RequestURI: "sip:b@b", CallID: "one",
				From: Address{URI: "sip:a@a", Tag: "1"}, To: Address{URI: "sip:first@b"},
				CSeq: 1, CSeqMethod: "INVITE", ContentLength: -1,
			},
		},
		{
			name: "bare LF and leading keep-alive",
			in:   []byte("\r\n\nOPTIONS sip:b@b SIP/2.0\nCall-ID: lf\nCSeq: 3 OPTIONS\nContent-Length: 2\n\nhi"),
			want: Message{
				Request: true, Method: "OPTIONS", RequestURI: "sip:b@b", CallID: "lf",
				CSeq: 3, CSeqMethod: "OPTIONS", ContentLength: 2, Body: []byte("hi"),
			},
		},
		{
			name: "content-length beyond the input",
			in:   []byte("MESSAGE sip:b@b SIP/2.0\r\nCall-ID: t\r\nCSeq: 1 MESSAGE\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\nshort"),
			want: Message{
				Request: true, Method: "MESSAGE", RequestURI: "sip:b@b", CallID: "t", CSeq: 1, CSeqMethod: "MESSAGE",
				ContentType: "text/plain", ContentLength: 100, Body: []byte("short"), Truncated: true,
			},
		},
		{
			name: "content-length shorter than the input",
			in:   []byte("MESSAGE sip:b@b SIP/2.0\r\nCall-ID: t\r\nCSeq: 1 MESSAGE\r\nContent-Length: 3\r\n\r\nabcdef"),
			want: Message{
				Request: true, Method: "MESSAGE", RequestURI: "sip:b@b", CallID: "t", CSeq: 1, CSeqMethod: "MESSAGE",
				ContentLength: 3, Body: []byte("abc"),
			},
		},
		{
			name: "content-length absent: the rest is the body",
			in:   []byte("MESSAGE sip:b@b SIP/2.0\r\nCall-ID: t\r\nCSeq: 1 MESSAGE\r\n\r\nall of\r\nthis"),
			want: Message{
				Request: true, Method: "MESSAGE", RequestURI: "sip:b@b", CallID: "t", CSeq: 1, CSeqMethod: "MESSAGE",
				ContentLength: -1, Body: []byte("all of\r\nthis"),
			},
		},
		{
			name: "no empty line after the headers",
			in:   []byte("ACK sip:b@b SIP/2.0\r\nCall-ID: t\r\nCSeq: 1 ACK\r\nContent-Length: 4\r\n"),
			want: Message{
				Request: true, Method: "ACK", RequestURI: "sip:b@b", CallID: "t", CSeq: 1, CSeqMethod: "ACK",
				ContentLength: 4, Truncated: true,
			},
		},
		{
			name: "content-type parameters and case",
			in:   []byte("INFO sip:b@b SIP/2.0\r\nCall-ID: t\r\nCSeq: 1 INFO\r\nc: Multipart/Mixed ; charset=x; BOUNDARY=\"a;b\"\r\n\r\n"),
			want: Message{
				Request: true, Method: "INFO", RequestURI: "sip:b@b", CallID: "t", CSeq: 1, CSeqMethod: "INFO",
				ContentType: "multipart/mixed", Boundary: "a;b", ContentLength: -1,
			},
		},
		{
			name: "hostile values are kept verbatim",
			in: []byte("INVITE sip:$(reboot)@b;x=`id` SIP/2.0\r\nCall-ID: ../../etc/passwd;rm -rf /|&$HOME\r\n" +
				"From: \"'; DROP TABLE calls;--\" <sip:%00@evil>;tag=$(id)\r\nTo: <sip:b@b>\r\nCSeq: 1 INVITE\r\n\r\n"),
			want: Message{
				Request: true, Method: "INVITE", RequestURI: "sip:$(reboot)@b;x=`id`",
				CallID: "../../etc/passwd;rm -rf /|&$HOME",
				From:   Address{Display: "'; DROP TABLE calls;--", URI: "sip:%00@evil", Tag: "$(id)"},
				To:     Address{URI: "sip:b@b"}, CSeq: 1, CSeqMethod: "INVITE", ContentLength: -1,
			},
		},
		{
			name: "invalid utf-8",
			in:   []byte("INVITE sip:\xff\xfe@b SIP/2.0\r\nCall-ID: \xc3\x28\xa0\xa1\r\nFrom: \"\xe2\x28\xa1\" <sip:\xf0\x28\x8c\xbc@a>\r\nCSeq: 1 INVITE\r\n\r\n"),
			want: Message{
				Request: true, Method: "INVITE", RequestURI: "sip:\xff\xfe@b", CallID: "\xc3\x28\xa0\xa1",
				From: Address{Display: "\xe2\x28\xa1", URI: "sip:\xf0\x28\x8c\xbc@a"},
				CSeq: 1, CSeqMethod: "INVITE", ContentLength: -1,
			},
		},
		{
			name: "extension method and status",
			in:   []byte("SIP/2.0 599 Custom Thing\r\nCall-ID: x\r\nCSeq: 4 X-MY.METHOD\r\nContent-Length: 0\r\n\r\n"),
			want: Message{StatusCode: 599, Reason: "Custom Thing", CallID: "x", CSeq: 4, CSeqMethod: "X-MY.METHOD"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("Parse:\n got %+v\nwant %+v", *got, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantIs  error
		wantMsg string
	}{
		{"empty", "", ErrNotSIP, ""},
		{"only CRLF", "\r\n\r\n", ErrNotSIP, ""},
		{"http request", "GET / HTTP/1.1\r\nHost: a\r\n\r\n", ErrNotSIP, ""},
		{"http response", "HTTP/1.1 200 OK\r\n\r\n", ErrNotSIP, ""},
		{"other version", "INVITE sip:a@b SIP/3.0\r\n\r\n", ErrNotSIP, ""},
		{"status code out of range", "SIP/2.0 700 Odd\r\n\r\n", ErrNotSIP, ""},
		{"missing Call-ID", "BYE sip:a@b SIP/2.0\r\nCSeq: 1 BYE\r\n\r\n", ErrMalformed, "sip: missing Call-ID header"},
		{"empty Call-ID", "BYE sip:a@b SIP/2.0\r\nCall-ID:  \r\nCSeq: 1 BYE\r\n\r\n", ErrMalformed, "sip: empty Call-ID header"},
		{"missing CSeq", "BYE sip:a@b SIP/2.0\r\nCall-ID: x\r\n\r\n", ErrMalformed, "sip: missing CSeq header"},
		{"non-numeric CSeq", "BYE sip:a@b SIP/2.0\r\nCall-ID: x\r\nCSeq: one BYE\r\n\r\n", ErrMalformed, `sip: bad CSeq "one BYE"`},
		{"CSeq without method", "BYE sip:a@b SIP/2.0\r\nCall-ID: x\r\nCSeq: 1\r\n\r\n", ErrMalformed, `sip: bad CSeq "1"`},
		{"long bad value is cut", "BYE sip:a@b SIP/2.0\r\nCall-ID: x\r\nCSeq: " + strings.Repeat("x", 100) + "\r\n\r\n", ErrMalformed,
			`sip: bad CSeq "` + strings.Repeat("x", maxSnippet) + `..."`},
		{"CSeq overflow", "BYE sip:a@b SIP/2.0\r\nCall-ID: x\r\nCSeq: 4294967296 BYE\r\n\r\n", ErrMalformed, "bad CSeq"},
		{"header without colon", "BYE sip:a@b SIP/2.0\r\nCall-ID: x\r\nnonsense\r\n\r\n", ErrMalformed, `sip: line 3: header "nonsense" has no colon`},
		{"continuation first", "BYE sip:a@b SIP/2.0\r\n folded\r\n\r\n", ErrMalformed, "sip: line 2: continuation line without a header"},
		{"empty header name", "BYE sip:a@b SIP/2.0\r\n: x\r\n\r\n", ErrMalformed, "sip: line 2: empty header name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse([]byte(tt.in))
			if !errors.Is(err, tt.wantIs) {
				t.Fatalf("Parse = %+v, %v; want error %v", m, err, tt.wantIs)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("Parse error %q does not contain %q", err, tt.wantMsg)
			}
			if m != nil {
				t.Errorf("Parse returned a message with an error: %+v", m)
			}
		})
	}
}

func TestParseCopiesStrings(t *testing.T) {
	for _, msg := range messages {
		in := bytes.Clone(msg)
		m, err := Parse(in)
		if err != nil {
			t.Fatalf("Parse: %v", err)
		}
		checkNoAlias(t, m, in)
	}
}

// checkNoAlias fails the test when a string of m changes as in is
// overwritten, or when m.Body does not lie within in.
func checkNoAlias(tb testing.TB, m *Message, in []byte) {
	tb.Helper()
	before := *m
	before.Body = nil
	for i := range in {
		in[i] = '#'
	}
	after := *m
	after.Body = nil
	if !reflect.DeepEqual(before, after) {
		tb.Fatalf("strings of the Message alias the input:\nbefore %+v\n after %+v", before, after)
	}
	if len(m.Body) > 0 && !bytes.Equal(m.Body, bytes.Repeat([]byte("#"), len(m.Body))) {
		tb.Fatalf("Body does not alias the input")
	}
}

func TestSDPBody(t *testing.T) {
	msg := func(contentType, body string) []byte {
		return []byte("INVITE sip:b@b SIP/2.0\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\n" + contentType + "\r\n" + body)
	}
	const sdp = "v=0\r\nm=audio 1000 RTP/AVP 0\r\n"
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"application/sdp", msg("Content-Type: Application/SDP\r\n", sdp), sdp},
		{"no content type, v=0", msg("", sdp), sdp},
		{"no content type, other body", msg("", "hello"), ""},
		{"other type", msg("Content-Type: text/plain\r\n", sdp), ""},
		{"multipart/mixed", multipartInvite, crlf("v=0\no=- 53655765 2353687637 IN IP4 198.51.100.7\ns=-\nc=IN IP4 198.51.100.7\nt=0 0\nm=audio 20000 RTP/AVP 8\nm=image 20002 udptl t38")},
		{"multipart, sdp second, bare LF", msg("Content-Type: multipart/alternative;boundary=zz\r\n",
			"preamble\n--zz\ncontent-type: text/plain\n\nhi\n--zz  \nc: application/sdp\n\n"+sdp+"\n--zz--\nepilogue"), sdp},
		{"multipart without sdp", msg("Content-Type: multipart/mixed;boundary=zz\r\n", "--zz\r\nContent-Type: text/plain\r\n\r\nhi\r\n--zz--\r\n"), ""},
		{"multipart, unterminated last part", msg("Content-Type: multipart/mixed;boundary=zz\r\n", "--zz\r\nContent-Type: application/sdp\r\n\r\n"+sdp), sdp},
		{"nested multipart", msg("Content-Type: multipart/mixed;boundary=outer\r\n",
			"--outer\r\nContent-Type: multipart/alternative; boundary=inner\r\n\r\n--inner\r\nContent-Type: application/sdp\r\n\r\n"+sdp+"\r\n--inner--\r\n\r\n--outer--\r\n"), sdp},
		{"multipart without boundary", msg("Content-Type: multipart/mixed\r\n", "--zz\r\nContent-Type: application/sdp\r\n\r\n"+sdp), ""},
		{"boundary text inside a part", msg("Content-Type: multipart/mixed;boundary=zz\r\n",
			"--zz\r\nContent-Type: text/plain\r\n\r\nsee --zz here\r\n--zz\r\nContent-Type: application/sdp\r\n\r\n"+sdp+"\r\n--zz--"), sdp},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := m.SDPBody(); string(got) != tt.want {
				t.Errorf("SDPBody = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSDPBodyMultipartSessions(t *testing.T) {
	m, err := Parse(multipartInvite)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	s, err := ParseSDP(m.SDPBody())
	if err != nil {
		t.Fatalf("ParseSDP: %v", err)
	}
	if len(s.Media) != 2 || s.Media[0].Type != "audio" || s.Media[1].Type != "image" || s.Media[1].Proto != "udptl" {
		t.Errorf("ParseSDP(SDPBody) = %+v, want audio and image/udptl", s.Media)
	}
}

func FuzzParse(f *testing.F) {
	for _, m := range messages {
		f.Add(m)
	}
	f.Add([]byte("SIP/2.0 100 Trying\r\ni: x\r\nCSeq: 1 INVITE\r\nl: 0\r\n\r\n"))
	f.Add([]byte("INVITE sip:b@b SIP/2.0\r\nCall-ID:\r\n x\r\nFrom: \"a\\\"b\" <sip:a@a>;tag=1\r\nCSeq: 1 INVITE\r\nc: multipart/mixed;boundary=b\r\n\r\n--b\r\nc: application/sdp\r\n\r\nv=0\r\n--b--"))
	f.Fuzz(func(t *testing.T, b []byte) {
		in := bytes.Clone(b)
		m, err := Parse(in)
		if err != nil {
			if m != nil {
				t.Fatalf("Parse returned a message with error %v", err)
			}
			return
		}
		if !LooksLikeSIP(b) {
			t.Fatalf("Parse accepted what LooksLikeSIP rejects")
		}
		if m.ContentLength >= 0 && !m.Truncated && len(m.Body) != m.ContentLength {
			t.Fatalf("len(Body) = %d, ContentLength = %d", len(m.Body), m.ContentLength)
		}
		_ = m.From.UserHost() + m.To.UserHost()
		if sdp := m.SDPBody(); sdp != nil {
			if _, err := ParseSDP(sdp); err != nil && !errors.Is(err, ErrMalformed) {
				t.Fatalf("ParseSDP error %v does not wrap ErrMalformed", err)
			}
		}
		checkNoAlias(t, m, in)

		// ParseInto into a Message that held another message agrees.
		var reused Message
		if err := ParseInto(&reused, multipartInvite); err != nil {
			t.Fatal(err)
		}
		checkParseInto(t, &reused, b)
	})
}

// checkParseInto fails the test when ParseInto(m, b) does not give what
// Parse(b) gives: the same error, or the same Message. On error m must be
// left zero.
func checkParseInto(tb testing.TB, m *Message, b []byte) {
	tb.Helper()
	want, wantErr := Parse(b)
	err := ParseInto(m, b)
	switch {
	case (err == nil) != (wantErr == nil):
		tb.Fatalf("ParseInto error %v, Parse error %v", err, wantErr)
	case err != nil:
		if err.Error() != wantErr.Error() {
			tb.Fatalf("ParseInto error %q, Parse error %q", err, wantErr)
		}
		if !reflect.DeepEqual(*m, Message{}) {
			tb.Fatalf("ParseInto left %+v with error %v", *m, err)
		}
	case !reflect.DeepEqual(*m, *want):
		tb.Fatalf("ParseInto:\n got %+v\nParse %+v", *m, *want)
	}
}

// FuzzParseInto checks that a reused Message keeps nothing of the message
// it held: ParseInto(a) then ParseInto(b) gives what Parse(b) gives.
func FuzzParseInto(f *testing.F) {
	for _, a := range messages {
		for _, b := range messages {
			f.Add(a, b)
		}
		f.Add(a, []byte("BYE sip:a@b SIP/2.0\r\nCall-ID: x\r\nCSeq: one BYE\r\n\r\n"))
		f.Add([]byte("SIP/2.0 180\r\ni:\r\n x\r\nCSeq: 1 INVITE\r\nc: Application/SDP\r\n\r\nv=0"), a)
	}
	f.Fuzz(func(t *testing.T, a, b []byte) {
		var m Message
		_ = ParseInto(&m, a)
		checkParseInto(t, &m, b)
	})
}

func TestParseIntoReuse(t *testing.T) {
	inputs := append(slices.Clone(messages),
		[]byte("SIP/2.0 180\r\nCall-ID: x\r\nCSeq: 2 INVITE\r\n\r\n"),
		[]byte("INVITE sip:b@b SIP/2.0\r\nCall-ID:\r\n folded-id\r\nFrom: \"A\\\"B\"\r\n\t<sip:a@a>\r\n  ;tag=77\r\nCSeq: 9\r\n INVITE\r\nc: Text/Plain\r\n\r\n"),
		[]byte("BYE sip:a@b SIP/2.0\r\nCall-ID: x\r\nCSeq: one BYE\r\n\r\n"),
		[]byte("BYE sip:a@b SIP/2.0\r\nCSeq: 1 BYE\r\n\r\n"),
		[]byte("GET / HTTP/1.1\r\n\r\n"),
	)
	for _, a := range inputs {
		for _, b := range inputs {
			var m Message
			_ = ParseInto(&m, a)
			checkParseInto(t, &m, b)
		}
	}
}

// TestParseIntoAllocs: parsing an in-dialog message and looking for its
// session description cost no allocation, SDP or not, in the common
// spellings of Content-Type.
func TestParseIntoAllocs(t *testing.T) {
	inputs := map[string][]byte{
		"bye":               byeRequest,
		"180 without body":  []byte("SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1\r\nFrom: <sip:a@a>;tag=1\r\nTo: \"B\" <sip:b@b>;tag=2\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"),
		"200 with sdp":      okSDP,
		"capitalized sdp":   []byte("SIP/2.0 200 OK\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\nContent-Type: Application/SDP\r\n\r\nv=0\r\n"),
		"multipart":         multipartInvite,
		"compact form":      compactInvite,
		"no content length": []byte("ACK sip:b@b SIP/2.0\r\nCall-ID: x\r\nCSeq: 1 ACK\r\n\r\n"),
	}
	for name, in := range inputs {
		t.Run(name, func(t *testing.T) {
			var m Message
			allocs := testing.AllocsPerRun(100, func() {
				if err := ParseInto(&m, in); err != nil {
					t.Fatal(err)
				}
				_ = m.SDPBody()
			})
			if allocs != 0 {
				t.Errorf("%.1f allocations per message, want 0", allocs)
			}
		})
	}
}

// TestParseIntoAliases checks that the strings ParseInto fills alias the
// input: that is what makes it free of allocations.
func TestParseIntoAliases(t *testing.T) {
	in := bytes.Clone(byeRequest)
	var m Message
	if err := ParseInto(&m, in); err != nil {
		t.Fatal(err)
	}
	id := strings.Clone(m.CallID)
	copy(in[bytes.Index(in, []byte(id)):], "X")
	if m.CallID == id || m.CallID[0] != 'X' {
		t.Errorf("Call-ID %q does not alias the input", m.CallID)
	}
}

func TestClone(t *testing.T) {
	for _, msg := range messages {
		in := bytes.Clone(msg)
		var m Message
		if err := ParseInto(&m, in); err != nil {
			t.Fatal(err)
		}
		c := m.Clone()
		if !reflect.DeepEqual(*c, m) {
			t.Fatalf("Clone:\n got %+v\nwant %+v", *c, m)
		}
		checkNoAlias(t, c, in)
	}
}

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(inviteSDP)))
	for b.Loop() {
		if _, err := Parse(inviteSDP); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkParseInDialog parses an in-dialog message (a BYE without a
// body) and looks for its session description, as the processor does for
// every SIP message of a call it follows: with Parse, which copies, and
// with ParseInto reusing one Message.
func BenchmarkParseInDialog(b *testing.B) {
	b.Run("Parse", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(byeRequest)))
		for b.Loop() {
			m, err := Parse(byeRequest)
			if err != nil {
				b.Fatal(err)
			}
			_ = m.SDPBody()
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	})
	b.Run("ParseInto", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(byeRequest)))
		var m Message
		for b.Loop() {
			if err := ParseInto(&m, byeRequest); err != nil {
				b.Fatal(err)
			}
			_ = m.SDPBody()
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	})
}

// TestParseUnreadableContentLength checks that a broken Content-Length
// counts as absent: the body is the rest of the datagram.
func TestParseUnreadableContentLength(t *testing.T) {
	for _, cl := range []string{"-1", "xyz", "99999999999999999999", "", "1 2"} {
		t.Run(cl, func(t *testing.T) {
			in := "BYE sip:a@b SIP/2.0\r\nCall-ID: x\r\nCSeq: 1 BYE\r\nContent-Length: " + cl + "\r\n\r\nrest"
			m, err := Parse([]byte(in))
			if err != nil {
				t.Fatal(err)
			}
			if m.CallID != "x" || m.ContentLength != -1 || string(m.Body) != "rest" {
				t.Fatalf("got Call-ID %q, Content-Length %d, body %q", m.CallID, m.ContentLength, m.Body)
			}
			if _, _, err := Frame([]byte(in)); !errors.Is(err, ErrMalformed) {
				t.Fatalf("Frame accepted Content-Length %q: %v", cl, err)
			}
		})
	}
}
