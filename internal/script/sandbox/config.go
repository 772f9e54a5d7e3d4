package sandbox

import (
	"log/slog"
	"maps"
	"time"
)

// Defaults for the zero fields of a Config.
const (
	DefaultTimeout     = 30 * time.Second
	DefaultMemoryLimit = 64 << 20
	DefaultPoolSize    = 10
	DefaultMaxUses     = 1000
)

// Config configures a Pool, and the run of the main chunk of
// Script.Check. Zero fields take the defaults. NewPool and Check copy it
// (the Builtins map included), so it may change after.
type Config struct {
	// Timeout bounds each invocation: the rerun of the main chunk and the
	// call, whatever the built-ins do included; zero or negative means
	// DefaultTimeout. The caller's context can only shorten it.
	Timeout time.Duration
	// MemoryLimit is the budget, in bytes, of the Lua data an invocation
	// may hold at once (strings, tables, closures and the value stack, as
	// estimated by the sandbox); zero or negative means
	// DefaultMemoryLimit.
	MemoryLimit int64
	// PoolSize is how many idle VMs a Pool keeps ready; zero or negative
	// means DefaultPoolSize.
	PoolSize int
	// MaxUses is how many invocations a VM serves before it is replaced
	// (the run of the main chunk at NewPool counts as one); zero or
	// negative means DefaultMaxUses.
	MaxUses int
	// Logger receives the log.*() and print() lines of the main chunk at
	// load and at Check, and those of a Call without a Log of its own.
	// The sandbox adds no attributes and logs nothing else; nil discards.
	Logger *slog.Logger
	// Builtins are global functions the host adds to the sandbox, by
	// name; a name must not be one of the sandbox's own globals. Check
	// counts them as known globals.
	Builtins map[string]Builtin
	// Trace, when set, is called for every log.*() and print() line and
	// for every failed load or Call, synchronously on the goroutine
	// running the script (lc hooks test prints them). It must not block.
	Trace func(Trace)
}

// Trace is one thing a script did, as reported to Config.Trace.
type Trace struct {
	Kind   string         // "log" or "error"
	Hook   string         // Call.Name; "" for the main chunk at load
	Level  string         // log: "debug", "info", "warn" or "error"
	Msg    string         // log: the message
	Fields map[string]any // log: the fields, flattened ("outer.inner")
	Err    error          // error: the *Error
	At     time.Duration  // since the invocation started
}

func (c Config) withDefaults() Config {
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.MemoryLimit <= 0 {
		c.MemoryLimit = DefaultMemoryLimit
	}
	if c.PoolSize <= 0 {
		c.PoolSize = DefaultPoolSize
	}
	if c.MaxUses <= 0 {
		c.MaxUses = DefaultMaxUses
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	c.Builtins = maps.Clone(c.Builtins)
	return c
}
