package script

import (
	"context"
	"log/slog"

	"github.com/lc-voip/lc/internal/script/runner"
	"github.com/lc-voip/lc/internal/script/template"
)

// logOutputLimit bounds the stdout and stderr quoted in a log line.
const logOutputLimit = 1024

// runCommand runs cmd with r and logs it on log, for command hooks and
// Lua's exec() alike: a dry run at Info ("dry run: not executed"), a
// command that could not start at Warn ("exec failed"), any other at Info
// ("exec") with its exit status, duration and the start of its output.
// Whether a non-zero exit is a failure is the caller's to say.
func runCommand(ctx context.Context, r *runner.Runner, log *slog.Logger, cmd template.Command) runner.Result {
	attrs := []slog.Attr{slog.Any("argv", cmd.Argv)}
	if cmd.Shell {
		attrs = []slog.Attr{slog.String("script", cmd.Script), slog.Any("params", cmd.Params)}
	}
	res := r.Run(ctx, cmd.Argv)
	switch {
	case res.DryRun:
		log.LogAttrs(ctx, slog.LevelInfo, "dry run: not executed", attrs...)
	case res.Err != nil && !res.TimedOut:
		log.LogAttrs(ctx, slog.LevelWarn, "exec failed", append(attrs, slog.Any("error", res.Err))...)
	default:
		log.LogAttrs(ctx, slog.LevelInfo, "exec", append(attrs,
			slog.Int("code", res.Code), slog.String("signal", res.Signal), slog.Duration("duration", res.Duration),
			slog.Bool("timed_out", res.TimedOut), slog.String("stdout", clip(res.Stdout)), slog.String("stderr", clip(res.Stderr)))...)
	}
	return res
}

func clip(b []byte) string {
	if len(b) > logOutputLimit {
		return string(b[:logOutputLimit]) + "…"
	}
	return string(b)
}
