package sandbox

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	s, err := Compile("hooks.lua", []byte(`
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
	report, err := s.Check(testConfig(), testFunctions)
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

	// Without the exec builtin, exec is unknown.
	cfg := testConfig()
	cfg.Builtins = nil
	report, err = s.Check(cfg, testFunctions)
	if err != nil {
		t.Fatal(err)
	}
	if got := report.UnknownGlobals; len(got) != len(want)+1 || got[1] != (GlobalRef{"exec", 10}) {
		t.Errorf("unknown globals without exec: %v", got)
	}
}

func TestCheckRuntimeError(t *testing.T) {
	s, err := Compile("hooks.lua", []byte("function on_pcap_close() end\nlocal x = nil .. 'a'\nfoo()"))
	if err != nil {
		t.Fatal(err)
	}
	report, err := s.Check(testConfig(), testFunctions)
	var le *Error
	if !errors.As(err, &le) || !strings.Contains(le.Message, "hooks.lua:2:") {
		t.Errorf("error = %v", err)
	}
	if len(report.UnknownGlobals) != 1 || report.UnknownGlobals[0].Name != "foo" || report.Functions != nil {
		t.Errorf("report = %+v", report)
	}
}

// TestCheckFunctionsOrder: Functions follow the order given.
func TestCheckFunctionsOrder(t *testing.T) {
	s := compile(t, "function b() end function a() end function on_call_complete() end")
	report, err := s.Check(Config{}, []string{"a", "c", "b"})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(report.Functions, []string{"a", "b"}) {
		t.Errorf("functions = %v", report.Functions)
	}
}
