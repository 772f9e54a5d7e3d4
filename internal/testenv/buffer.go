package testenv

import (
	"bytes"
	"strings"
	"sync"
)

// Buffer is a log sink that other goroutines write to while a test reads
// it or waits for a line. The zero value is ready.
type Buffer struct {
	mu   sync.Mutex
	cond *sync.Cond // made on first use; signalled by every Write
	buf  bytes.Buffer
}

// changed is b's condition. Called with mu held.
func (b *Buffer) changed() *sync.Cond {
	if b.cond == nil {
		b.cond = sync.NewCond(&b.mu)
	}
	return b.cond
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	defer b.changed().Broadcast()
	return b.buf.Write(p)
}

// WaitFor blocks until s has been written.
func (b *Buffer) WaitFor(s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for !strings.Contains(b.buf.String(), s) {
		b.changed().Wait()
	}
}

func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
