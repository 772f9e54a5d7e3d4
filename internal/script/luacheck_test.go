package script

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestLuaCheck(t *testing.T) {
	s, err := CompileLua("hooks.lua", []byte(`
local json_encode = json.encode
config = {dir = "/srv"}
function helper(x) return x end
local function f(a, ...)
  local y = a + #arg
  return y, undefined_one
end
function on_call_complete(call)
  local r = exec({"archive", call.dirname, config.dir})
  io.write("x")
  for i, v in ipairs(call.files) do
    local z = v .. i
    print(z, helper(z), cal.callid)
  end
  repeat local stop = true until stop
  if os.getenv("X") then require("socket") end
  local t = {[call.callid] = loadstring}
  function t:method() return self, unknown_in_method end
  goto done
  ::done::
  os.execute("x" .. os.time() .. string.dump(f) .. math.floor(1) .. json.encode({}))
end
`))
	if err != nil {
		t.Fatal(err)
	}
	report, err := s.Check(testLuaConfig())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(report.Functions, []string{"on_call_complete"}) {
		t.Errorf("functions = %v", report.Functions)
	}
	want := []GlobalRef{
		{"undefined_one", 7}, {"io", 11}, {"cal", 14}, {"os.getenv", 17}, {"require", 17}, {"loadstring", 18}, {"unknown_in_method", 19},
		{"os.execute", 22}, {"string.dump", 22},
	}
	if !reflect.DeepEqual(report.UnknownGlobals, want) {
		t.Errorf("unknown globals:\n got %v\nwant %v", report.UnknownGlobals, want)
	}
}

func TestLuaCheckRuntimeError(t *testing.T) {
	s, err := CompileLua("hooks.lua", []byte("function on_pcap_close() end\nlocal x = nil .. 'a'\nfoo()"))
	if err != nil {
		t.Fatal(err)
	}
	report, err := s.Check(testLuaConfig())
	var le *LuaError
	if !errors.As(err, &le) || !strings.Contains(le.Message, "hooks.lua:2:") {
		t.Errorf("error = %v", err)
	}
	if len(report.UnknownGlobals) != 1 || report.UnknownGlobals[0].Name != "foo" || report.Functions != nil {
		t.Errorf("report = %+v", report)
	}
}
