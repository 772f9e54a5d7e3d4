package script

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/lc-voip/lc/internal/processor"
)

// logOutputLimit bounds the stdout and stderr quoted in a log line.
const logOutputLimit = 1024

// CommandHook runs a command template for one kind of event: the
// --pcap-command for FileClosed, the --voip-command for CallCompleted.
type CommandHook struct {
	name   string
	tmpl   *Template
	runner *Runner
	log    *slog.Logger
	call   bool // CallCompleted rather than FileClosed
}

// NewPcapCommand returns the hook of a --pcap-command template, which must
// have been parsed with PcapPlaceholders.
func NewPcapCommand(tmpl *Template, r *Runner, log *slog.Logger) *CommandHook {
	return newCommandHook("pcap-command", tmpl, r, log, false)
}

// NewVoipCommand returns the hook of a --voip-command template, which must
// have been parsed with CallPlaceholders.
func NewVoipCommand(tmpl *Template, r *Runner, log *slog.Logger) *CommandHook {
	return newCommandHook("voip-command", tmpl, r, log, true)
}

func newCommandHook(name string, tmpl *Template, r *Runner, log *slog.Logger, call bool) *CommandHook {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &CommandHook{name: name, tmpl: tmpl, runner: r, log: log.With("component", "hooks", "hook", name), call: call}
}

// Name implements Hook.
func (h *CommandHook) Name() string { return h.name }

// Wants implements Hook.
func (h *CommandHook) Wants(ev processor.Event) bool {
	_, isCall := ev.(processor.CallCompleted)
	return isCall == h.call
}

// Run renders the template from ev and runs it. Every run is logged with
// the event, argv, exit status, duration and the start of its output.
func (h *CommandHook) Run(ctx context.Context, ev processor.Event) error {
	var (
		cmd   Command
		attrs []any
	)
	switch e := ev.(type) {
	case processor.FileClosed:
		cmd = h.tmpl.Render(FileValues(e))
		attrs = []any{"event", e.Name(), "file", e.Path, "call_id", e.CallID}
	case processor.CallCompleted:
		cmd = h.tmpl.Render(CallValues(e))
		attrs = []any{"event", e.Name(), "call_id", e.CallID}
	}
	return Exec(ctx, h.runner, h.log.With(attrs...), cmd)
}

// Exec runs cmd with r and logs the outcome on log: a dry run or a success
// at Info, a failure at Error. It returns the failure: ErrTimeout, a start
// error, or a non-zero exit.
func Exec(ctx context.Context, r *Runner, log *slog.Logger, cmd Command) error {
	argv := []any{"argv", cmd.Argv}
	if cmd.Shell {
		argv = []any{"script", cmd.Script, "params", cmd.Params}
	}
	res := r.Run(ctx, cmd.Argv)
	if res.DryRun {
		log.Info("dry run: not executed", argv...)
		return nil
	}
	attrs := append(argv, "code", res.Code, "duration", res.Duration,
		"stdout", clip(res.Stdout), "stderr", clip(res.Stderr))
	var err error
	switch {
	case res.TimedOut && res.Err != nil: // stopped by the caller, not by its own timeout
		err = fmt.Errorf("%w after %s: %w", ErrTimeout, res.Duration.Round(1e6), res.Err)
	case res.TimedOut:
		err = fmt.Errorf("%w after %s", ErrTimeout, res.Duration.Round(1e6))
	case res.Err != nil:
		err = res.Err
	case res.Code != 0:
		err = fmt.Errorf("exit status %d%s", res.Code, signalSuffix(res.Signal))
	}
	if err != nil {
		log.Error("hook failed", append(attrs, "error", err)...)
		return err
	}
	log.Info("hook ran", attrs...)
	return nil
}

func signalSuffix(sig string) string {
	if sig == "" {
		return ""
	}
	return " (" + sig + ")"
}

func clip(b []byte) string {
	if len(b) > logOutputLimit {
		return string(b[:logOutputLimit]) + "…"
	}
	return string(b)
}
