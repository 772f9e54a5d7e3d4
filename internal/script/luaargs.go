package script

import (
	"github.com/lc-voip/lc/internal/event"
	"github.com/lc-voip/lc/internal/script/sandbox"
)

// luaArgs are the arguments of the hook function for ev: (path, file) for
// a file_closed, (call) for a call_completed. The table has every field
// of the event's table, under its name: text and times as strings (""
// for an unknown time), numbers, epochs and seconds as numbers, booleans,
// lists as arrays (json.encode writes them as arrays even when empty),
// streams as an array of tables.
func luaArgs(ev event.Event) []any {
	var (
		t    sandbox.Table
		path any
	)
	event.Each(ev, func(f event.Field, v event.Value) {
		t = append(t, sandbox.Field{Key: f.Name, Value: luaValue(v)})
		if f.Name == "path" {
			path = v.Str
		}
	})
	if ev.Type() == event.TypeFileClosed {
		return []any{path, t}
	}
	return []any{t}
}

func luaValue(v event.Value) any {
	switch v.Kind {
	case event.Int, event.Seconds, event.Epoch:
		return v.Number()
	case event.Bool:
		return v.Bool
	case event.Strings:
		if v.List == nil {
			return []string{}
		}
		return v.List
	case event.Streams:
		streams := make([]sandbox.Table, len(v.Streams))
		for i, s := range v.Streams {
			event.EachStream(s, func(f event.Field, v event.Value) {
				streams[i] = append(streams[i], sandbox.Field{Key: f.Name, Value: luaValue(v)})
			})
		}
		return streams
	}
	return v.Text()
}
