// Package template parses lc's %placeholder% command templates
// (--pcap-command, --voip-command, Lua's exec()) once, against the names a
// template may use, and renders them into a Command per event: an argv
// for execve, or a /bin/sh script that gets every value as a positional
// parameter. See Template for the rules that keep a value from ever being
// parsed as code.
//
// It owns the template grammar and the shell lexer that decides whether a
// template needs a shell; it does not run anything (package runner does)
// and does not know what the names mean.
//
// # Goroutines
//
// None. A Template is immutable and safe for concurrent use.
//
// # Errors
//
// Parse returns an *Error naming the template, the offset and the
// problem; Render cannot fail.
package template
