package processor

import (
	"crypto/sha256"
	"encoding/hex"
)

// maxSafeName bounds the file-name form of a Call-ID, hash suffix excluded.
const maxSafeName = 64

// SafeName returns the file-name form of a Call-ID: bytes outside a
// conservative allowlist (ASCII letters, digits, '-', '_', '.', '+', '@')
// become '_', a leading '.' becomes '_', and the result is cut to 64 bytes.
// Whenever the name had to change, "~" and 12 hex digits of the SHA-256 of
// the raw Call-ID are appended, so two Call-IDs never share a name and no
// Call-ID can name a path outside the directory it is placed in.
func SafeName(callID string) string {
	b := make([]byte, 0, min(len(callID), maxSafeName)+13)
	changed := len(callID) == 0 || len(callID) > maxSafeName
	for i := 0; i < len(callID) && len(b) < maxSafeName; i++ {
		c := callID[i]
		if !safeByte(c) || (i == 0 && c == '.') {
			c = '_'
			changed = true
		}
		b = append(b, c)
	}
	if changed {
		sum := sha256.Sum256([]byte(callID))
		b = append(b, '~')
		b = hex.AppendEncode(b, sum[:6])
	}
	return string(b)
}

func safeByte(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	switch c {
	case '-', '_', '.', '+', '@':
		return true
	}
	return false
}
