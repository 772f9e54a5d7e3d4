package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
)

// Exit statuses.
const (
	exitOK    = 0
	exitError = 1 // processing failed
	exitUsage = 2 // bad command line or configuration
	exitUnrun = 3 // everything was written, but hooks were left unrun
)

// usageError marks errors that mean the command was called wrongly.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// hooksNotRunError ends a run whose files were all written but whose
// hooks did not all run: hook runs left when the shutdown deadline passed,
// and events of the live spool that never reached the hooks.
type hooksNotRunError struct{ runs, events int64 }

func (e hooksNotRunError) Error() string {
	switch {
	case e.events == 0:
		return fmt.Sprintf("%d hook runs not run: the shutdown deadline passed", e.runs)
	case e.runs == 0:
		return fmt.Sprintf("%d spooled events never reached the hooks", e.events)
	}
	return fmt.Sprintf("%d hook runs not run: the shutdown deadline passed; %d spooled events never reached the hooks", e.runs, e.events)
}

// streams are what a command works with besides its flags: the standard
// streams, the environment (looked up, and listed), the context a second
// interrupt cancels (the command's own context is canceled by the first),
// and the reload requests (SIGHUP).
type streams struct {
	in        io.Reader
	out, err  io.Writer
	lookupEnv func(string) (string, bool)
	environ   []string // the environment's variables as NAME=value; nil: none
	abort     context.Context
	reload    <-chan struct{} // nil: never
}

// envNames returns the names of the environment's variables.
func (s streams) envNames() []string {
	names := make([]string, 0, len(s.environ))
	for _, kv := range s.environ {
		name, _, _ := strings.Cut(kv, "=")
		names = append(names, name)
	}
	return names
}

// execute runs lc with args and returns the exit status. ctx is canceled to
// stop (finish what was read, run the hooks for up to the shutdown
// timeout); s.abort to stop at once.
func execute(ctx context.Context, args []string, s streams) int {
	stderr := s.err
	root := newRootCmd(s)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	fmt.Fprintf(stderr, "lc: %v\n", err)
	var ue usageError
	if errors.As(err, &ue) {
		return exitUsage
	}
	var unrun hooksNotRunError
	if errors.As(err, &unrun) {
		return exitUnrun
	}
	return exitError
}

func newRootCmd(s streams) *cobra.Command {
	root := &cobra.Command{
		Use:           "lc",
		Short:         "Follow SIP calls in captures and write one pcap per call",
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return usageError{errors.New("missing command; see 'lc --help'")}
		},
	}
	root.SetIn(s.in)
	root.SetOut(s.out)
	root.SetErr(s.err)
	// Subcommands inherit it: every flag error is a usage error.
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(newProcessCmd(s), newHooksCmd(s), newVersionCmd(s))
	return root
}
