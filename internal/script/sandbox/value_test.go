package sandbox

import (
	"errors"
	"strings"
	"testing"
)

// TestValues checks what the Go values of Call.Args become in Lua.
func TestValues(t *testing.T) {
	var tr traces
	cfg := testConfig()
	cfg.Trace = tr.add
	p := newTestPool(t, `
function on_call_complete(s, b, i, i64, f, strs, empty, tables, tbl, none)
  assert(s == "x" and b == true and i == 7 and i64 == -3 and f == 2.5 and none == nil)
  assert(#strs == 2 and strs[2] == "b" and #tables == 1 and tables[1].k == "v")
  assert(getmetatable(strs) == false and getmetatable(empty) == false and getmetatable(tables) == false)
  assert(tbl.absent == nil and tbl.n == 1)
  local keys = {}
  for k in pairs(tbl) do keys[#keys + 1] = k end
  log.info(#keys .. " " .. json.encode({strs, empty, tables, tbl}))
end`, cfg)
	tbl := Table{{"n", 1}, {"absent", nil}, {"nested", Table{}}, {"list", []Table{}}}
	err := p.Call(t.Context(), callOf(callFunction, "x", true, 7, int64(-3), 2.5,
		[]string{"a", "b"}, []string(nil), []Table{{{"k", "v"}}}, tbl, nil))
	if err != nil {
		t.Fatal(err)
	}
	want := `3 [["a","b"],[],[{"k":"v"}],{"list":[],"n":1,"nested":{}}]`
	if logs := tr.logs(); len(logs) != 1 || logs[0] != want {
		t.Errorf("logs = %q, want %q", logs, want)
	}
}

// TestValuesUnsupported: a Go value of another type, or one that holds
// itself, is a programming error, reported before any script runs.
func TestValuesUnsupported(t *testing.T) {
	p := newTestPool(t, "function on_call_complete() error('ran') end", testConfig())
	loop := Table{{"self", nil}}
	loop[0].Value = loop
	tests := []struct {
		name string
		args []any
		want string
	}{
		{"type", []any{"ok", make(chan int)}, "argument 2: cannot give a Go chan int to a script"},
		{"uint", []any{uint(1)}, "argument 1: cannot give a Go uint to a script"},
		{"field", []any{Table{{"x", []int{1}}}}, `argument 1: field "x": cannot give a Go []int to a script`},
		{"cycle", []any{loop}, "value nested deeper than 64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := p.Call(t.Context(), callOf(callFunction, tt.args...))
			var le *Error
			if err == nil || errors.As(err, &le) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want a plain error containing %q", err, tt.want)
			}
		})
	}
}

// TestArgumentsTooLarge: arguments that do not fit in the budget fail
// the call before anything is pushed.
func TestArgumentsTooLarge(t *testing.T) {
	cfg := testConfig()
	cfg.MemoryLimit = 1 << 20
	p := newTestPool(t, "function on_call_complete(call) error('ran') end", cfg)
	big := make([]string, 64)
	for i := range big {
		big[i] = strings.Repeat("x", 16<<10)
	}
	call := append(testCall(), Field{"big", big})
	err := onCall(t.Context(), p, call)
	var le *Error
	if !errors.As(err, &le) || !errors.Is(err, ErrMemoryLimit) ||
		le.Message != "memory limit exceeded (1 MiB): the arguments alone" {
		t.Errorf("error = %v, want the memory limit for the arguments", err)
	}
	if err := onCall(t.Context(), p, testCall()); err == nil || !strings.Contains(err.Error(), "ran") {
		t.Errorf("a call with small arguments: %v", err)
	}
}

// TestValueCost: the cost of a value grows with what it holds.
func TestValueCost(t *testing.T) {
	for _, tt := range []struct {
		v    any
		want int64
	}{
		{nil, 0},
		{true, 0},
		{"abc", sizeString + 3},
		{42, sizeNumber},
		{[]string{"a", "bc"}, newTableCost(2, 0) + 2*sizeString + 3},
		{Table{{"k", 1}}, newTableCost(0, 1) + perField + sizeString + 1 + sizeNumber},
		{[]Table{{}}, newTableCost(1, 0) + newTableCost(0, 0)},
	} {
		if got, err := valueCost(tt.v, 0); err != nil || got != tt.want {
			t.Errorf("valueCost(%#v) = %d, %v; want %d", tt.v, got, err, tt.want)
		}
	}
}
