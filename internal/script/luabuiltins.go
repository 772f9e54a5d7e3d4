package script

import (
	"context"
	"log/slog"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// Bounds of the built-ins.
const (
	maxResults      = 8000     // values unpack() and string.byte() may return
	maxLogMessage   = 8 << 10  // bytes of a log message kept
	maxLogValue     = 1 << 10  // bytes of a log field value kept
	maxLogFields    = 64       // fields of a log line kept
	maxLogDepth     = 3        // levels of nested field tables flattened
	maxArgv         = 4096     // arguments of an exec() argv
	maxDateFormat   = 256      // bytes of an os.date format
	maxTemplates    = 64       // parsed exec() templates kept per VM
	execResultBytes = 8 * 1024 // estimated cost of an exec() result table, output aside
)

// baseAssert is assert(v [, message]).
func (vm *luaVM) baseAssert(L *lua.LState) int {
	if lua.LVAsBool(L.CheckAny(1)) {
		return L.GetTop()
	}
	msg := L.OptString(2, "assertion failed!")
	vm.alloc(len(msg) + 64) // the raised message copies it
	L.RaiseError("%s", msg)
	return 0
}

// baseError is error(value [, level]).
func (vm *luaVM) baseError(L *lua.LState) int {
	obj := L.Get(1)
	level := L.OptInt(2, 1)
	if s, ok := obj.(lua.LString); ok && level > 0 {
		vm.alloc(len(s) + 64) // the position is prepended to a copy
	}
	L.Error(obj, level)
	return 0
}

// baseRawset is rawset(t, k, v), which refuses the sandbox's read-only
// tables.
func (vm *luaVM) baseRawset(L *lua.LState) int {
	t := L.CheckTable(1)
	k := L.CheckAny(2)
	v := L.CheckAny(3)
	if name, ok := vm.sandbox.readOnly[t]; ok {
		L.RaiseError("attempt to modify read-only table '%s'", name)
	}
	switch k := k.(type) {
	case *lua.LNilType:
		L.RaiseError("table index is nil")
	case lua.LNumber:
		if math.IsNaN(float64(k)) {
			L.RaiseError("table index is NaN")
		}
	}
	vm.alloc(int(vm.storeCost(t, k)))
	t.RawSet(k, v)
	L.SetTop(1)
	return 1
}

// baseUnpack is unpack(t [, i [, j]]), limited to maxResults values.
func (vm *luaVM) baseUnpack(L *lua.LState) int {
	t := L.CheckTable(1)
	i, j := tableRange(L, t, 2)
	if i > j {
		return 0
	}
	n := int64(j) - int64(i) + 1
	if n <= 0 || n > maxResults {
		L.RaiseError("too many results to unpack")
	}
	for k := i; k <= j; k++ {
		L.Push(t.RawGetInt(k))
	}
	return int(n)
}

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

// emitLog writes a script's log line, unless the main chunk is being rerun.
func (vm *luaVM) emitLog(level slog.Level, msg string, attrs []slog.Attr, fields map[string]any) {
	inv := &vm.inv
	if inv.phase == phaseRerun {
		return
	}
	if inv.log == nil {
		l := vm.log
		if inv.hook != "" {
			l = l.With("hook", inv.hook)
		}
		if inv.ev != nil {
			l = l.With(eventAttrs(inv.ev)...)
		}
		inv.log = l
	}
	inv.log.LogAttrs(inv.parent, level, msg, attrs...)
	if vm.cfg.Trace != nil {
		vm.cfg.Trace(Trace{Kind: "log", Hook: inv.hook, Level: levelName(level), Msg: msg, Fields: fields, At: time.Since(inv.start)})
	}
}

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

// luaExec is exec(template | argv [, vars]).
func (vm *luaVM) luaExec(L *lua.LState) int {
	inv := &vm.inv
	if inv.phase != phaseRun {
		L.RaiseError("exec() can only be called from a hook function, not from top-level code")
	}
	var cmd Command
	switch a := L.CheckAny(1).(type) {
	case lua.LString:
		cmd = vm.renderTemplate(L, string(a), L.Get(2))
	case *lua.LTable:
		if L.Get(2) != lua.LNil {
			L.ArgError(2, "vars only apply to a template string")
		}
		cmd = Command{Argv: vm.argvOf(L, a)}
	default:
		L.ArgError(1, "template string or argv table expected, got "+a.Type().String())
	}

	ctx, cancel := context.WithDeadline(inv.parent, inv.deadline)
	res := vm.cfg.Runner.Run(ctx, cmd.Argv)
	cancel()
	vm.logExec(cmd, &res)
	vm.alloc(len(res.Stdout) + len(res.Stderr) + execResultBytes)

	t := L.CreateTable(0, 8)
	t.RawSetString("code", lua.LNumber(res.Code))
	t.RawSetString("stdout", lua.LString(res.Stdout))
	t.RawSetString("stderr", lua.LString(res.Stderr))
	t.RawSetString("timed_out", lua.LBool(res.TimedOut))
	t.RawSetString("duration", lua.LNumber(res.Duration.Seconds()))
	if res.DryRun {
		t.RawSetString("dry_run", lua.LTrue)
	}
	if res.Signal != "" {
		t.RawSetString("signal", lua.LString(res.Signal))
	}
	if res.Err != nil {
		t.RawSetString("error", lua.LString(res.Err.Error()))
	}
	L.Push(t)
	return 1
}

// logExec logs and traces one exec().
func (vm *luaVM) logExec(cmd Command, res *Result) {
	inv := &vm.inv
	attrs := []slog.Attr{slog.Any("argv", cmd.Argv)}
	if cmd.Shell {
		attrs = []slog.Attr{slog.String("script", cmd.Script), slog.Any("params", cmd.Params)}
	}
	l := vm.log.With("hook", inv.hook).With(eventAttrs(inv.ev)...)
	switch {
	case res.DryRun:
		l.LogAttrs(inv.parent, slog.LevelInfo, "dry run: not executed", attrs...)
	case res.Err != nil && !res.TimedOut:
		l.LogAttrs(inv.parent, slog.LevelWarn, "exec failed", append(attrs, slog.Any("error", res.Err))...)
	default:
		l.LogAttrs(inv.parent, slog.LevelInfo, "exec", append(attrs,
			slog.Int("code", res.Code), slog.Duration("duration", res.Duration), slog.Bool("timed_out", res.TimedOut))...)
	}
	if vm.cfg.Trace != nil {
		vm.cfg.Trace(Trace{Kind: "exec", Hook: inv.hook, Argv: cmd.Argv, Script: cmd.Script, Params: cmd.Params,
			Result: res, At: time.Since(inv.start)})
	}
}

// renderTemplate parses tmpl (once per VM) against the event's
// placeholders and the names of vars, and renders it with the event's
// values overridden by vars.
func (vm *luaVM) renderTemplate(L *lua.LState, tmpl string, vars lua.LValue) Command {
	inv := &vm.inv
	var extra map[string]string
	switch v := vars.(type) {
	case *lua.LNilType:
	case *lua.LTable:
		extra = make(map[string]string)
		v.ForEach(func(k, x lua.LValue) {
			name, ok := k.(lua.LString)
			if !ok {
				L.ArgError(2, "vars keys must be placeholder names")
			}
			switch x := x.(type) {
			case lua.LString:
				extra[string(name)] = string(x)
			case lua.LNumber, lua.LBool:
				extra[string(name)] = x.String()
			default:
				L.ArgError(2, "vars."+string(name)+" must be a string, number or boolean, got "+x.Type().String())
			}
		})
	default:
		L.ArgError(2, "table of vars expected, got "+vars.Type().String())
	}
	names := make([]string, 0, len(extra))
	for name := range extra {
		names = append(names, name)
	}
	slices.Sort(names)
	key := strings.Join(inv.allowed, ",") + "|" + strings.Join(names, ",") + "|" + tmpl
	t, ok := vm.templates[key]
	if !ok {
		allowed := append(slices.Clip(inv.allowed), names...)
		var err error
		t, err = ParseTemplate(tmpl, allowed)
		if err != nil {
			L.RaiseError("exec: %s", err.Error())
		}
		if vm.templates == nil {
			vm.templates = make(map[string]*Template)
		}
		if len(vm.templates) < maxTemplates {
			vm.templates[key] = t
		}
	}
	values := inv.values
	return t.Render(func(name string) string {
		if v, ok := extra[name]; ok {
			return v
		}
		return values(name)
	})
}

// argvOf reads an exec() argv table.
func (vm *luaVM) argvOf(L *lua.LState, t *lua.LTable) []string {
	n := t.Len()
	if n == 0 {
		L.ArgError(1, "empty argv")
	}
	if n > maxArgv {
		L.ArgError(1, "argv longer than "+strconv.Itoa(maxArgv))
	}
	argv := make([]string, n)
	for i := range argv {
		switch v := t.RawGetInt(i + 1).(type) {
		case lua.LString:
			argv[i] = string(v)
		case lua.LNumber:
			argv[i] = v.String()
		default:
			L.ArgError(1, "argv["+strconv.Itoa(i+1)+"] must be a string or number, got "+v.Type().String())
		}
	}
	return argv
}

// mathRandom is math.random([m [, n]]).
func mathRandom(L *lua.LState) int {
	switch L.GetTop() {
	case 0:
		L.Push(lua.LNumber(rand.Float64()))
	case 1:
		m := L.CheckInt64(1)
		if m < 1 {
			L.ArgError(1, "interval is empty")
		}
		L.Push(lua.LNumber(rand.Int64N(m) + 1))
	case 2:
		lo, hi := L.CheckInt64(1), L.CheckInt64(2)
		if lo > hi {
			L.ArgError(2, "interval is empty")
		}
		span := uint64(hi - lo)
		if span == math.MaxUint64 {
			L.Push(lua.LNumber(int64(rand.Uint64())))
		} else {
			L.Push(lua.LNumber(lo + int64(rand.Uint64N(span+1))))
		}
	default:
		L.RaiseError("wrong number of arguments")
	}
	return 1
}

// mathRandomseed is math.randomseed(x): accepted and ignored, random
// numbers come from a generator no script can seed or observe.
func mathRandomseed(L *lua.LState) int {
	L.CheckNumber(1)
	return 0
}

// boundedDate wraps os.date so that its format, and so its result, stays
// small.
func boundedDate(date lua.LGFunction) lua.LGFunction {
	return func(L *lua.LState) int {
		if len(L.OptString(1, "")) > maxDateFormat {
			L.ArgError(1, "format longer than "+strconv.Itoa(maxDateFormat)+" bytes")
		}
		return date(L)
	}
}
