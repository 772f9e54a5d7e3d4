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
// command that could not start at Warn ("exec failed"), one that exited
// non-zero or ran out of time at Warn ("exec") with its exit status,
// duration and the start of its output, and one that succeeded the same
// way at Debug only: hooks run for every file and call, and their
// successes are counted, not logged at Info. Whether a non-zero exit is
// a failure of the hook is the caller's to say.
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
		level := slog.LevelDebug
		if res.Code != 0 || res.TimedOut {
			level = slog.LevelWarn
		}
		if !log.Enabled(ctx, level) {
			break // spares copying the output
		}
		log.LogAttrs(ctx, level, "exec", append(attrs,
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
