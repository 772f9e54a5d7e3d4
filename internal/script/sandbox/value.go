package sandbox

import (
	"fmt"

	lua "github.com/yuin/gopher-lua"
)

// Table is a Lua table with string keys, as an argument of a Call or a
// value a Builtin pushes: its fields are set in order, a field whose
// value is nil is left out.
//
// The Go values a script can be given, and what they become:
//
//	nil                     nil
//	string                  a string
//	bool                    a boolean
//	int, int64, float64     a number
//	[]string                an array of strings
//	[]Table                 an array of tables
//	Table                   a table with string keys
//
// The arrays are marked as json.array marks them, so that json.encode
// writes them as arrays even when empty, and their metatable is
// protected. Values nest at most 64 deep.
type Table []Field

// Field is one field of a Table.
type Field struct {
	Key   string
	Value any // one of the types Table lists
}

// maxValueDepth bounds the nesting of Go values, which could otherwise
// hold themselves.
const maxValueDepth = 64

// perField is the cost of a field of a table with string keys, its key
// and value aside: the slots and iteration order of a new key.
const perField = sizeStore

// argsCost is the memory the arguments of a call take in the VM, in the
// units of the memory estimate.
func argsCost(args []any) (int64, error) {
	n := int64(0)
	for i, a := range args {
		c, err := valueCost(a, 0)
		if err != nil {
			return 0, fmt.Errorf("argument %d: %w", i+1, err)
		}
		n += c
	}
	return n, nil
}

// valueCost is the memory v takes once converted by lvalue, in the units
// of the memory estimate; an error for a type lvalue does not convert.
func valueCost(v any, depth int) (int64, error) {
	if depth >= maxValueDepth {
		return 0, fmt.Errorf("value nested deeper than %d", maxValueDepth)
	}
	switch v := v.(type) {
	case nil, bool:
		return 0, nil
	case string:
		return sizeString + int64(len(v)), nil
	case int, int64, float64:
		return sizeNumber, nil
	case []string:
		n := newTableCost(len(v), 0)
		for _, s := range v {
			n += sizeString + int64(len(s))
		}
		return n, nil
	case []Table:
		n := newTableCost(len(v), 0)
		for _, t := range v {
			c, err := valueCost(t, depth+1)
			if err != nil {
				return 0, err
			}
			n += c
		}
		return n, nil
	case Table:
		n := newTableCost(0, len(v))
		for _, f := range v {
			c, err := valueCost(f.Value, depth+1)
			if err != nil {
				return 0, fmt.Errorf("field %q: %w", f.Key, err)
			}
			n += perField + sizeString + int64(len(f.Key)) + c
		}
		return n, nil
	}
	return 0, fmt.Errorf("cannot give a Go %T to a script", v)
}

// lvalue converts v, of a type valueCost accepts, to a Lua value.
func (vm *luaVM) lvalue(v any) lua.LValue {
	switch v := v.(type) {
	case string:
		return lua.LString(v)
	case bool:
		return lua.LBool(v)
	case int:
		return lua.LNumber(v)
	case int64:
		return lua.LNumber(v)
	case float64:
		return lua.LNumber(v)
	case []string:
		t := vm.L.CreateTable(len(v), 0)
		t.Metatable = vm.sandbox.arrayMeta
		for _, s := range v {
			t.Append(lua.LString(s))
		}
		return t
	case []Table:
		t := vm.L.CreateTable(len(v), 0)
		t.Metatable = vm.sandbox.arrayMeta
		for _, x := range v {
			t.Append(vm.lvalue(x))
		}
		return t
	case Table:
		t := vm.L.CreateTable(0, len(v))
		for _, f := range v {
			if f.Value != nil {
				t.RawSetString(f.Key, vm.lvalue(f.Value))
			}
		}
		return t
	}
	return lua.LNil
}
