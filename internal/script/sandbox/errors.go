package sandbox

import (
	"errors"
	"fmt"

	lua "github.com/yuin/gopher-lua"
)

// ErrTimeout is wrapped by the error of an invocation that passed its
// deadline (Config.Timeout, or the caller's context's deadline) or whose
// caller's context was canceled.
var ErrTimeout = errors.New("hook timed out")

// ErrMemoryLimit is wrapped by the error of an invocation that went over
// its memory budget (Config.MemoryLimit).
var ErrMemoryLimit = errors.New("hook memory limit exceeded")

// errClosed is the error of a Call made after Close.
var errClosed = errors.New("lua pool is closed")

// Error is the error of a Call, or of a script's main chunk, that failed:
// a runtime error, or a limit reached.
type Error struct {
	Hook      string // Call.Name, such as "lua:on_call_complete"; "" for the main chunk at load
	Script    string // the script's name
	Message   string // the Lua error with its position, such as "hooks.lua:7: attempt to index a nil value"
	Traceback string // the Lua stack traceback, when there is one
	Err       error  // ErrTimeout or ErrMemoryLimit when a limit was reached, possibly wrapped; else nil
}

// Error returns the message prefixed with Hook, or with Script for the
// main chunk.
func (e *Error) Error() string {
	if e.Hook == "" {
		return e.Script + ": " + e.Message
	}
	return e.Hook + ": " + e.Message
}

// Unwrap returns Err.
func (e *Error) Unwrap() error { return e.Err }

// maxErrorMessage bounds the error messages kept from a script.
const maxErrorMessage = 4 << 10

// errorObjectMessage describes the value a script raised.
func errorObjectMessage(v lua.LValue) string {
	switch v := v.(type) {
	case lua.LString:
		return clipString(string(v), maxErrorMessage)
	case lua.LNumber:
		return v.String()
	case nil, *lua.LNilType:
		return "error object is nil"
	case lua.LBool:
		return fmt.Sprintf("error object is a boolean (%t)", bool(v))
	case *lua.LTable:
		for _, key := range []string{"message", "msg", "error", "err"} {
			if s, ok := v.RawGetString(key).(lua.LString); ok {
				return "error object is a table: " + key + " = " + clipString(string(s), maxErrorMessage)
			}
		}
		return "error object is a table"
	}
	return "error object is a " + v.Type().String()
}

// clipString cuts s to at most n bytes, marking the cut.
func clipString(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
