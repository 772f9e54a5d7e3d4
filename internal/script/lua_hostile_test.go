package script

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// hostileHarness is appended to every script of testdata/lua/hostile: the
// event with Call-ID "hostile" runs the script's hostile(call); any other
// runs its check() and the generic checks that nothing was left behind.
const hostileHarness = `
function on_call_complete(call)
  if call.callid == "hostile" then return hostile(call) end
  if check then check() end
  assert(leaked == nil, "a global survived")
  for _, lib in ipairs({"string", "table", "math", "os", "log", "json"}) do
    assert(_G[lib].leaked == nil, lib .. " was changed")
  end
  assert(("abc"):upper() == "ABC", "string methods were changed")
  assert(string.rep("ab", 3) == "ababab", "string.rep was changed")
  assert(math.floor(2.5) == 2, "math was changed")
  assert(json.encode({a = {1, 2}}) == '{"a":[1,2]}', "json was changed")
end
`

// heapWatch samples the live heap until stopped and reports its peak.
type heapWatch struct {
	stop chan struct{}
	done chan struct{}
	peak atomic.Uint64
}

func heapObjects() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

func watchHeap() *heapWatch {
	w := &heapWatch{stop: make(chan struct{}), done: make(chan struct{})}
	w.peak.Store(heapObjects())
	go func() {
		defer close(w.done)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-w.stop:
				return
			case <-tick.C:
				if h := heapObjects(); h > w.peak.Load() {
					w.peak.Store(h)
				}
			}
		}
	}()
	return w
}

func (w *heapWatch) end() uint64 {
	close(w.stop)
	<-w.done
	return w.peak.Load()
}

// TestLuaHostile runs every script of testdata/lua/hostile. Each must end
// as its first line says (-- expect: timeout | memory | limit | ok |
// error: TEXT) within the deadline plus 100 ms, with the memory estimate
// within the budget and the live heap within 4 budgets of where it was;
// then a normal event on the same hooks must run, on the same VM when the
// hostile run succeeded, and find nothing left behind.
func TestLuaHostile(t *testing.T) {
	files, err := filepath.Glob("testdata/lua/hostile/*.lua")
	if err != nil || len(files) == 0 {
		t.Fatalf("no hostile scripts: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".lua"), func(t *testing.T) {
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			first, _, _ := strings.Cut(string(src), "\n")
			expect, ok := strings.CutPrefix(first, "-- expect: ")
			if !ok {
				t.Fatalf("%s does not start with -- expect:", file)
			}
			cfg := testLuaConfig()
			cfg.PoolSize = 1
			h := newTestHooks(t, string(src)+hostileHarness, cfg)
			var (
				peak int64
				vms  []*luaVM
			)
			h.observe = func(vm *luaVM) {
				peak = max(peak, vm.meter.peak)
				vms = append(vms, vm)
			}
			k := hookNamed(t, h, "lua:on_call_complete")
			ev := testCall()
			ev.CallID = "hostile"

			runtime.GC()
			base := heapObjects()
			w := watchHeap()
			start := time.Now()
			err = k.Run(t.Context(), ev)
			elapsed := time.Since(start)
			heapPeak := w.end()

			checkExpectation(t, expect, err)
			if limit := cfg.Timeout + 100*time.Millisecond; elapsed > limit {
				t.Errorf("took %s, more than %s", elapsed, limit)
			}
			if peak > cfg.MemoryLimit {
				t.Errorf("memory estimate peaked at %s, over the budget of %s", formatBytes(peak), formatBytes(cfg.MemoryLimit))
			}
			if grew := int64(heapPeak) - int64(base); grew > 4*cfg.MemoryLimit {
				t.Errorf("live heap grew by %s, more than 4 budgets", formatBytes(grew))
			}
			t.Logf("%s in %s, estimate peak %s, heap +%s", expect, elapsed.Round(time.Millisecond),
				formatBytes(peak), formatBytes(max(int64(heapPeak)-int64(base), 0)))

			if err := k.Run(t.Context(), testCall()); err != nil {
				t.Fatalf("normal event after the hostile one: %v", err)
			}
			if expect == "ok" && (len(vms) != 2 || vms[0] != vms[1]) {
				t.Errorf("the normal event did not run on the hostile event's VM")
			}
		})
	}
}

func checkExpectation(t *testing.T, expect string, err error) {
	t.Helper()
	isLimit := errors.Is(err, ErrTimeout) || errors.Is(err, ErrMemoryLimit)
	switch {
	case expect == "ok":
		if err != nil {
			t.Errorf("error %v, want none", err)
		}
	case expect == "timeout":
		if !errors.Is(err, ErrTimeout) {
			t.Errorf("error %v, want a timeout", err)
		}
	case expect == "memory":
		if !errors.Is(err, ErrMemoryLimit) {
			t.Errorf("error %v, want the memory limit", err)
		}
	case expect == "limit":
		if !isLimit {
			t.Errorf("error %v, want a timeout or the memory limit", err)
		}
	case strings.HasPrefix(expect, "error: "):
		want := strings.TrimPrefix(expect, "error: ")
		if err == nil || isLimit || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v, want a script error containing %q", err, want)
		}
	default:
		t.Fatalf("unknown expectation %q", expect)
	}
}
