package script

import (
	"slices"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/lc-voip/lc/internal/script/sandbox"
	"github.com/lc-voip/lc/internal/script/template"
)

// Bounds of exec().
const (
	maxArgv      = 4096 // arguments of an exec() argv
	maxTemplates = 64   // parsed exec() templates kept per script
)

// exec is the Lua built-in exec(template | argv [, vars]): it runs a
// command template filled from the hook's event (and vars), or an argv
// table, without a shell unless the template needs one, under the hook's
// deadline, and returns {code, stdout, stderr, timed_out, duration
// [, dry_run] [, signal] [, error]}.
func (h *LuaHooks) exec(inv *sandbox.Invocation) int {
	L := inv.L
	if !inv.Running() {
		L.RaiseError("exec() can only be called from a hook function, not from top-level code")
	}
	var cmd template.Command
	switch a := L.CheckAny(1).(type) {
	case lua.LString:
		cmd = h.renderTemplate(inv, string(a), L.Get(2))
	case *lua.LTable:
		if L.Get(2) != lua.LNil {
			L.ArgError(2, "vars only apply to a template string")
		}
		cmd = template.Command{Argv: argvOf(L, a)}
	default:
		L.ArgError(1, "template string or argv table expected, got "+a.Type().String())
	}

	res := runCommand(inv.Context(), h.cfg.Runner, inv.Log(), cmd)
	if h.cfg.Trace != nil {
		h.cfg.Trace(Trace{Kind: "exec", Hook: inv.Name(), Argv: cmd.Argv, Script: cmd.Script, Params: cmd.Params,
			Result: &res, At: inv.Since()})
	}
	t := sandbox.Table{
		{Key: "code", Value: res.Code},
		{Key: "stdout", Value: string(res.Stdout)},
		{Key: "stderr", Value: string(res.Stderr)},
		{Key: "timed_out", Value: res.TimedOut},
		{Key: "duration", Value: res.Duration.Seconds()},
	}
	if res.DryRun {
		t = append(t, sandbox.Field{Key: "dry_run", Value: true})
	}
	if res.Signal != "" {
		t = append(t, sandbox.Field{Key: "signal", Value: res.Signal})
	}
	if res.Err != nil {
		t = append(t, sandbox.Field{Key: "error", Value: res.Err.Error()})
	}
	inv.Push(t)
	return 1
}

// renderTemplate parses tmpl (once per script and set of names) against
// the event's placeholders and the names of vars, and renders it with the
// event's values overridden by vars.
func (h *LuaHooks) renderTemplate(inv *sandbox.Invocation, tmpl string, vars lua.LValue) template.Command {
	L := inv.L
	extra := varsOf(L, vars)
	names := make([]string, 0, len(extra))
	for name := range extra {
		names = append(names, name)
	}
	slices.Sort(names)
	data := inv.Data().(*luaEvent)
	allowed := Placeholders(data.ev.Type())
	key := data.ev.Type().String() + "|" + strings.Join(names, ",") + "|" + tmpl
	h.mu.Lock()
	t, ok := h.templates[key]
	h.mu.Unlock()
	if !ok {
		var err error
		t, err = template.Parse(tmpl, append(allowed, names...))
		if err != nil {
			L.RaiseError("exec: %s", err.Error())
		}
		h.mu.Lock()
		if h.templates == nil {
			h.templates = make(map[string]*template.Template)
		}
		if len(h.templates) < maxTemplates {
			h.templates[key] = t
		}
		h.mu.Unlock()
	}
	if data.values == nil {
		data.values = values(data.ev)
	}
	return t.Render(func(name string) string {
		if v, ok := extra[name]; ok {
			return v
		}
		return data.values(name)
	})
}

// varsOf reads the vars table of exec(): placeholder names to strings,
// numbers or booleans.
func varsOf(L *lua.LState, vars lua.LValue) map[string]string {
	switch v := vars.(type) {
	case *lua.LNilType:
		return nil
	case *lua.LTable:
		extra := make(map[string]string)
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
		return extra
	}
	L.ArgError(2, "table of vars expected, got "+vars.Type().String())
	return nil
}

// argvOf reads an exec() argv table.
func argvOf(L *lua.LState, t *lua.LTable) []string {
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
