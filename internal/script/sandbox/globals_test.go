package sandbox

import (
	"slices"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// tableKeys returns the string keys of t, sorted.
func tableKeys(t *lua.LTable) []string {
	var keys []string
	t.ForEach(func(k, _ lua.LValue) {
		keys = append(keys, k.String())
	})
	slices.Sort(keys)
	return keys
}

// behindProxy returns the table a read-only proxy reads from, or nil.
func behindProxy(t *lua.LTable) *lua.LTable {
	meta, ok := t.Metatable.(*lua.LTable)
	if !ok {
		return nil
	}
	real, _ := meta.RawGetString("__index").(*lua.LTable)
	return real
}

// TestSandboxAllowlist enumerates what a fresh invocation's environment
// reaches (its own keys, the shared globals behind its metatable, the
// libraries behind their proxies) and compares it with the allowlist and
// the Builtins of the config (exec).
func TestSandboxAllowlist(t *testing.T) {
	s := compile(t, "function on_call_complete() end")
	cfg := testConfig().withDefaults()
	vm, err := newLuaVM(s, &cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer vm.close()
	env := vm.newEnv()

	globals := tableKeys(env)
	globals = append(globals, tableKeys(behindProxy(env))...)
	slices.Sort(globals)
	wantGlobals := strings.Fields(`_G _VERSION assert error exec getmetatable ipairs json log math
		next os pairs pcall print rawequal rawget rawset select setmetatable string table
		tonumber tostring type unpack xpcall`)
	if !slices.Equal(globals, wantGlobals) {
		t.Errorf("globals:\n got %v\nwant %v", globals, wantGlobals)
	}

	wantLibs := map[string]string{
		"string": "byte char find format gmatch gsub len lower match rep reverse sub upper",
		"table":  "concat getn insert maxn remove sort",
		"math": `abs acos asin atan atan2 ceil cos cosh deg exp floor fmod frexp huge ldexp log
			log10 max min mod modf pi pow rad random randomseed sin sinh sqrt tan tanh`,
		"os":   "clock date time",
		"log":  "debug error info warn",
		"json": "array decode encode null",
	}
	shared := behindProxy(env)
	for name, want := range wantLibs {
		proxy, ok := shared.RawGetString(name).(*lua.LTable)
		if !ok {
			t.Errorf("%s is not a table", name)
			continue
		}
		if keys := tableKeys(proxy); len(keys) != 0 {
			t.Errorf("%s proxy has keys of its own: %v", name, keys)
		}
		if got := tableKeys(behindProxy(proxy)); !slices.Equal(got, strings.Fields(want)) {
			t.Errorf("%s:\n got %v\nwant %v", name, got, strings.Fields(want))
		}
	}

	// What getmetatable("") shows is a read-only view whose __index is
	// the string library's proxy.
	strMeta, ok := vm.L.GetMetatable(lua.LString("")).(*lua.LTable)
	if !ok || len(tableKeys(strMeta)) != 0 {
		t.Fatalf("getmetatable(\"\") = %v", vm.L.GetMetatable(lua.LString("")))
	}
	if got := tableKeys(behindProxy(strMeta)); !slices.Equal(got, []string{"__index", "__metatable"}) {
		t.Errorf("string metatable keys = %v", got)
	}
}

// TestSandboxAbsent checks from inside a call that what must not be
// there is not, and that the sandbox's tables cannot be changed.
func TestSandboxAbsent(t *testing.T) {
	p := newTestPool(t, `
local absent = {"load", "loadstring", "dofile", "loadfile", "require", "module",
  "collectgarbage", "getfenv", "setfenv", "newproxy", "gcinfo", "_printregs",
  "io", "debug", "package", "channel", "coroutine"}
local absentIn = {
  os = {"execute", "exit", "getenv", "remove", "rename", "setenv", "setlocale", "tmpname", "difftime"},
  string = {"dump"},
}
local function fails(f, ...)
  local ok, err = pcall(f, ...)
  assert(not ok, "did not fail")
  return err
end
function on_call_complete(call)
  for _, name in ipairs(absent) do
    assert(_G[name] == nil, name .. " is present")
  end
  for lib, names in pairs(absentIn) do
    for _, name in ipairs(names) do
      assert(_G[lib][name] == nil, lib .. "." .. name .. " is present")
    end
  end
  assert(_VERSION == "Lua 5.1")
  assert(_G == _G._G)
  for _, lib in ipairs({"string", "table", "math", "os", "log", "json"}) do
    local t = _G[lib]
    assert(fails(function() t.x = 1 end):find("read%-only table '" .. lib .. "'"))
    assert(fails(rawset, t, "x", 1):find("read%-only"))
    assert(fails(setmetatable, t, {}):find("protected metatable"))
    assert(getmetatable(t) == false)
    local n = 0
    for k, v in pairs(t) do
      n = n + 1
      assert(t[k] == v)
    end
    assert(n > 0 and next(t) == nil, lib .. " cannot be listed")
    local _, state = pairs(t)
    assert(state == t, "pairs exposes what is behind a library")
  end
  local n = 0
  for k, v in pairs({a = 1, b = 2}) do n = n + v end
  assert(n == 3)
  assert(fails(function() getmetatable("").__index = {} end):find("read%-only"))
  assert(fails(function() getmetatable("").__index.upper = print end):find("read%-only"))
  assert(fails(rawset, getmetatable(""), "__index", {}):find("read%-only"))
  assert(fails(setmetatable, _G, {}):find("protected metatable"))
  assert(getmetatable(_G) == false)
  assert(fails(function() json.null.x = 1 end):find("read%-only"))
  assert(getmetatable(call.files) == false)
  assert(fails(setmetatable, call.files, {}):find("protected metatable"))
end`, testConfig())
	if err := onCall(t.Context(), p, testCall()); err != nil {
		t.Fatal(err)
	}
}
