// Command lc follows SIP calls in packet captures and on live interfaces,
// writes one pcap per call and stream, and runs the operator's hooks for
// every closed file and finished call.
//
// This package is the command line: the cobra commands (root.go,
// process.go, hookscmd.go, hookstest.go), settings from flags, environment
// and config file, read with size limits (config.go, readfile.go), the
// descriptor limit (fdlimit_*.go), the input of lc process, files or
// interfaces with the filter (input.go), the run that wires input,
// processor and hook engine together (run.go), the hook flags (hooks.go),
// flag names for configuration errors (flagerror.go), the journal and
// what a restart does with it (journal.go; lc hooks pending in
// hookspending.go), events to NATS JetStream and lc hooks worker
// (natsflags.go, worker.go), disk retention: its flags and which units
// lc is done with (retention.go), reload on SIGHUP
// (reload.go), metrics
// (metrics.go), the status and progress lines (status.go, progress.go),
// the logger (logging.go), the build information of lc version and
// lc_build_info (buildinfo.go, version.go), privileges (privileges.go,
// capabilities_*.go) and the summary, as text or JSON (summary.go,
// summaryjson.go).
//
// # Goroutines
//
// lc process runs the processor on the goroutine that called it. Around
// it: the live capture's readers (package live), the hook engine's
// workers and, in live capture, its spool's pump (package script), and
// one goroutine each for the progress line, the
// status line, reload requests and the metrics server. These read the
// processor's published counters and the engine's and capture's
// counters, which are safe from any goroutine; only reload changes
// anything, and only the engine's hooks (script.Engine.Replace). With a
// retention limit, package retention's goroutine removes old output; the
// engine's workers tell it what is done (keeper.done), and reading files
// the processing goroutine waits for it when the tree is over the limit
// (keeper.waitRoom).
//
// lc hooks worker runs a natsbus.Worker on the goroutine that called it:
// its hook engine's workers and one goroutine per message it holds
// (package natsbus), and the metrics server.
//
// Signals (main.go): the first SIGINT or SIGTERM stops the input (files:
// at the next packet; live: after what the ring holds) and lets the last
// hooks run for --shutdown-timeout, whatever is queued; the second stops
// them at once. Exit statuses (root.go): 0, 1 processing failed, 2 usage,
// 3 hooks left unrun.
package main
