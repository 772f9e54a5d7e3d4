package script

import (
	"context"

	"github.com/lc-voip/lc/internal/script/sandbox"

	"github.com/lc-voip/lc/internal/event"
)

// ErrTimeout is wrapped by the error of a hook that ran out of time.
var ErrTimeout = sandbox.ErrTimeout

// A Hook is one thing an operator wants done for events: a command
// template, or a function of a Lua script. The Engine calls Run from its
// worker goroutines, several hooks at once, so a Hook must be safe for
// concurrent use.
type Hook interface {
	// Name identifies the hook in logs and counters, such as
	// "pcap-command".
	Name() string
	// Wants reports whether the hook runs for events of type t at all.
	Wants(t event.Type) bool
	// Run handles ev. An error is a failed run, which the Engine logs
	// and counts, never fatal; it wraps ErrTimeout when the hook ran out
	// of time. Run does not log its failure itself. It must return soon
	// after ctx is done.
	Run(ctx context.Context, ev event.Event) error
}

// A Set is a generation of hooks: the ones an Engine starts with, or the
// ones a reload gives it.
type Set struct {
	Hooks []Hook
	// Release, when set, is called once when no event needs the hooks
	// any more: after Replace, once the events queued under them have
	// run; after Close, for the set in place. Lua hooks close their VMs
	// there.
	Release func()
}
