package main

import "sync"

// each calls f on its own goroutine with every value received from c,
// until the returned stop function is called; stop returns once no call
// of f is under way. It runs lc's periodic work (progress, status lines)
// and reload requests next to the processing loop.
func each[T any](c <-chan T, f func(T)) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case v := <-c:
				f(v)
			case <-done:
				return
			}
		}
	}()
	return func() {
		close(done)
		wg.Wait()
	}
}
