package sip

import "unsafe"

// view returns the bytes of p as a string without copying them. The string
// is valid only while p is not modified: ParseInto documents this for the
// strings of a Message, and every caller of view must keep to it.
func view(p []byte) string {
	if len(p) == 0 {
		return ""
	}
	return unsafe.String(unsafe.SliceData(p), len(p))
}

// readOnly returns the bytes of s without copying them, for functions that
// take a []byte and only read it. The result must never be modified.
func readOnly(s string) []byte {
	return unsafe.Slice(unsafe.StringData(s), len(s))
}
