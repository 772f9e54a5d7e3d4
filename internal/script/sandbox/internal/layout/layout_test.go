package layout

import (
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// TestFind checks that the gopher-lua in use has the internal layout the
// package reads.
func TestFind(t *testing.T) {
	if _, err := Find(); err != nil {
		t.Fatal(err)
	}
}

// TestTableParts checks what the layout reads of a table against what
// gopher-lua's own API says of it.
func TestTableParts(t *testing.T) {
	l, err := Find()
	if err != nil {
		t.Fatal(err)
	}
	L := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer L.Close()
	tb := L.CreateTable(4, 0)
	tb.Append(lua.LNumber(1))
	tb.Append(lua.LNumber(2))
	tb.RawSetString("a", lua.LTrue)
	tb.RawSet(lua.LTrue, lua.LFalse)
	array, dict, strdict, keys := l.TableParts(tb)
	if len(array) != 2 || cap(array) != 4 || len(dict) != 1 || len(strdict) != 1 || keys != 2 {
		t.Errorf("parts: array %d/%d, dict %d, strdict %d, keys %d", len(array), cap(array), len(dict), len(strdict), keys)
	}
	if a := l.TableArray(tb); len(a) != 2 || a[1] != lua.LNumber(2) {
		t.Errorf("array = %v", a)
	}
	L.Push(lua.LString("x"))
	if reg := l.Registry(L); len(reg) == 0 || reg[0] != lua.LString("x") {
		t.Errorf("registry starts with %v", reg[:min(len(reg), 1)])
	}
	if _, _, _, _, ok := l.CurrentInstruction(L); ok {
		t.Error("an instruction is running outside any call")
	}
}
