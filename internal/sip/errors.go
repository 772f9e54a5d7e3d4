package sip

import (
	"errors"
	"fmt"
)

var (
	// ErrIncomplete is returned by Frame when the bytes are the beginning
	// of a SIP message and more are needed to complete it.
	ErrIncomplete = errors.New("sip: incomplete message")

	// ErrNotSIP is returned when the bytes do not start with a SIP request
	// line or status line.
	ErrNotSIP = errors.New("sip: not a SIP message")

	// ErrMalformed is wrapped by every error that reports a SIP message,
	// SIP stream or SDP body that starts well but is broken: a missing
	// required header, an invalid value, a limit exceeded.
	ErrMalformed = errors.New("sip: malformed message")
)

// malformedError is an error that describes what is wrong and matches
// ErrMalformed with errors.Is.
type malformedError struct {
	msg string
}

func (e *malformedError) Error() string { return e.msg }

func (e *malformedError) Unwrap() error { return ErrMalformed }

// malformed returns a malformedError with a message formatted by
// fmt.Sprintf.
func malformed(format string, args ...any) error {
	return &malformedError{msg: fmt.Sprintf(format, args...)}
}

// maxSnippet bounds how many bytes of a bad value an error message quotes.
const maxSnippet = 40

// snippet returns b as a string for quoting in an error message, cut to
// maxSnippet bytes.
func snippet(b []byte) string {
	if len(b) > maxSnippet {
		return string(b[:maxSnippet]) + "..."
	}
	return string(b)
}
