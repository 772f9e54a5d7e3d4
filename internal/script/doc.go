// Package script runs the operator's hooks for lc's events: command
// templates (--pcap-command, --voip-command) and Lua scripts
// (--hook-script), all through one Engine.
//
// It owns the event queue and its workers (Engine), the Hook interface,
// command templates and their placeholders (ParseTemplate, FileValues,
// CallValues), and the process runner (Runner). It imports processor for
// the event types only.
//
// # Safety
//
// Placeholder values come from the network. A Template is parsed once into
// words; values are inserted afterwards and never re-parsed, and when a
// shell is needed they are passed as positional parameters, never spliced
// into the script. A command runs in its own process group with a
// deadline, and the whole group is killed when it passes.
//
// # Goroutines
//
//	goroutine               count                 does
//	processing loop         1 (the caller)        Engine.Submit (waits when the queue is full), Engine.Close
//	engine workers          EngineConfig.Concurrency  run the hooks of one event at a time
//	runner watchers         1 per running command    deadline: SIGTERM, then SIGKILL to the group
//	runner output readers   2 per running command    read stdout and stderr into capped buffers
//	Lua deadline timers     1 per running invocation set the flag the VM checks before each instruction
//
// The events of one call are handled by one worker at a time, in order;
// the Engine never runs two events with the same key at once.
package script
