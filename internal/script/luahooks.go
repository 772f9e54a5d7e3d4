package script

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/lc-voip/lc/internal/event"
	"github.com/lc-voip/lc/internal/script/runner"
	"github.com/lc-voip/lc/internal/script/sandbox"
	"github.com/lc-voip/lc/internal/script/template"
)

// The names of the hook functions a script may define.
const (
	LuaPcapFunction = "on_pcap_close"
	LuaCallFunction = "on_call_complete"
)

// luaFunctions are the hook functions, in the order their hooks run.
var luaFunctions = []string{LuaPcapFunction, LuaCallFunction}

// LuaConfig configures the Lua hooks of a script. The config is copied by
// NewLuaHooks and must not change after.
type LuaConfig struct {
	// Sandbox is the VMs' limits (time, memory) and pool; its Logger,
	// Builtins and Trace are set from the fields below.
	Sandbox sandbox.Config
	// Runner runs the commands of exec(); nil means a zero Runner (real
	// execution with its defaults). With DryRun set, exec() logs the
	// command and returns a result with dry_run = true instead.
	Runner *runner.Runner
	// Logger receives the scripts' log.*() and print() lines and exec()
	// runs, with "component"="hooks"; nil discards.
	Logger *slog.Logger
	// Trace, when set, is called for every exec(), log line, print() and
	// failed invocation or load, synchronously on the goroutine running
	// the hook (`lc hooks test` prints them). It must not block.
	Trace func(Trace)
}

// Trace is one thing a Lua hook did, as reported to LuaConfig.Trace.
type Trace struct {
	Kind   string         // "exec", "log" or "error"
	Hook   string         // "lua:on_call_complete", ...; "" for the main chunk at load
	Argv   []string       // exec: the argv run (for a shell template, /bin/sh -c ...)
	Script string         // exec of a shell template: the script given to /bin/sh
	Params []string       // exec of a shell template: its positional parameters
	Result *runner.Result // exec: the outcome
	Level  string         // log: "debug", "info", "warn" or "error"
	Msg    string         // log: the message
	Fields map[string]any // log: the fields, flattened
	Err    error          // error: the *sandbox.Error
	At     time.Duration  // since the invocation started
}

// LuaHooks are the hooks of one script, sharing a pool of sandboxed VMs
// (see sandbox.Pool for what an invocation may do and how it is bounded).
// Each hook function gets its event as a table rendered from the event's
// field table (luaArgs), and the built-in exec() runs commands for it.
type LuaHooks struct {
	pool   *sandbox.Pool
	cfg    LuaConfig
	log    *slog.Logger
	hooks  []Hook
	script string

	// Guarded by mu.
	mu        sync.Mutex
	templates map[string]*template.Template // parsed exec() templates, at most maxTemplates
}

// NewLuaHooks returns the hooks of script s: "lua:on_pcap_close" for
// file_closed events when the script defines on_pcap_close, and
// "lua:on_call_complete" for call_completed when it defines
// on_call_complete. It runs the main chunk once, under the limits, to
// find them; an error there, or a script that defines neither, is an
// error.
func NewLuaHooks(s *sandbox.Script, cfg LuaConfig) (*LuaHooks, error) {
	if cfg.Runner == nil {
		cfg.Runner = &runner.Runner{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	h := &LuaHooks{cfg: cfg, script: s.Name(), log: cfg.Logger.With("component", "hooks", "script", s.Name())}
	pool, err := sandbox.NewPool(s, h.sandboxConfig(), luaFunctions)
	if err != nil {
		return nil, err
	}
	h.pool = pool
	for _, fn := range pool.Functions() {
		t := event.TypeFileClosed
		if fn == LuaCallFunction {
			t = event.TypeCallCompleted
		}
		h.hooks = append(h.hooks, &luaHook{set: h, fn: fn, name: "lua:" + fn, typ: t})
	}
	if len(h.hooks) == 0 {
		pool.Close()
		return nil, fmt.Errorf("%s: defines no hook function (%s or %s)", s.Name(), LuaPcapFunction, LuaCallFunction)
	}
	return h, nil
}

// CheckLua runs the main chunk of s once, as NewLuaHooks does, and reports
// the hook functions it defines and the globals the script uses that
// nothing defines (exec() counts as defined).
func CheckLua(s *sandbox.Script, cfg LuaConfig) (sandbox.CheckReport, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	h := &LuaHooks{cfg: cfg, script: s.Name(), log: cfg.Logger.With("component", "hooks", "script", s.Name())}
	return s.Check(h.sandboxConfig(), luaFunctions)
}

// sandboxConfig is cfg.Sandbox with lc's logger, exec() and traces.
func (h *LuaHooks) sandboxConfig() sandbox.Config {
	sc := h.cfg.Sandbox
	sc.Logger = h.log
	sc.Builtins = map[string]sandbox.Builtin{"exec": h.exec}
	if trace := h.cfg.Trace; trace != nil {
		sc.Trace = func(t sandbox.Trace) {
			trace(Trace{Kind: t.Kind, Hook: t.Hook, Level: t.Level, Msg: t.Msg, Fields: t.Fields, Err: t.Err, At: t.At})
		}
	}
	return sc
}

// Hooks returns the script's hooks, on_pcap_close first, and Close as
// their Release. They are safe for concurrent use.
func (h *LuaHooks) Hooks() Set { return Set{Hooks: h.hooks, Release: h.Close} }

// Close closes the idle VMs; VMs still running close when their
// invocation ends. Hooks run after Close fail.
func (h *LuaHooks) Close() { h.pool.Close() }

// luaHook is one hook function of a script.
type luaHook struct {
	set  *LuaHooks
	fn   string // LuaPcapFunction or LuaCallFunction
	name string // "lua:" + fn
	typ  event.Type
}

// Name implements Hook.
func (k *luaHook) Name() string { return k.name }

// Wants implements Hook.
func (k *luaHook) Wants(t event.Type) bool { return t == k.typ }

// Run calls the hook function with ev in a pooled VM, under the deadline
// (the sandbox's Timeout from now, or ctx's if sooner) and the memory
// budget. A failure is a *sandbox.Error that wraps ErrTimeout or
// sandbox.ErrMemoryLimit when a limit was reached.
func (k *luaHook) Run(ctx context.Context, ev event.Event) error {
	return k.set.pool.Call(ctx, sandbox.Call{
		Func:  k.fn,
		Name:  k.name,
		Args:  luaArgs(ev),
		Log:   k.set.log.With("hook", k.name).With(event.LogAttrs(ev)...),
		Start: time.Now(),
		Data:  &luaEvent{ev: ev},
	})
}

// luaEvent is the event of an invocation, for exec().
type luaEvent struct {
	ev     event.Event
	values func(string) string // made on the first exec()
}
