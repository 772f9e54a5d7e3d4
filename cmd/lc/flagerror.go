package main

import (
	"errors"
	"fmt"

	"github.com/lc-voip/lc/internal/processor"
)

// flagError is one invalid option value, named by the flag that sets it.
type flagError struct {
	Flag   string
	Value  string
	Reason string
}

func (e *flagError) Error() string { return fmt.Sprintf("%s = %q: %s", e.Flag, e.Value, e.Reason) }

// processorFlags names the flag of each processor.Config field that
// Config.Validate can report.
var processorFlags = map[string]string{
	"OutputDir":       "output-dir",
	"CallsLayout":     "calls-layout",
	"Grace":           "call-grace-period",
	"IdleTimeout":     "call-idle-timeout",
	"MaxCallDuration": "max-call-duration",
	"AuthWait":        "auth-wait",
	"RotateMaxAge":    "auto-rotate-max-age",
	"RotateIdle":      "auto-rotate-idle-timeout",
	"RotateMaxSize":   "auto-rotate-max-size",
	"PerCallMaxSize":  "per-call-max-size",
	"MaxOpenFiles":    "max-open-files",
	"Compress":        "compress",
	"MaxCalls":        "max-calls",
	"ReassemblyBytes": "reassembly-memory",
}

// asFlagError returns err as a *flagError when it is one, or a
// processor.FieldError of a field that a flag sets.
func asFlagError(err error) (*flagError, bool) {
	var fe *flagError
	if errors.As(err, &fe) {
		return fe, true
	}
	var pe *processor.FieldError
	if errors.As(err, &pe) {
		if flag, ok := processorFlags[pe.Field]; ok {
			return &flagError{Flag: flag, Value: pe.Value, Reason: pe.Reason}, true
		}
	}
	return nil, false
}
