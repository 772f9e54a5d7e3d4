package main

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// newLogger returns the logger of --log-level and --log-format on w.
// Attribute keys are those of the events' fields where they say the same
// thing (callid, dirname, path, event_id, ...). In JSON a duration is
// seconds as a number, as the events' durations are, not Go's integer
// nanoseconds.
func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log-level = %q: must be debug, info, warn or error", level)
	}
	switch strings.ToLower(format) {
	case "text":
		return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: lv})), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: lv, ReplaceAttr: secondsAttr})), nil
	}
	return nil, fmt.Errorf("log-format = %q: must be text or json", format)
}

// jsonFormat reports whether --log-format asks for JSON.
func jsonFormat(format string) bool { return strings.EqualFold(format, "json") }

// secondsAttr writes a duration as seconds.
func secondsAttr(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindDuration {
		return slog.Float64(a.Key, a.Value.Duration().Seconds())
	}
	return a
}
