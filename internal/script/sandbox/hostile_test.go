package sandbox

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

	"github.com/lc-voip/lc/internal/testenv"
)

// hostileHarness is appended to every script of testdata/hostile: the
// call with Call-ID "hostile" runs the script's hostile(call); any other
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

// heapWatch samples the heap until stopped: the peak of what the last
// garbage collection found live, and the peak of all heap objects (live,
// and dead ones not swept yet).
type heapWatch struct {
	stop        chan struct{}
	done        chan struct{}
	live, total atomic.Uint64
}

// heapSample returns the live heap at the last collection and all heap
// objects now.
func heapSample() (live, total uint64) {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64(), s[1].Value.Uint64()
}

func watchHeap() *heapWatch {
	w := &heapWatch{stop: make(chan struct{}), done: make(chan struct{})}
	sample := func() {
		live, total := heapSample()
		if live > w.live.Load() {
			w.live.Store(live)
		}
		if total > w.total.Load() {
			w.total.Store(total)
		}
	}
	sample()
	go func() {
		defer close(w.done)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-w.stop:
				return
			case <-tick.C:
				sample()
			}
		}
	}()
	return w
}

// end stops the watch and returns its peaks.
func (w *heapWatch) end() (live, total uint64) {
	close(w.stop)
	<-w.done
	runtime.GC() // what the run left live is a collection away
	l, t := heapSample()
	return max(w.live.Load(), l), max(w.total.Load(), t)
}

// hostileTimeout is the deadline a hostile script of the default suite
// runs under: short for those that only a deadline (or either limit) can
// stop, and far away for the others, so that the memory limit or the
// script's own error certainly comes first, however busy the machine.
func hostileTimeout(expect string) time.Duration {
	if expect == "timeout" || expect == "limit" {
		return 100 * time.Millisecond
	}
	return time.Minute
}

// TestHostile runs every script of testdata/hostile. Each must end as its
// first line says (-- expect: timeout | memory | limit | ok | error:
// TEXT), with the memory estimate within the budget, the live heap (as
// collections find it) within 4 budgets of where it was and all heap
// objects, garbage included, within 8; then a normal call on the same
// pool must run, on the same VM when the hostile run succeeded, and find
// nothing left behind. The deadline is chosen by hostileTimeout, so the
// outcome does not depend on the machine's speed; TestHostileDeadline
// measures how soon past the deadline each script stops.
func TestHostile(t *testing.T) {
	for _, file := range hostileScripts(t) {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".lua"), func(t *testing.T) {
			runHostile(t, file, hostileTimeout, false)
		})
	}
}

// TestHostileDeadline runs every hostile script under the same 500 ms
// deadline and 16 MiB budget, as an operator's script would, and requires
// each to end as expected within the deadline plus 100 ms. It measures
// the wall clock: long suite.
func TestHostileDeadline(t *testing.T) {
	testenv.Long(t)
	for _, file := range hostileScripts(t) {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".lua"), func(t *testing.T) {
			runHostile(t, file, func(string) time.Duration { return testConfig().Timeout }, true)
		})
	}
}

func hostileScripts(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("testdata/hostile/*.lua")
	if err != nil || len(files) == 0 {
		t.Fatalf("no hostile scripts: %v", err)
	}
	return files
}

// runHostile runs one hostile script (see TestHostile) with the
// deadline timeout gives for its expectation; timed also requires it to
// end within that deadline plus 100 ms.
func runHostile(t *testing.T, file string, timeout func(expect string) time.Duration, timed bool) {
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(string(src), "\n")
	expect, ok := strings.CutPrefix(first, "-- expect: ")
	if !ok {
		t.Fatalf("%s does not start with -- expect:", file)
	}
	cfg := testConfig()
	cfg.PoolSize = 1
	cfg.Timeout = timeout(expect)
	p := newTestPool(t, string(src)+hostileHarness, cfg)
	var (
		peak int64
		vms  []*luaVM
	)
	p.observe = func(vm *luaVM) {
		peak = max(peak, vm.meter.peak)
		vms = append(vms, vm)
	}

	runtime.GC()
	baseLive, baseTotal := heapSample()
	w := watchHeap()
	start := time.Now()
	err = onCall(t.Context(), p, testCallWith("hostile"))
	elapsed := time.Since(start)
	peakLive, peakTotal := w.end()
	live := max(int64(peakLive)-int64(baseLive), 0)
	total := max(int64(peakTotal)-int64(baseTotal), 0)

	checkExpectation(t, expect, err)
	if limit := cfg.Timeout + 100*time.Millisecond; timed && elapsed > limit {
		t.Errorf("took %s, more than %s", elapsed, limit)
	}
	if peak > cfg.MemoryLimit {
		t.Errorf("memory estimate peaked at %s, over the budget of %s", formatBytes(peak), formatBytes(cfg.MemoryLimit))
	}
	if live > 4*cfg.MemoryLimit {
		t.Errorf("live heap grew by %s, more than 4 budgets", formatBytes(live))
	}
	if total > 8*cfg.MemoryLimit {
		t.Errorf("heap objects grew by %s, more than 8 budgets", formatBytes(total))
	}
	t.Logf("%s: %s in %s, estimate peak %s, live heap +%s, heap objects +%s", filepath.Base(file), expect,
		elapsed.Round(time.Millisecond), formatBytes(peak), formatBytes(live), formatBytes(total))

	if err := onCall(t.Context(), p, testCall()); err != nil {
		t.Fatalf("normal call after the hostile one: %v", err)
	}
	if expect == "ok" && (len(vms) != 2 || vms[0] != vms[1]) {
		t.Errorf("the normal call did not run on the hostile call's VM")
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
	case raceEnabled && expect != "ok" && errors.Is(err, ErrTimeout):
		// The race detector slows Lua down enough for the deadline to
		// come first.
		t.Logf("timed out under -race, expected %s", expect)
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
