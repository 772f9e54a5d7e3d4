package decode

import "errors"

// ErrNeedMore is returned by a Framer when the buffered bytes are the start
// of a message that is not complete yet.
var ErrNeedMore = errors.New("need more data")

// A Framer splits one direction of a TCP byte stream into application
// messages. It is given the unconsumed bytes and returns how many leading
// bytes to discard before the next message (keep-alive CRLFs, say), and the
// length n of the complete message that follows them. It returns ErrNeedMore
// when more bytes are needed, and any other error when the bytes cannot be a
// message of its protocol.
type Framer func(b []byte) (skip, n int, err error)
