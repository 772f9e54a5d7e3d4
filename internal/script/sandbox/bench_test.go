package sandbox

import (
	"context"
	"slices"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// BenchmarkNoop measures a pooled no-op on_call_complete through
// Pool.Call: the main chunk's rerun, the call table and the call. It
// reports the p50 and p99 of the calls in µs.
func BenchmarkNoop(b *testing.B) {
	p := newTestPool(b, `
-- A typical script: some constants and helpers at the top.
local archive = "/srv/archive"
local function dated(call) return archive .. "/" .. call.calldate:sub(1, 10) end
function on_pcap_close(path, file) end
function on_call_complete(call) end
`, Config{PoolSize: 1})
	benchCalls(b, p, callOf(callFunction, testCall()))
}

// BenchmarkPcapNoop is BenchmarkNoop for on_pcap_close.
func BenchmarkPcapNoop(b *testing.B) {
	p := newTestPool(b, "function on_pcap_close(path, file) end", Config{PoolSize: 1})
	path, file := testFile()
	benchCalls(b, p, callOf(pcapFunction, path, file))
}

// benchCalls makes c in the benchmark loop and reports the latency
// percentiles of the calls.
func benchCalls(b *testing.B, p *Pool, c Call) {
	ctx := context.Background()
	durations := make([]time.Duration, 0, 1<<16)
	b.ReportAllocs()
	for b.Loop() {
		start := time.Now()
		if err := p.Call(ctx, c); err != nil {
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

// BenchmarkVMCreate measures a new VM with the sandbox installed and the
// main chunk run once.
func BenchmarkVMCreate(b *testing.B) {
	s := compile(b, "function on_call_complete(call) end")
	cfg := Config{}.withDefaults()
	b.ReportAllocs()
	for b.Loop() {
		vm, err := newLuaVM(s, &cfg)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := vm.load(context.Background(), time.Now(), testFunctions); err != nil {
			b.Fatal(err)
		}
		vm.close()
	}
}

// BenchmarkWork measures a call that does typical work: string
// building, a pattern, a table and a log line below the level.
func BenchmarkWork(b *testing.B) {
	p := newTestPool(b, `
function on_call_complete(call)
  if call.state ~= "completed" or call.duration < 10 then return end
  local user = call.caller:match("^([^@]+)@")
  local parts = {}
  for i, f in ipairs(call.files) do parts[i] = f:gsub("^.*/", "") end
  log.debug("call done", {user = user, files = table.concat(parts, ","), dir = string.format("%s/%s", call.dirname, call.calldate:sub(1, 10))})
end`, Config{PoolSize: 1})
	benchCalls(b, p, callOf(callFunction, testCall()))
}

// BenchmarkLoop measures the instruction hook: a loop of 100k iterations
// (about 4 instructions each) in the sandbox, and in a plain gopher-lua
// state without a context for comparison.
func BenchmarkLoop(b *testing.B) {
	const loop = `local x = 0 for i = 1, 100000 do x = x + i % 7 end return x`
	b.Run("sandbox", func(b *testing.B) {
		p := newTestPool(b, "function on_call_complete(call) "+loop+" end", Config{PoolSize: 1})
		c := callOf(callFunction, testCall())
		for b.Loop() {
			if err := p.Call(context.Background(), c); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/100000, "ns/iteration")
	})
	b.Run("gopher-lua", func(b *testing.B) {
		L := lua.NewState()
		defer L.Close()
		fn, err := L.LoadString(loop)
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			L.Push(fn)
			if err := L.PCall(0, 0, nil); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/100000, "ns/iteration")
	})
}
