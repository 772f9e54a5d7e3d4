package sip

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// frameAll frames b until it runs out of complete messages. It returns the
// messages, the total of keep-alive bytes skipped, and the error that
// stopped it.
func frameAll(tb testing.TB, b []byte) (msgs [][]byte, skipped int, err error) {
	tb.Helper()
	for {
		skip, n, err := Frame(b)
		if skip < 0 || n < 0 || skip+n > len(b) {
			tb.Fatalf("Frame returned skip=%d n=%d for %d bytes", skip, n, len(b))
		}
		skipped += skip
		if err != nil {
			return msgs, skipped, err
		}
		msgs = append(msgs, b[skip:skip+n])
		b = b[skip+n:]
	}
}

func TestFrameStream(t *testing.T) {
	stream := bytes.Join([][]byte{
		[]byte("\r\n\r\n"), inviteSDP,
		okSDP,
		[]byte("\r\n"), byeRequest,
		[]byte("\r\n\r\n\r\n"), multipartInvite,
		compactInvite,
		[]byte("\r\n"),
	}, nil)
	msgs, skipped, err := frameAll(t, stream)
	if !errors.Is(err, ErrIncomplete) {
		t.Fatalf("Frame at the end of the stream: %v, want ErrIncomplete", err)
	}
	want := [][]byte{inviteSDP, okSDP, byeRequest, multipartInvite, compactInvite}
	if len(msgs) != len(want) {
		t.Fatalf("framed %d messages, want %d", len(msgs), len(want))
	}
	for i := range want {
		if !bytes.Equal(msgs[i], want[i]) {
			t.Errorf("message %d:\n got %q\nwant %q", i, msgs[i], want[i])
		}
	}
	if skipped != 4+2+6+2 {
		t.Errorf("skipped %d keep-alive bytes, want 14", skipped)
	}
}

// TestFrameEveryPrefix feeds each message one byte at a time: every proper
// prefix is incomplete and the whole message frames exactly.
func TestFrameEveryPrefix(t *testing.T) {
	for _, msg := range append(messages, []byte("\r\n\r\nSIP/2.0 100 Trying\nCall-ID: a\nCSeq: 1 INVITE\nl: 0\n\n")) {
		t.Run(string(msg[:bytes.IndexByte(msg, '\n')]), func(t *testing.T) {
			skip := len(msg) - len(bytes.TrimLeft(msg, "\r\n"))
			for i := 0; i < len(msg); i++ {
				s, n, err := Frame(msg[:i])
				if !errors.Is(err, ErrIncomplete) || n != 0 || s != min(skip, i) {
					t.Fatalf("Frame(first %d bytes) = %d, %d, %v; want %d, 0, ErrIncomplete", i, s, n, err, min(skip, i))
				}
			}
			s, n, err := Frame(msg)
			if err != nil || s != skip || s+n != len(msg) {
				t.Fatalf("Frame(whole) = %d, %d, %v; want %d, %d, nil", s, n, err, skip, len(msg)-skip)
			}
			if _, err := Parse(msg[s : s+n]); err != nil {
				t.Errorf("Parse(framed): %v", err)
			}
		})
	}
}

func TestFrame(t *testing.T) {
	longHeader := "INVITE sip:b SIP/2.0\r\nX-Long: " + strings.Repeat("a", maxHeaderSection) + "\r\n"
	tests := []struct {
		name     string
		in       string
		wantSkip int
		wantN    int
		wantErr  error
		wantMsg  string
	}{
		{name: "empty", in: "", wantErr: ErrIncomplete},
		{name: "only keep-alives", in: "\r\n\r\n", wantSkip: 4, wantErr: ErrIncomplete},
		{name: "no Content-Length is 0", in: "ACK sip:b SIP/2.0\r\nCall-ID: x\r\n\r\nextra", wantN: 33},
		{name: "compact Content-Length", in: "MESSAGE sip:b SIP/2.0\nl: 2\n\nhi!", wantN: 30},
		{name: "first Content-Length counts", in: "MESSAGE sip:b SIP/2.0\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", wantN: 64},
		{name: "body not yet there", in: "MESSAGE sip:b SIP/2.0\r\nContent-Length: 5\r\n\r\nab", wantErr: ErrIncomplete},
		{name: "http request", in: "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n", wantErr: ErrNotSIP},
		{name: "partial http request", in: "GET / HT", wantErr: ErrNotSIP},
		{name: "http response", in: "HTTP/1.1 200 OK\r\n", wantErr: ErrNotSIP},
		{name: "partial http response", in: "HTTP/", wantErr: ErrNotSIP},
		{name: "tls record", in: "\x16\x03\x01\x00\xa5\x01\x00\x00\xa1", wantErr: ErrNotSIP},
		{name: "keep-alive then http", in: "\r\nPOST /x HTTP/1.1\r\n", wantSkip: 2, wantErr: ErrNotSIP},
		{name: "start line of 512 bytes with CRLF", in: "INVITE sip:" + strings.Repeat("b", 512-21) + " SIP/2.0\r\n", wantErr: ErrIncomplete},
		{name: "start line of 513 bytes with CRLF", in: "INVITE sip:" + strings.Repeat("b", 513-21) + " SIP/2.0\r\n", wantErr: ErrNotSIP},
		{name: "start line over 512 bytes", in: "INVITE sip:" + strings.Repeat("b", 600) + " SIP/2.0\r\n", wantErr: ErrNotSIP},
		{name: "512 bytes without line end", in: "INVITE sip:" + strings.Repeat("b", 501), wantErr: ErrNotSIP},
		{name: "511 bytes without line end", in: "INVITE sip:" + strings.Repeat("b", 500), wantErr: ErrIncomplete},
		{name: "header section over 64 KiB, unfinished", in: longHeader, wantErr: ErrMalformed, wantMsg: "sip: header section exceeds 65536 bytes"},
		{name: "header section over 64 KiB, finished", in: longHeader + "\r\n", wantErr: ErrMalformed, wantMsg: "sip: header section exceeds 65536 bytes"},
		{name: "negative Content-Length", in: "BYE sip:b SIP/2.0\r\nContent-Length: -4\r\n\r\n", wantErr: ErrMalformed, wantMsg: `sip: negative Content-Length "-4"`},
		{name: "bad Content-Length", in: "BYE sip:b SIP/2.0\r\nl: 1x\r\n\r\n", wantErr: ErrMalformed, wantMsg: `sip: bad Content-Length "1x"`},
		{name: "body over 16 MiB", in: "BYE sip:b SIP/2.0\r\nl: 16777217\r\n\r\n", wantErr: ErrMalformed, wantMsg: "sip: body of 16777217 bytes exceeds 16777216"},
		{name: "header line without colon", in: "BYE sip:b SIP/2.0\r\ngarbage\r\n\r\n", wantErr: ErrMalformed, wantMsg: "has no colon"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			skip, n, err := Frame([]byte(tt.in))
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("Frame = %d, %d, %v; want error %v", skip, n, err, tt.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("Frame error %q does not contain %q", err, tt.wantMsg)
			}
			if skip != tt.wantSkip || n != tt.wantN {
				t.Errorf("Frame = %d, %d; want %d, %d", skip, n, tt.wantSkip, tt.wantN)
			}
		})
	}
}

func FuzzFrame(f *testing.F) {
	for _, m := range messages {
		f.Add(m)
	}
	f.Add(bytes.Join([][]byte{[]byte("\r\n\r\n"), inviteSDP, []byte("\r\n"), okSDP, byeRequest[:40]}, nil))
	f.Add([]byte("GET / HTTP/1.1\r\n\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		skip, n, err := Frame(b)
		if skip < 0 || n < 0 || skip+n > len(b) {
			t.Fatalf("Frame = %d, %d for %d bytes", skip, n, len(b))
		}
		if err != nil {
			if n != 0 {
				t.Fatalf("Frame = %d, %d, %v: n must be 0 with an error", skip, n, err)
			}
			return
		}
		msg := b[skip : skip+n]
		if !LooksLikeSIP(msg) {
			t.Fatalf("framed %q, which LooksLikeSIP rejects", msg)
		}
		// Every proper prefix of a framed message is incomplete.
		if _, _, err := Frame(b[:skip+n-1]); !errors.Is(err, ErrIncomplete) {
			t.Fatalf("Frame(all but the last byte) = %v, want ErrIncomplete", err)
		}
		// Parse agrees with Frame about where the body ends.
		if m, err := Parse(msg); err == nil && (m.Truncated || len(m.Body) != max(m.ContentLength, 0)) {
			t.Fatalf("Parse(framed) body %d bytes, ContentLength %d, Truncated %v", len(m.Body), m.ContentLength, m.Truncated)
		}
	})
}
