package script

import (
	"context"
	"slices"
	"testing"
	"time"
)

// BenchmarkLuaNoop measures a pooled no-op on_call_complete through
// Hook.Run: the main chunk's rerun, the call table and the call. It
// reports the p50 and p99 of the runs in µs.
func BenchmarkLuaNoop(b *testing.B) {
	h := newTestHooks(b, `
-- A typical script: some constants and helpers at the top.
local archive = "/srv/archive"
local function dated(call) return archive .. "/" .. call.calldate:sub(1, 10) end
function on_pcap_close(path, file) end
function on_call_complete(call) end
`, LuaConfig{PoolSize: 1})
	k := hookNamed(b, h, "lua:on_call_complete")
	ev := testCall()
	ctx := context.Background()
	durations := make([]time.Duration, 0, 1<<16)
	b.ReportAllocs()
	for b.Loop() {
		start := time.Now()
		if err := k.Run(ctx, ev); err != nil {
			b.Fatal(err)
		}
		if len(durations) < cap(durations) {
			durations = append(durations, time.Since(start))
		}
	}
	reportPercentiles(b, durations)
}

// BenchmarkLuaPcapNoop is BenchmarkLuaNoop for on_pcap_close.
func BenchmarkLuaPcapNoop(b *testing.B) {
	h := newTestHooks(b, "function on_pcap_close(path, file) end", LuaConfig{PoolSize: 1})
	k := h.Hooks()[0]
	ev := testFile()
	ctx := context.Background()
	durations := make([]time.Duration, 0, 1<<16)
	b.ReportAllocs()
	for b.Loop() {
		start := time.Now()
		if err := k.Run(ctx, ev); err != nil {
			b.Fatal(err)
		}
		if len(durations) < cap(durations) {
			durations = append(durations, time.Since(start))
		}
	}
	reportPercentiles(b, durations)
}

func reportPercentiles(b *testing.B, d []time.Duration) {
	if len(d) == 0 {
		return
	}
	slices.Sort(d)
	b.ReportMetric(float64(d[len(d)/2].Nanoseconds())/1e3, "p50-µs")
	b.ReportMetric(float64(d[len(d)*99/100].Nanoseconds())/1e3, "p99-µs")
}

// BenchmarkLuaVMCreate measures a new VM with the sandbox installed and
// the main chunk run once.
func BenchmarkLuaVMCreate(b *testing.B) {
	s, err := CompileLua("bench.lua", []byte("function on_call_complete(call) end"))
	if err != nil {
		b.Fatal(err)
	}
	cfg := LuaConfig{}.withDefaults()
	b.ReportAllocs()
	for b.Loop() {
		vm, err := newLuaVM(s, &cfg, cfg.Logger)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := vm.load(context.Background(), time.Now()); err != nil {
			b.Fatal(err)
		}
		vm.close()
	}
}

// BenchmarkLuaWork measures a hook that does typical work without exec:
// string building, a pattern, a table and a log line below the level.
func BenchmarkLuaWork(b *testing.B) {
	h := newTestHooks(b, `
function on_call_complete(call)
  if call.state ~= "completed" or call.duration < 10 then return end
  local user = call.caller:match("^([^@]+)@")
  local parts = {}
  for i, f in ipairs(call.files) do parts[i] = f:gsub("^.*/", "") end
  log.debug("call done", {user = user, files = table.concat(parts, ","), dir = string.format("%s/%s", call.dirname, call.calldate:sub(1, 10))})
end`, LuaConfig{PoolSize: 1})
	k := h.Hooks()[0]
	ev := testCall()
	ctx := context.Background()
	durations := make([]time.Duration, 0, 1<<16)
	b.ReportAllocs()
	for b.Loop() {
		start := time.Now()
		if err := k.Run(ctx, ev); err != nil {
			b.Fatal(err)
		}
		if len(durations) < cap(durations) {
			durations = append(durations, time.Since(start))
		}
	}
	reportPercentiles(b, durations)
}
