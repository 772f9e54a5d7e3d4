// Package runner runs the programs of lc's hooks: one process per Run,
// without a shell, in a process group of its own, with a deadline, capped
// output and no zombie left behind.
//
// # Goroutines
//
//	goroutine        count              does
//	caller           any number         Runner.Run: starts the child and waits for it
//	watcher          1 per running Run  at the deadline: SIGTERM, then SIGKILL to the group
//	output readers   2 per running Run  read stdout and stderr into capped buffers
//
// # Errors
//
// A command that fails is an outcome, not an error of Run: Result says how
// it ended (exit code, signal, timeout) and Result.Err why it could not
// start or be waited for.
package runner
