// Package script is lc's hook engine: it runs the operator's hooks for the
// events of package event, off the processing goroutine.
//
// It owns the Engine (the queue, per-call order, concurrency, the
// journal of events and hook runs, replay, the live spool, drain and
// reload), the Hook interface, and the two kinds of
// hooks: command hooks (--pcap-command, --voip-command: a template of
// package template run by package runner) and Lua hooks (--hook-script:
// functions of a script run in the VMs of package sandbox, given each
// event as a table, with the built-in exec()). Placeholder values and Lua
// tables are rendered from the event's field table, the same one the
// JSON of --events is written from.
//
// Its sub-packages can each be read and tested alone and import no other
// lc package:
//
//	template   %placeholder% templates and the shell lexer
//	runner     running a program in its own process group, with limits
//	sandbox    sandboxed gopher-lua VMs, their pool and limits, the bounded libraries
//
// # Safety
//
// Placeholder values come from the network. A template is parsed once into
// words; values are inserted afterwards and never re-parsed, and when a
// shell is needed they are passed as positional parameters, never spliced
// into the script. A command runs in its own process group with a
// deadline, and the whole group is killed when it passes. A Lua hook runs
// under a deadline and a memory budget that no built-in can escape.
//
// # Goroutines
//
//	goroutine               count                       does
//	processing loop         1 (the caller)              Engine.Submit (waits when the queue is full, unless spooled), Engine.Close
//	engine workers          EngineConfig.Concurrency    run the hooks of one event at a time
//	spool pump              1 with EngineConfig.Spool   moves spooled events (or, past its memory, their IDs, read back from the journal) into the queue
//	runner goroutines       3 per running command       see package runner
//	Lua deadline timers     1 per running invocation    see package sandbox
//
// The events of one call are handled by one worker at a time, in order;
// the Engine never runs two events with the same key at once.
//
// # Durability
//
// With EngineConfig.Journal, an event is journaled before it is queued,
// each hook run that ends is noted and the event ended after its last
// hook, so a restart can Replay what was left; see EngineConfig.Journal
// for what runs again.
//
// # Errors
//
// A hook's failure is never fatal: Hook.Run returns it, and the Engine
// logs it once (at Error, with the hook, the event and, for Lua, the
// traceback) and counts it, in all and by hook (EngineStats.Hooks).
// A command's run is logged with its output at Warn when it exits
// non-zero, times out or cannot start, and at Debug only when it
// succeeds: hooks run for every file and call, and their successes are
// counted, not logged one by one at Info. Configuration errors (a
// template that does not parse, a script that does not load) are
// returned by the constructors, before any event.
package script
