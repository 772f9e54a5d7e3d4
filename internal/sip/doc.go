// Package sip parses SIP messages (RFC 3261), frames SIP messages out of a
// TCP byte stream (RFC 3261 §18.3) and parses the SDP bodies (RFC 8866) that
// negotiate media.
//
// The package owns parsing only. It keeps no state between calls and has no
// package-level variables that change, so every function is safe for
// concurrent use (ParseInto as long as each goroutine fills its own
// Message). Parsers never panic and never read past their input;
// malformed input is reported as an error wrapping ErrMalformed, input that
// is not SIP at all as ErrNotSIP.
//
// ParseInto is the packet path: it fills a Message the caller provides and
// does not allocate, because the strings it fills alias the parsed bytes
// (rare values excepted: a folded header, a display name with backslash
// escapes, an unusual Content-Type in upper case). The bytes must not
// change while any of those strings is held, so whoever keeps one longer
// copies it where it is kept: strings.Clone for one field, Message.Clone
// for all. Parse is ParseInto followed by Clone: two allocations, the Message
// and one block for all its strings, which keeping any one string keeps
// alive. With either, Body aliases the input. SDPBody does not allocate.
package sip
