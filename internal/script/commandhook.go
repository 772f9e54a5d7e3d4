package script

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/lc-voip/lc/internal/event"
	"github.com/lc-voip/lc/internal/script/runner"
	"github.com/lc-voip/lc/internal/script/template"
)

// CommandHook runs a command template for one type of event: the
// --pcap-command for file_closed, the --voip-command for call_completed.
type CommandHook struct {
	name   string
	typ    event.Type
	tmpl   *template.Template
	runner *runner.Runner
	log    *slog.Logger
}

// NewCommandHook returns the hook named name that runs tmpl, parsed with
// Placeholders(t), with r for every event of type t, and logs each run on
// log.
func NewCommandHook(name string, t event.Type, tmpl *template.Template, r *runner.Runner, log *slog.Logger) *CommandHook {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &CommandHook{name: name, typ: t, tmpl: tmpl, runner: r, log: log.With("component", "hooks", "hook", name)}
}

// Name implements Hook.
func (h *CommandHook) Name() string { return h.name }

// Wants implements Hook.
func (h *CommandHook) Wants(t event.Type) bool { return t == h.typ }

// Run renders the template from ev and runs it; see runCommand for what is
// logged. It fails with ErrTimeout, a start error or a non-zero exit.
func (h *CommandHook) Run(ctx context.Context, ev event.Event) error {
	res := runCommand(ctx, h.runner, h.log.With(event.LogAttrs(ev)...), h.tmpl.Render(values(ev)))
	switch {
	case res.TimedOut && res.Err != nil: // stopped by the caller, not by its own timeout
		return fmt.Errorf("%w after %s: %w", ErrTimeout, res.Duration.Round(1e6), res.Err)
	case res.TimedOut:
		return fmt.Errorf("%w after %s", ErrTimeout, res.Duration.Round(1e6))
	case res.Err != nil:
		return res.Err
	case res.Code != 0:
		if res.Signal != "" {
			return fmt.Errorf("exit status %d (%s)", res.Code, res.Signal)
		}
		return fmt.Errorf("exit status %d", res.Code)
	}
	return nil
}
