package sandbox

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
	"golang.org/x/sys/unix"
)

// Bounds on the work a call may do between two checks of its limits. The
// deadline is seen only at a check, so these bound how far past it a call
// can run, in units that do not depend on how busy the machine is: the
// bytes it reserves and the CPU time of its own thread (which another
// process's load does not add to).
const (
	// maxGapBytes: no check-free stretch reserves more than the budget
	// the cases run with.
	maxGapBytes = 16 << 20
	// maxGapCPU is what the long suite allows past the deadline; the
	// slowest stretch (copying 8 MiB into fresh memory) takes 20-40 ms
	// here (see the test's log).
	maxGapCPU = 100 * time.Millisecond
)

// threadCPU returns the CPU time the calling thread has used.
func threadCPU(tb testing.TB) time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ts.Nano())
}

// gapMeter records the largest stretches of work between two checks,
// from the moment the script calls start_measuring().
type gapMeter struct {
	tb      testing.TB
	vm      *luaVM
	active  bool
	checks  int
	lastCPU time.Duration
	lastB   int64
	cpu     time.Duration // longest stretch in thread CPU time
	bytes   int64         // most bytes reserved in one stretch
}

func (g *gapMeter) check() {
	if !g.active {
		return
	}
	now, charged := threadCPU(g.tb), g.vm.meter.charged
	if g.checks > 0 {
		g.cpu = max(g.cpu, now-g.lastCPU)
		g.bytes = max(g.bytes, charged-g.lastB)
	}
	g.checks++
	g.lastCPU, g.lastB = now, charged
}

// TestBoundedWork runs each bounded case's body twice in a call, under
// a deadline too far away to matter, or, for an endless body, until the
// usual deadline stops it; it measures the work between every two checks
// of the limits in the body: each stretch must stay within maxGapBytes
// and maxGapCPU. A built-in that loops without looking at the deadline,
// or builds a result larger than the budget in one go, fails here however
// idle or busy the machine is.
func TestBoundedWork(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector multiplies CPU time")
	}
	runtime.LockOSThread() // the call runs on this goroutine: its thread's clock is the call's
	defer runtime.UnlockOSThread()
	var log strings.Builder
	fmt.Fprintf(&log, "\n%-24s %-8s %8s %12s %12s\n", "built-in", "ended by", "checks", "max bytes", "max CPU")
	for _, c := range boundedCases {
		cfg := testConfig()
		if !c.endless {
			cfg.Timeout = time.Minute
		}
		p := newTestPool(t, c.setup+`
function on_call_complete(call)
  start_measuring()
  for _ = 1, 2 do `+c.body+` end
end`, cfg)
		vm, err := p.get()
		if err != nil {
			t.Fatal(err)
		}
		g := &gapMeter{tb: t, vm: vm}
		vm.sandbox.globals.RawSetString("start_measuring", vm.L.NewFunction(func(*lua.LState) int {
			g.active = true
			return 0
		}))
		vm.ctx.checked = g.check
		err = callVM(t, vm, callOf(callFunction, testCall()))
		vm.ctx.checked = nil
		vm.close()
		ended := "return"
		switch {
		case errors.Is(err, ErrMemoryLimit):
			ended = "memory"
		case errors.Is(err, ErrTimeout) && c.endless:
			ended = "timeout"
		case err != nil:
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		fmt.Fprintf(&log, "%-24s %-8s %8d %12s %12s\n", c.name, ended, g.checks, formatBytes(g.bytes), g.cpu.Round(10*time.Microsecond))
		if g.bytes > maxGapBytes {
			t.Errorf("%s: %s reserved between two checks, more than %s", c.name, formatBytes(g.bytes), formatBytes(maxGapBytes))
		}
		if g.cpu > maxGapCPU {
			t.Errorf("%s: %s of CPU between two checks, more than %s", c.name, g.cpu, maxGapCPU)
		}
	}
	t.Log(log.String())
}
