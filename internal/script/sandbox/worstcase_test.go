package sandbox

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lc-voip/lc/internal/testenv"
	lua "github.com/yuin/gopher-lua"
)

// boundedCase drives one bounded built-in (or a VM operation the sandbox
// sizes itself) as close as it can to its longest uninterruptible run and
// its largest allocation: setup runs once, at the script's top level;
// body is what a call repeats. An endless body never returns: only the
// deadline ends it.
type boundedCase struct {
	name, setup, body string
	endless           bool
}

const (
	boundedBig  = `local big = string.rep("x", 4 * 2^20)`
	boundedMany = `local many = {} for i = 1, 200000 do many[i] = tostring(i % 1000) end`
)

var boundedCases = []boundedCase{
	{"string.rep", "", `local s = string.rep("x", 7e6)`, false},
	{"string.upper", boundedBig, `local s = big:upper()`, false},
	{"string.reverse", boundedBig, `local s = big:reverse()`, false},
	{"string.format", boundedBig, `local s = string.format("%s%s", big, big)`, false},
	{"string.format %q", `local nuls = string.rep("\0", 2^20)`, `local s = string.format("%q", nuls)`, false},
	{"table.concat", boundedMany, `local s = table.concat(many)`, false},
	{"table.insert front", boundedMany, `table.insert(many, 1, "x"); table.remove(many, 1)`, false},
	{"table.sort", boundedMany, `table.sort(many)`, false},
	{"string.find plain", boundedBig, `string.find(big, "y", 1, true)`, false},
	{"string.find pattern", boundedBig, `string.find(big, ".-.-y")`, true},
	{"string.gsub", boundedBig, `local s = string.gsub(big, "x", "yy")`, false},
	{"string.gmatch", boundedBig, `for w in big:gmatch("x+") do end`, false},
	{"json.encode", boundedMany, `local s = json.encode(many)`, false},
	{"json.encode keys", `local keys = {} for i = 1, 50000 do keys["k" .. i] = i end`, `local s = json.encode(keys)`, false},
	{"json.decode", `local doc = "[" .. string.rep('{"a":1},', 100000) .. "1]"`, `local t = json.decode(doc)`, false},
	{"concat ..", boundedBig, `local s = big .. big`, false},
	{"# with nil tail", `local holes = {} for i = 1, 500000 do holes[i] = true end for i = 500000, 2, -1 do holes[i] = nil end`, `local n = #holes`, false},
	{"measurement", `local keep = {} for i = 1, 60000 do keep[i] = {i} end`, `local s = string.rep("x", 2^20)`, false},
	{"measurement to the limit", "", `local t = {} for i = 1, 1e9 do t[i] = {} end`, false},
}

// TestBoundedDeadline runs each bounded case in a loop until the
// deadline or the budget stops it, and measures how far past the deadline
// the call ends and how much the live heap grew. The budget is 16 MiB and
// the deadline 500 ms, as in the hostile suite; the overshoot must stay
// under 100 ms. It measures the wall clock, so it is in the long suite;
// TestBoundedWork asserts the same bound in units of work.
func TestBoundedDeadline(t *testing.T) {
	testenv.Long(t)
	if raceEnabled {
		t.Skip("a timing measurement: not with -race")
	}
	type row struct {
		name        string
		err         string
		overshot    time.Duration
		live, total int64
	}
	var rows []row
	for _, c := range boundedCases {
		t.Run(c.name, func(t *testing.T) {
			cfg := testConfig()
			src := c.setup + `
function on_call_complete(call)
  while true do ` + c.body + ` end
end`
			p := newTestPool(t, src, cfg)
			runtime.GC()
			baseLive, baseTotal := heapSample()
			w := watchHeap()
			start := time.Now()
			err := onCall(t.Context(), p, testCall())
			elapsed := time.Since(start)
			peakLive, peakTotal := w.end()
			if !errors.Is(err, ErrTimeout) && !errors.Is(err, ErrMemoryLimit) {
				t.Fatalf("error %v, want a limit", err)
			}
			over := max(elapsed-cfg.Timeout, 0)
			kind := "timeout"
			if errors.Is(err, ErrMemoryLimit) {
				kind, over = "memory", 0
			}
			if over > 100*time.Millisecond {
				t.Errorf("ended %s after the deadline", over)
			}
			rows = append(rows, row{c.name, kind, over, int64(peakLive) - int64(baseLive), int64(peakTotal) - int64(baseTotal)})
		})
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n%-24s %-8s %-14s %-12s %s\n", "built-in", "ended by", "past deadline", "live heap", "heap objects")
	for _, r := range rows {
		fmt.Fprintf(&b, "%-24s %-8s %-14s %-12s %s\n", r.name, r.err, r.overshot.Round(100*time.Microsecond),
			"+"+formatBytes(max(r.live, 0)), "+"+formatBytes(max(r.total, 0)))
	}
	t.Log(b.String())
}

// TestConcurrent calls the functions of one script from many
// goroutines, a few of which fail, for the race detector.
func TestConcurrent(t *testing.T) {
	cfg := testConfig()
	cfg.PoolSize = 3
	cfg.MaxUses = 5
	p := newTestPool(t, `
local seen = 0
function on_call_complete(call)
  seen = seen + 1
  assert(seen == 1)
  if call.callid == "fail" then error("boom") end
  local s = string.format("%s %d", call.callid, call.status)
  log.debug(s)
end
function on_pcap_close(path, file)
  assert(file.kind == "sip" and path == file.path)
end`, cfg)
	var wg sync.WaitGroup
	errs := make(chan error, 8*50)
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				callID := testCallID
				if (g+i)%10 == 0 {
					callID = "fail"
				}
				err := onCall(t.Context(), p, testCallWith(callID))
				if (err != nil) != (callID == "fail") {
					errs <- fmt.Errorf("call %s: %v", callID, err)
				}
				if err := onPcap(t.Context(), p); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// callVM runs c in vm, as Pool.Call does, without the pool.
func callVM(tb testing.TB, vm *luaVM, c Call) error {
	tb.Helper()
	cost, err := argsCost(c.Args)
	if err != nil {
		tb.Fatal(err)
	}
	return vm.call(tb.Context(), time.Now(), &c, cost)
}

// TestMemoryEstimate compares the sandbox's estimate of what a script
// holds with what the Go heap really holds for it, after a collection,
// for the usual shapes of data: the estimate must be within -25% and
// +50% of the real size.
func TestMemoryEstimate(t *testing.T) {
	if raceEnabled {
		t.Skip("a heap measurement: not with -race")
	}
	shapes := []string{
		`for i = 1, N do t[i] = {} end`,
		`for i = 1, N do t[i] = {i, i + 1} end`,
		`for i = 1, N do t[i] = {name = "n" .. i, id = i, tags = {"a", "b"}} end`,
		`for i = 1, N / 10 do local x = {} x.a = i t[i] = x end`,
		`for i = 1, N do t["k" .. i] = i end`,
		`for i = 1, N do t[i] = function() return i end end`,
		`for i = 1, N do t[i] = string.rep("x", 100) .. i end`,
		`for i = 1, N do t[i] = tostring(i) end`,
		`t = json.decode("[" .. string.rep('{"a":1,"b":[1,2]},', N / 10) .. "1]")`,
	}
	for _, body := range shapes {
		cfg := testConfig()
		cfg.MemoryLimit = 1 << 30
		cfg.Timeout = time.Minute
		p := newTestPool(t, `N = 100000
function on_call_complete(call)
  local t = {}
  `+body+`
  measure(t)
end`, cfg)
		vm, err := p.get()
		if err != nil {
			t.Fatal(err)
		}
		var estimate, real int64
		var before runtime.MemStats
		vm.sandbox.globals.RawSetString("measure", vm.L.NewFunction(func(L *lua.LState) int {
			vm.measure()
			estimate = vm.meter.base
			vm.walker = luaWalker{}
			runtime.GC()
			var after runtime.MemStats
			runtime.ReadMemStats(&after)
			real = int64(after.HeapAlloc) - int64(before.HeapAlloc)
			return 0
		}))
		runtime.GC()
		runtime.ReadMemStats(&before)
		if err := callVM(t, vm, callOf(callFunction, testCall())); err != nil {
			t.Fatal(err)
		}
		vm.close()
		ratio := float64(estimate) / float64(real)
		t.Logf("%-74s estimate %8s, heap %8s (%.2f)", body, formatBytes(estimate), formatBytes(real), ratio)
		if ratio < 0.75 || ratio > 1.5 {
			t.Errorf("%s: estimate %s for %s on the heap", body, formatBytes(estimate), formatBytes(real))
		}
	}
}
