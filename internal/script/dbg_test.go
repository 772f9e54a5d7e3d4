package script

import (
	"time"
	lua "github.com/yuin/gopher-lua"
	"runtime"
	"testing"
)

func TestDbgReal(t *testing.T) {
	for _, body := range []string{
		`for i = 1, N do t[i] = function() return i end end`,
		`for i = 1, N do t[i] = {} end`,
		`for i = 1, N do t[i] = {i} end`,
		`for i = 1, N do t["k" .. i] = i end`,
		`for i = 1, N do t[i] = tostring(i) end`,
		`for i = 1, N do local x = {}; x.a = i; t[i] = x end`,
		`for i = 1, N do t[i] = {a = i, b = "x"} end`,
	} {
		cfg := testLuaConfig()
		cfg.MemoryLimit = 1 << 30
		h := newTestHooks(t, `N = 100000
function on_call_complete(call)
  local t = {}
  `+body+`
  KEEP(t)
end`, cfg)
		var est int64
		var live uint64
		h.observe = func(vm *luaVM) {}
		vm, _ := h.get()
		vm.sandbox.globals.RawSetString("KEEP", vm.L.NewFunction(func(L *lua.LState) int {
			vm.measure()
			est = vm.meter.base
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			live = ms.HeapAlloc
			return 0
		}))
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		base := ms.HeapAlloc
		err := vm.invoke(t.Context(), time.Now(), h.hooks[0].(*luaHook), testCall())
		t.Logf("%-60s est %8d B/elem  real %8d B/elem  %v", body, est/100000, (int64(live)-int64(base))/100000, err)
	}
}
