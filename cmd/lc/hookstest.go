package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lc-voip/lc/internal/event"
	"github.com/lc-voip/lc/internal/processor"
	"github.com/lc-voip/lc/internal/script"
	"github.com/lc-voip/lc/internal/script/runner"
	"github.com/lc-voip/lc/internal/script/sandbox"
	"github.com/spf13/cobra"
)

// testEvent is what lc hooks test builds its event from.
type testEvent struct {
	kind     string
	callIDs  []string // the first is the made-up event's
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
		ev       testEvent
		lua      luaOptions
		commands commandTemplates
		doExec   bool
		replay   string
	)
	cmd := &cobra.Command{
		Use:   "test [SCRIPT.lua] [flags]",
		Short: "Run hooks on one made-up event, or on the events of a capture",
		Long: `test runs a hook script under the real sandbox and limits, and the
--pcap-command and --voip-command templates, and prints what they did:
every command with its exact argv (or shell script and parameters), every
log line, the result and the time. Commands are not run unless --exec is
given. With --replay, the capture is processed into a temporary directory
and every event it gives is fed to the hooks in order; --callid, repeated,
keeps only the events of those calls.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if errs := lua.validate(); len(errs) > 0 {
				return usageError{errors.Join(withSources(errors.Join(errs...), settings{})...)}
			}
			if len(args) == 0 && commands.pcap == "" && commands.voip == "" {
				return usageError{errors.New("give a hook script, --pcap-command or --voip-command")}
			}
			events, cleanup, err := testEvents(cmd, s, ev, replay)
			if err != nil {
				return err
			}
			defer cleanup() // after the hooks, which may use the files
			script := ""
			if len(args) == 1 {
				script = args[0]
			}
			return runHookTest(s.out, script, lua, commands, doExec, events)
		},
	}
	f := cmd.Flags()
	f.SortFlags = false
	f.StringVar(&ev.kind, "event", "call", "call (on_call_complete) or pcap (on_pcap_close)")
	f.StringArrayVar(&ev.callIDs, "callid", nil, "Call-ID of the made-up event (default test-call-1@lc.example); with --replay, the calls to keep (repeatable)")
	f.StringVar(&ev.caller, "caller", "alice@a.example", "From as user@host")
	f.StringVar(&ev.called, "called", "bob@b.example", "To as user@host")
	f.StringVar(&ev.calldate, "calldate", "2026-01-02T03:04:05Z", "first packet time, RFC 3339")
	f.DurationVar(&ev.duration, "duration", 42*time.Second, "call duration")
	f.StringVar(&ev.dirname, "dirname", "", "call directory (default: made from the other values under /tmp/lc-out)")
	f.StringVar(&ev.pcap, "pcap", "", "pcap path of a pcap event (default: the call's SIP file)")
	f.StringVar(&ev.fileKind, "kind", "sip", "file kind of a pcap event: sip, rtp or other")
	f.StringVar(&ev.state, "state", "completed", "call end state")
	f.IntVar(&ev.status, "status", 200, "final response code (0 for none)")
	f.StringVar(&commands.pcap, "pcap-command", "", "also try this --pcap-command template")
	f.StringVar(&commands.voip, "voip-command", "", "also try this --voip-command template")
	f.BoolVar(&doExec, "exec", false, "really run the commands")
	f.StringVar(&replay, "replay", "", "feed every event of this capture to the hooks instead")
	lua.addFlags(f, false)
	return cmd
}

// testEvents returns the events to try: the made-up one, or those of the
// capture replay (of the calls ev.callIDs names, when it names any), and
// a function that removes what the replay wrote.
func testEvents(cmd *cobra.Command, s streams, ev testEvent, replay string) ([]event.Event, func(), error) {
	nothing := func() {}
	if replay == "" {
		if len(ev.callIDs) > 1 {
			return nil, nothing, usageError{errors.New("several --callid only with --replay")}
		}
		e, err := ev.build()
		if err != nil {
			return nil, nothing, usageError{err}
		}
		return []event.Event{e}, nothing, nil
	}
	dir, err := os.MkdirTemp("", "lc-replay-")
	if err != nil {
		return nil, nothing, err
	}
	cleanup := func() { os.RemoveAll(dir) }
	events, err := replayEvents(cmd, s, replay, dir)
	if err == nil && len(ev.callIDs) > 0 {
		events, err = onlyCalls(events, ev.callIDs)
	}
	if err != nil {
		cleanup()
		return nil, nothing, err
	}
	return events, cleanup, nil
}

// onlyCalls keeps the events of the calls with these Call-IDs; a Call-ID
// the capture does not have is a usage error.
func onlyCalls(events []event.Event, ids []string) ([]event.Event, error) {
	seen := map[string]bool{}
	var kept []event.Event
	for _, e := range events {
		for _, id := range ids {
			if e.Key() == event.CallKey(id) {
				seen[id] = true
				kept = append(kept, e)
			}
		}
	}
	for _, id := range ids {
		if !seen[id] {
			return nil, usageError{fmt.Errorf("callid = %q: no such call in the capture", id)}
		}
	}
	return kept, nil
}

// build makes the event the flags describe.
func (t testEvent) build() (event.Event, error) {
	start, err := time.Parse(time.RFC3339, t.calldate)
	if err != nil {
		return nil, fmt.Errorf("calldate = %q: %v", t.calldate, err)
	}
	callID := "test-call-1@lc.example"
	if len(t.callIDs) > 0 {
		callID = t.callIDs[0]
	}
	dir := t.dirname
	if dir == "" {
		dir = processor.CallDir("/tmp/lc-out", callID, start)
	}
	sip := processor.CallFile(dir, callID, event.KindSIP, 0)
	rtp := processor.CallFile(dir, callID, event.KindRTP, 0)
	switch t.kind {
	case "call":
		return event.CallCompleted{
			CallID: callID, Dirname: dir, Caller: t.caller, Called: t.called,
			CallDate: start, EndDate: start.Add(t.duration), State: event.CallState(t.state), Status: t.status,
			SIPFiles: []string{sip}, RTPFiles: []string{rtp}, SIPPackets: 7, RTPPackets: 4200,
			Streams: []event.Stream{{Media: "audio", Addr: "192.0.2.10:40000", RTCP: "192.0.2.10:40001", Packets: 2100}},
		}, nil
	case "pcap":
		path := t.pcap
		if path == "" {
			path = sip
		}
		if t.fileKind == string(event.KindOther) {
			callID = ""
		}
		return event.FileClosed{
			Path: path, Kind: event.FileKind(t.fileKind), CallID: callID, Reason: event.ReasonCallEnd,
			Packets: 7, Bytes: 4096, First: start, Last: start.Add(t.duration),
		}, nil
	}
	return nil, fmt.Errorf("event = %q: must be call or pcap", t.kind)
}

// replayEvents processes a capture into dir and returns its events.
func replayEvents(cmd *cobra.Command, s streams, path, dir string) ([]event.Event, error) {
	fmt.Fprintf(s.out, "replaying %s into %s (removed afterwards)\n", path, dir)
	merger, err := openFiles([]string{path}, s.in)
	if err != nil {
		return nil, err
	}
	defer merger.Close()
	cfg := processor.DefaultConfig()
	cfg.OutputDir = dir
	var events []event.Event
	cfg.Emit = func(e event.Event) { events = append(events, e) }
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

// runHookTest runs the script (when path is not empty) and the command
// templates for each event and prints what they did. It fails when any
// invocation failed.
func runHookTest(w io.Writer, path string, lua luaOptions, commands commandTemplates, doExec bool, events []event.Event) error {
	run := &runner.Runner{Timeout: lua.timeout, DryRun: !doExec}
	hooks, errs := commands.hooks(run, slog.New(commandTracer{w: w}))
	if len(errs) > 0 {
		return usageError{errors.Join(withSources(errors.Join(errs...), settings{})...)}
	}
	if path != "" {
		lh, err := lua.load(path, script.LuaConfig{Sandbox: sandbox.Config{PoolSize: 1}, Runner: run, Trace: func(t script.Trace) { printTrace(w, t) }})
		if err != nil {
			return usageError{err}
		}
		defer lh.Close()
		hooks = append(hooks, lh.Hooks().Hooks...)
	}
	var failed int
	for _, ev := range events {
		for _, h := range hooks {
			if !h.Wants(ev.Type()) {
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

// commandTracer is the log of the command hooks of lc hooks test: each
// command they run, or would run, as one line in the trace's form.
type commandTracer struct{ w io.Writer }

func (commandTracer) Enabled(context.Context, slog.Level) bool { return true }
func (t commandTracer) WithAttrs([]slog.Attr) slog.Handler     { return t }
func (t commandTracer) WithGroup(string) slog.Handler          { return t }

// Handle prints a command hook's record: what ran and how it ended.
func (t commandTracer) Handle(_ context.Context, r slog.Record) error {
	a := map[string]slog.Value{}
	r.Attrs(func(at slog.Attr) bool {
		a[at.Key] = at.Value
		return true
	})
	what := fmt.Sprintf("argv %q", a["argv"].Any())
	if v, ok := a["script"]; ok {
		what = fmt.Sprintf("sh script %q params %q", v.String(), a["params"].Any())
	}
	res := "not run (dry run; --exec runs it)"
	if r.Message != "dry run: not executed" {
		res = fmt.Sprintf("exit %d in %s", a["code"].Int64(), a["duration"].Duration().Round(time.Microsecond))
		if v, ok := a["error"]; ok {
			res += ", " + v.String()
		}
		for _, out := range []string{"stdout", "stderr"} {
			if s := a[out].String(); s != "" {
				res += fmt.Sprintf(", %s %q", out, clipString(s))
			}
		}
	}
	_, err := fmt.Fprintf(t.w, "  exec %s: %s\n", what, res)
	return err
}

// describedFields are the fields describe shows, where the event has them.
var describedFields = []string{"path", "kind", "callid", "part", "reason", "state", "status", "duration"}

// describe is a short form of ev: its path, if any, and a few fields.
func describe(ev event.Event) string {
	var path string
	var parts []string
	event.Each(ev, func(f event.Field, v event.Value) {
		switch {
		case f.Name == "path":
			path = strconv.Quote(v.Text()) + ", "
		case !slices.Contains(describedFields, f.Name):
		case v.Kind == event.String && f.Name == "callid":
			parts = append(parts, f.Name+"="+strconv.Quote(v.Text()))
		default:
			parts = append(parts, f.Name+"="+v.Text())
		}
	})
	return path + "{" + strings.Join(parts, ", ") + "}"
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
	for _, k := range slices.Sorted(maps.Keys(m)) {
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
