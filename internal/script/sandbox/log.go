package sandbox

import (
	"log/slog"
	"math"
	"slices"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// Bounds of print() and log.*().
const (
	maxLogMessage = 8 << 10 // bytes of a log message kept
	maxLogValue   = 1 << 10 // bytes of a log field value kept
	maxLogFields  = 64      // fields of a log line kept
	maxLogDepth   = 3       // levels of nested field tables flattened
)

// basePrint is print(...): the values, converted with tostring and
// separated by tabs, are logged at info.
func (vm *luaVM) basePrint(L *lua.LState) int {
	var b strings.Builder
	for i := 1; i <= L.GetTop(); i++ {
		if i > 1 {
			b.WriteByte('\t')
		}
		if b.Len() < maxLogMessage {
			b.WriteString(clipString(vm.toString(L, L.Get(i)), maxLogMessage))
		}
	}
	vm.emitLog(slog.LevelInfo, clipString(b.String(), maxLogMessage), nil, nil)
	return 0
}

// toString converts v as tostring() does, __tostring included.
func (vm *luaVM) toString(L *lua.LState, v lua.LValue) string {
	switch v := v.(type) {
	case lua.LString:
		return string(v)
	case lua.LNumber:
		return v.String()
	}
	return lua.LVAsString(L.ToStringMeta(v))
}

// logFunction returns log.debug, log.info, log.warn or log.error:
// log.LEVEL(message [, fields]).
func (vm *luaVM) logFunction(level slog.Level) lua.LGFunction {
	return func(L *lua.LState) int {
		msg := clipString(vm.toString(L, L.CheckAny(1)), maxLogMessage)
		var (
			attrs  []slog.Attr
			fields map[string]any
		)
		switch f := L.Get(2).(type) {
		case *lua.LNilType:
		case *lua.LTable:
			fields = make(map[string]any)
			vm.flattenFields(L, "", f, 0, fields)
			keys := make([]string, 0, len(fields))
			for k := range fields {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			for _, k := range keys {
				attrs = append(attrs, slog.Any(k, fields[k]))
			}
		default:
			L.ArgError(2, "table of fields expected")
		}
		vm.emitLog(level, msg, attrs, fields)
		return 0
	}
}

// flattenFields adds the fields of t to out: nested tables become
// "outer.inner" keys, values become strings, numbers and booleans.
func (vm *luaVM) flattenFields(L *lua.LState, prefix string, t *lua.LTable, depth int, out map[string]any) {
	t.ForEach(func(k, v lua.LValue) {
		if len(out) >= maxLogFields {
			return
		}
		var key string
		switch k := k.(type) {
		case lua.LString:
			key = clipString(string(k), 64)
		case lua.LNumber:
			key = k.String()
		default:
			return
		}
		key = prefix + key
		switch v := v.(type) {
		case lua.LString:
			out[key] = clipString(string(v), maxLogValue)
		case lua.LNumber:
			out[key] = logNumber(float64(v))
		case lua.LBool:
			out[key] = bool(v)
		case *lua.LTable:
			if depth+1 < maxLogDepth {
				vm.flattenFields(L, key+".", v, depth+1, out)
			} else {
				out[key] = "table"
			}
		default:
			out[key] = v.Type().String()
		}
	})
}

// logNumber is a Lua number as a log value: an int64 when it is whole.
func logNumber(f float64) any {
	if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		return int64(f)
	}
	return f
}

// emitLog writes a script's log line to the invocation's logger, unless
// the main chunk is being rerun, and traces it.
func (vm *luaVM) emitLog(level slog.Level, msg string, attrs []slog.Attr, fields map[string]any) {
	inv := &vm.inv
	if inv.phase == phaseRerun {
		return
	}
	inv.log.LogAttrs(inv.parent, level, msg, attrs...)
	if vm.cfg.Trace != nil {
		vm.cfg.Trace(Trace{Kind: "log", Hook: inv.name, Level: levelName(level), Msg: msg, Fields: fields, At: time.Since(inv.start)})
	}
}

// levelName is the name of a log level in a Trace.
func levelName(l slog.Level) string {
	switch {
	case l < slog.LevelInfo:
		return "debug"
	case l < slog.LevelWarn:
		return "info"
	case l < slog.LevelError:
		return "warn"
	}
	return "error"
}
