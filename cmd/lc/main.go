// Command lc follows SIP calls in packet captures, writes one pcap per call
// and stream, and runs the operator's hooks for every closed file and
// finished call.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	// The first SIGINT/SIGTERM stops reading and lets hooks finish; the
	// second stops at once.
	stop, stopNow := context.WithCancel(context.Background())
	abort, abortNow := context.WithCancel(context.Background())
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		stopNow()
		<-sig
		abortNow()
	}()
	os.Exit(execute(stop, abort, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.LookupEnv))
}
