package script

import (
	"context"
	"errors"

	"github.com/lc-voip/lc/internal/processor"
)

// ErrTimeout is wrapped by the error of a hook that ran out of time.
var ErrTimeout = errors.New("hook timed out")

// A Hook is one thing an operator wants done for events: a command
// template, or a function of a Lua script. The Engine calls Run from its
// worker goroutines, several hooks at once, so a Hook must be safe for
// concurrent use.
type Hook interface {
	// Name identifies the hook in logs and counters, such as
	// "pcap-command".
	Name() string
	// Wants reports whether the hook runs for ev at all.
	Wants(ev processor.Event) bool
	// Run handles ev. An error is a failed run: it is logged and counted,
	// never fatal; it wraps ErrTimeout when the hook ran out of time. Run
	// must return soon after ctx is done.
	Run(ctx context.Context, ev processor.Event) error
}

// eventKey is what orders hooks: the events of one call run one after the
// other, in emission order; other events run independently.
func eventKey(ev processor.Event) string {
	switch e := ev.(type) {
	case processor.FileClosed:
		if e.CallID != "" {
			return "call:" + e.CallID
		}
		return "file:" + e.Path
	case processor.CallCompleted:
		return "call:" + e.CallID
	}
	return ""
}
