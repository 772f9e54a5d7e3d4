package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/lc-voip/lc/internal/script"
	"github.com/lc-voip/lc/internal/script/sandbox"
	"github.com/spf13/cobra"
)

func newHooksCmd(s streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "hooks",
		Short: "Try and check hook scripts, list pending hook work, run hooks on events from NATS",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return usageError{errors.New("missing command: lc hooks test, lc hooks check, lc hooks pending or lc hooks worker")}
		},
	}
	cmd.AddCommand(newHooksTestCmd(s), newHooksCheckCmd(s), newHooksPendingCmd(s), newHooksWorkerCmd(s))
	return cmd
}

// checkTimeout is how long lc hooks check lets a script's top level run.
const checkTimeout = 5 * time.Second

func newHooksCheckCmd(s streams) *cobra.Command {
	return &cobra.Command{
		Use:   "check SCRIPT.lua",
		Short: "Compile a hook script, list its hook functions and flag globals outside the sandbox",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			src, err := readSmallFile(args[0], maxScriptFile)
			if err != nil {
				return usageError{err}
			}
			compiled, err := sandbox.Compile(args[0], src)
			if err != nil {
				return usageError{err} // as lc process and lc hooks test say it
			}
			// The top level runs once, as when lc loads the script; a
			// loop there is reported after checkTimeout, not the hooks'
			// deadline.
			rep, err := script.CheckLua(compiled, script.LuaConfig{Sandbox: sandbox.Config{Timeout: checkTimeout}})
			var problems []string
			if err != nil {
				problems = append(problems, err.Error())
			}
			if len(rep.Functions) == 0 {
				problems = append(problems, "defines no hook function (on_pcap_close or on_call_complete)")
			}
			for _, f := range rep.Functions {
				fmt.Fprintf(s.out, "defines %s\n", f)
			}
			for _, g := range rep.UnknownGlobals {
				problems = append(problems, fmt.Sprintf("%s:%d: %s is not available in the sandbox", args[0], g.Line, g.Name))
			}
			if len(problems) > 0 {
				return errors.New(strings.Join(problems, "\n"))
			}
			fmt.Fprintln(s.out, "ok")
			return nil
		},
	}
}
