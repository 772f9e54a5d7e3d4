// Package sandbox runs Lua scripts under limits: gopher-lua VMs that
// reach nothing outside but what the host adds, each invocation bounded
// in time and in memory.
//
// It owns the compiled script (Compile, Script), the pool of sandboxed
// VMs that run its functions (NewPool, Pool.Call), the static check of a
// script (Script.Check), the time limit and the memory estimate, the
// bounded replacements of the string, table and pattern functions, json,
// log.*() and print(). It knows nothing of what the scripts are for: the
// host names the functions to call, passes their arguments as plain Go
// values (Table), and adds its own global functions (Config.Builtins,
// such as lc's exec()). The unsafe reads of gopher-lua's internals the
// limits need are in the sub-package internal/layout.
//
// # The sandbox
//
// A script sees an allowlist of Lua 5.1's base, string, table, math and
// os functions, json, log and the host's Builtins; no io, require, load,
// debug, coroutine or os.execute. Every invocation runs the main chunk in
// a fresh global table, and the shared libraries are read-only, so
// nothing one invocation does is seen by the next. See Pool for the
// limits.
//
// # Goroutines
//
//	goroutine         count                     does
//	the caller        any number                NewPool, Check, Pool.Call (each Call runs its script on the caller's goroutine, Builtins included), Pool.Close
//	deadline timer    1 per running invocation  sets the flag the VM checks before each instruction
//
// A Builtin that uses Invocation.Context may add the goroutine of that
// context's deadline, which cancels it.
//
// # Errors
//
// Compile returns a syntax error as "NAME:LINE: message". When a script
// fails, in its main chunk (NewPool, Check, and the rerun before a call)
// or in the called function, the error is an *Error with the Lua message,
// its position and the traceback; it wraps ErrTimeout when the deadline
// passed or the caller's context was done, and ErrMemoryLimit when the
// script held more than its budget. Every such failure is also given to
// Config.Trace; the sandbox logs nothing but the scripts' own lines, so
// the host decides how to log a failure. Arguments of a Go type the
// sandbox does not convert, and a Call after Close, are plain errors:
// mistakes of the host, not of the script.
package sandbox
