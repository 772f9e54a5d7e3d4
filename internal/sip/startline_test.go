package sip

import "testing"

func TestLooksLikeSIP(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{"invite", "INVITE sip:bob@b.example SIP/2.0\r\n", true},
		{"no line end", "BYE sip:bob@b.example SIP/2.0", true},
		{"leading keep-alive", "\r\n\r\nACK sip:b SIP/2.0\r\n", true},
		{"bare LF", "OPTIONS sip:b SIP/2.0\nVia: x\n", true},
		{"extension method with token chars", "X-Foo.Bar!%*_+`'~ sip:b SIP/2.0\r\n", true},
		{"lower-case version", "invite sip:b sip/2.0\r\n", true},
		{"trailing white space", "INVITE sip:b SIP/2.0 \t\r\n", true},
		{"status line", "SIP/2.0 200 OK\r\n", true},
		{"status without reason", "SIP/2.0 100\r\n", true},
		{"status with empty reason", "SIP/2.0 486 \r\n", true},
		{"status with utf-8 reason", "SIP/2.0 603 Déclin\r\n", true},
		{"empty", "", false},
		{"only CRLF", "\r\n", false},
		{"http", "GET / HTTP/1.1\r\n", false},
		{"http response", "HTTP/1.1 200 OK\r\n", false},
		{"sip 1.0", "INVITE sip:b SIP/1.0\r\n", false},
		{"version glued", "INVITE sip:b SIP/2.0x\r\n", false},
		{"missing uri", "INVITE  SIP/2.0\r\n", false},
		{"two spaces", "INVITE sip:b  SIP/2.0\r\n", false},
		{"leading space", " INVITE sip:b SIP/2.0\r\n", false},
		{"bad method char", "INV(TE sip:b SIP/2.0\r\n", false},
		{"control char in uri", "INVITE sip:\x01b SIP/2.0\r\n", false},
		{"status 2 digits", "SIP/2.0 20 OK\r\n", false},
		{"status 4 digits", "SIP/2.0 2000 OK\r\n", false},
		{"status 099", "SIP/2.0 099 x\r\n", false},
		{"status 700", "SIP/2.0 700 x\r\n", false},
		{"status no space", "SIP/2.0200 OK\r\n", false},
		{"status with NUL", "SIP/2.0 200 O\x00K\r\n", false},
		{"rtp", "\x80\x00\x12\x34\x00\x00\x00\xa0", false},
		{"tls", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", false},
		{"sip on the second line", "hello\r\nINVITE sip:b SIP/2.0\r\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := LooksLikeSIP([]byte(tt.in)); got != tt.want {
				t.Errorf("LooksLikeSIP(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

// TestStartLinePrefix checks that every prefix of a start line may grow
// into one, and that a prefix with a wrong byte may not.
func TestStartLinePrefix(t *testing.T) {
	good := []string{
		"INVITE sip:bob@b.example SIP/2.0",
		"SIP/2.0 200 OK",
		"SIP/2.0 180",
		"sip/2.0 100 Trying",
		"REGISTER sips:r.example SIP/2.0 \t",
	}
	for _, line := range good {
		for i := 0; i <= len(line); i++ {
			if !startLinePrefix([]byte(line[:i])) {
				t.Errorf("startLinePrefix(%q) = false, want true", line[:i])
			}
		}
	}
	bad := []string{
		"GET / HTTP",
		"HTTP/",
		"SIP/2.0 2x",
		"SIP/2.0 7",
		"SIP/2.0 200x",
		"INVITE sip:b SIP/2.1",
		"INVITE sip:b SIP/2.0x",
		" INVITE",
		"INVITE\t",
		"INVITE  ",
		"\x16\x03",
		"{\"json\":",
	}
	for _, p := range bad {
		if startLinePrefix([]byte(p)) {
			t.Errorf("startLinePrefix(%q) = true, want false", p)
		}
	}
}
