package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/lc-voip/lc/internal/processor"
	"github.com/lc-voip/lc/internal/script"
	"github.com/spf13/cobra"
)

func newHooksCmd(s streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "hooks",
		Short: "Try and check Lua hook scripts without traffic",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return usageError{errors.New("missing command: lc hooks test or lc hooks check")}
		},
	}
	cmd.AddCommand(newHooksTestCmd(s), newHooksCheckCmd(s))
	return cmd
}

// testEvent is what lc hooks test builds its event from.
type testEvent struct {
	kind     string
	callID   string
	caller   string
	called   string
	calldate string
	duration time.Duration
	dirname  string
	pcap     string
	fileKind string
	state    string
	status   int
}

func newHooksTestCmd(s streams) *cobra.Command {
	var (
		ev     testEvent
		lua    luaOptions
		doExec bool
		replay string
	)
	cmd := &cobra.Command{
		Use:   "test SCRIPT.lua [flags]",
		Short: "Run a hook script's function on one made-up event, or on every event of a capture",
		Long: `test runs the script under the real sandbox and limits and prints what it
did: every exec() with its exact argv, every log line, the result and the
time. Commands are not run unless --exec is given. With --replay, the
capture is processed into a temporary directory and every event it gives
is fed to the script in order.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if errs := lua.validate(); len(errs) > 0 {
				return usageError{errors.Join(withSources(errors.Join(errs...), settings{})...)}
			}
			var events []processor.Event
			if replay != "" {
				dir, err := os.MkdirTemp("", "lc-replay-")
				if err != nil {
					return err
				}
				defer os.RemoveAll(dir) // after the hooks, which may use the files
				if events, err = replayEvents(cmd, s, replay, dir); err != nil {
					return err
				}
			} else {
				e, err := ev.build()
				if err != nil {
					return usageError{err}
				}
				events = []processor.Event{e}
			}
			return runHookTest(s.out, args[0], lua, doExec, events)
		},
	}
	f := cmd.Flags()
	f.SortFlags = false
	f.StringVar(&ev.kind, "event", "call", "call (on_call_complete) or pcap (on_pcap_close)")
	f.StringVar(&ev.callID, "callid", "test-call-1@lc.example", "Call-ID")
	f.StringVar(&ev.caller, "caller", "alice@a.example", "From as user@host")
	f.StringVar(&ev.called, "called", "bob@b.example", "To as user@host")
	f.StringVar(&ev.calldate, "calldate", "2026-01-02T03:04:05Z", "first packet time, RFC 3339")
	f.DurationVar(&ev.duration, "duration", 42*time.Second, "call duration")
	f.StringVar(&ev.dirname, "dirname", "", "call directory (default: made from the other values under /tmp/lc-out)")
	f.StringVar(&ev.pcap, "pcap", "", "pcap path of a pcap event (default: the call's SIP file)")
	f.StringVar(&ev.fileKind, "kind", "sip", "file kind of a pcap event: sip, rtp or other")
	f.StringVar(&ev.state, "state", "completed", "call end state")
	f.IntVar(&ev.status, "status", 200, "final response code (0 for none)")
	f.BoolVar(&doExec, "exec", false, "really run the commands exec() is given")
	f.StringVar(&replay, "replay", "", "feed every event of this capture to the script instead")
	lua.addFlags(f, false)
	return cmd
}

// build makes the event the flags describe.
func (t testEvent) build() (processor.Event, error) {
	start, err := time.Parse(time.RFC3339, t.calldate)
	if err != nil {
		return nil, fmt.Errorf("calldate = %q: %v", t.calldate, err)
	}
	dir := t.dirname
	if dir == "" {
		dir = filepath.Join("/tmp/lc-out/calls", start.UTC().Format("2006-01-02"),
			start.UTC().Format("150405")+"_"+processor.SafeName(t.callID))
	}
	sip := filepath.Join(dir, processor.SafeName(t.callID)+"_sip.pcap")
	rtp := filepath.Join(dir, processor.SafeName(t.callID)+"_rtp.pcap")
	switch t.kind {
	case "call":
		return processor.CallCompleted{
			CallID: t.callID, Dirname: dir, Caller: t.caller, Called: t.called,
			CallDate: start, EndDate: start.Add(t.duration), State: processor.CallState(t.state), Status: t.status,
			SIPFiles: []string{sip}, RTPFiles: []string{rtp}, SIPPackets: 7, RTPPackets: 4200,
			Streams: []processor.Stream{{Media: "audio", Addr: "192.0.2.10:40000", RTCP: "192.0.2.10:40001", Packets: 2100}},
		}, nil
	case "pcap":
		path := t.pcap
		if path == "" {
			path = sip
		}
		callID := t.callID
		if t.fileKind == string(processor.KindOther) {
			callID = ""
		}
		return processor.FileClosed{
			Path: path, Kind: processor.FileKind(t.fileKind), CallID: callID, Reason: processor.ReasonCallEnd,
			Packets: 7, Bytes: 4096, First: start, Last: start.Add(t.duration),
		}, nil
	}
	return nil, fmt.Errorf("event = %q: must be call or pcap", t.kind)
}

// replayEvents processes a capture into dir and returns its events.
func replayEvents(cmd *cobra.Command, s streams, path, dir string) ([]processor.Event, error) {
	fmt.Fprintf(s.out, "replaying %s into %s (removed afterwards)\n", path, dir)
	merger, err := openFiles([]string{path}, s.in)
	if err != nil {
		return nil, err
	}
	defer merger.Close()
	cfg := processor.DefaultConfig()
	cfg.OutputDir = dir
	var events []processor.Event
	cfg.Emit = func(e processor.Event) { events = append(events, e) }
	proc, err := processor.New(cfg)
	if err != nil {
		return nil, err
	}
	runErr := proc.Run(cmd.Context(), merger)
	if err := errors.Join(runErr, proc.Close()); err != nil {
		return nil, err
	}
	return events, nil
}

// runHookTest runs the script for each event and prints what it did. It
// fails when any invocation failed.
func runHookTest(w io.Writer, path string, lua luaOptions, doExec bool, events []processor.Event) error {
	runner := &script.Runner{Timeout: lua.timeout, DryRun: !doExec}
	hooks, err := lua.load(path, script.LuaConfig{PoolSize: 1, Runner: runner, Trace: func(t script.Trace) { printTrace(w, t) }})
	if err != nil {
		return usageError{err}
	}
	defer hooks.Close()
	var failed int
	for _, ev := range events {
		for _, h := range hooks.Hooks() {
			if !h.Wants(ev) {
				continue
			}
			fmt.Fprintf(w, "%s(%s)\n", h.Name(), describe(ev))
			start := time.Now()
			err := h.Run(context.Background(), ev)
			took := time.Since(start).Round(time.Microsecond)
			if err != nil {
				failed++
				fmt.Fprintf(w, "  FAILED after %s: %v\n", took, err)
				continue
			}
			fmt.Fprintf(w, "  ok in %s\n", took)
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d hook invocation(s) failed", failed)
	}
	return nil
}

func describe(ev processor.Event) string {
	switch e := ev.(type) {
	case processor.FileClosed:
		return fmt.Sprintf("%q, {kind=%s, callid=%q, part=%d, reason=%s}", e.Path, e.Kind, e.CallID, e.Part, e.Reason)
	case processor.CallCompleted:
		return fmt.Sprintf("{callid=%q, state=%s, status=%d, duration=%.0f}", e.CallID, e.State, e.Status, e.Duration().Seconds())
	}
	return ev.Name()
}

// printTrace writes one thing a hook did.
func printTrace(w io.Writer, t script.Trace) {
	at := t.At.Round(time.Microsecond)
	switch t.Kind {
	case "exec":
		what := fmt.Sprintf("argv %q", t.Argv)
		if t.Script != "" {
			what = fmt.Sprintf("sh script %q params %q", t.Script, t.Params)
		}
		res := "not run (dry run; --exec runs it)"
		if r := t.Result; r != nil && !r.DryRun {
			res = fmt.Sprintf("exit %d in %s", r.Code, r.Duration.Round(time.Microsecond))
			if r.TimedOut {
				res += ", timed out"
			}
			if r.Err != nil {
				res += ", " + r.Err.Error()
			}
			if len(r.Stdout) > 0 {
				res += fmt.Sprintf(", stdout %q", clipString(string(r.Stdout)))
			}
			if len(r.Stderr) > 0 {
				res += fmt.Sprintf(", stderr %q", clipString(string(r.Stderr)))
			}
		}
		fmt.Fprintf(w, "  +%s exec %s: %s\n", at, what, res)
	case "log":
		fmt.Fprintf(w, "  +%s log.%s %q%s\n", at, t.Level, t.Msg, fields(t.Fields))
	case "error":
		fmt.Fprintf(w, "  +%s error: %v\n", at, t.Err)
	}
}

func fields(m map[string]any) string {
	if len(m) == 0 {
		return ""
	}
	var b strings.Builder
	for _, k := range processor.SortedKeys(m) {
		fmt.Fprintf(&b, " %s=%v", k, m[k])
	}
	return b.String()
}

func clipString(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
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
			compiled, err := script.CompileLua(args[0], src)
			if err != nil {
				return usageError{err} // as lc process and lc hooks test say it
			}
			// The top level runs once, as when lc loads the script; a
			// loop there is reported after checkTimeout, not the hooks'
			// deadline.
			rep, err := compiled.Check(script.LuaConfig{Timeout: checkTimeout, Logger: slog.New(slog.DiscardHandler)})
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
