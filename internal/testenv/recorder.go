package testenv

import "sync"

// Recorder collects values that callbacks on other goroutines report,
// such as the traces of a hook. The zero value is ready.
type Recorder[T any] struct {
	mu   sync.Mutex
	list []T
}

// Add records v. Safe from any goroutine.
func (r *Recorder[T]) Add(v T) {
	r.mu.Lock()
	r.list = append(r.list, v)
	r.mu.Unlock()
}

// All returns a copy of what was recorded, in order.
func (r *Recorder[T]) All() []T {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]T(nil), r.list...)
}
