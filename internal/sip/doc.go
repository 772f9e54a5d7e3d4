// Package sip parses SIP messages (RFC 3261), frames SIP messages out of a
// TCP byte stream (RFC 3261 §18.3) and parses the SDP bodies (RFC 8866) that
// negotiate media.
//
// The package owns parsing only. It keeps no state between calls and has no
// package-level variables that change, so every function is safe for
// concurrent use. Parsers never panic and never read past their input;
// malformed input is reported as an error wrapping ErrMalformed, input that
// is not SIP at all as ErrNotSIP.
//
// Parse is on the packet path and is written to allocate little: it scans the
// message once, looks only at the header fields it reports (Call-ID, From,
// To, CSeq, Content-Length, Content-Type), and copies every string it returns
// into one shared allocation, so a parse costs two allocations (the Message
// and its strings) however many fields it fills; only a display name with
// backslash escapes costs one more. Keeping any one string of a
// Message keeps that shared block alive; use strings.Clone to keep a single
// field of many messages for a long time. Body is not copied: it aliases the
// input.
package sip
