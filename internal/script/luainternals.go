package script

import (
	"fmt"
	"reflect"
	"sync"
	"unsafe"

	lua "github.com/yuin/gopher-lua"
)

// The limits of the sandbox need a few things gopher-lua does not export:
// the instruction about to run (to size a string concatenation or a table
// store before the VM allocates), the whole value stack (to measure what a
// script holds), the call frames (to drop references a finished call left
// behind) and the parts of a table (to see its real size). They are read
// here, and only here, through field offsets found by reflection once and
// checked against the expected types, so that another gopher-lua version
// with a different layout is refused (luaLayoutErr) rather than misread.
// Every access happens on the goroutine that runs the VM.

// luaLayout holds the byte offsets of the gopher-lua fields the sandbox
// reads.
type luaLayout struct {
	stateReg, stateFrame, stateStack    uintptr // in lua.LState
	regArray                            uintptr // in lua's registry
	frameFn, framePc, frameLocalBase    uintptr // in lua's callFrame
	frameIdx, frameTailCall             uintptr //
	stackArray                          uintptr // in lua's fixedCallFrameStack
	fixedStack                          reflect.Type
	frameSlice                          reflect.Type // []callFrame
	tableArray, tableDict, tableStrdict uintptr      // in lua.LTable
	tableKeys                           uintptr
}

var luaLayoutOnce = sync.OnceValues(findLuaLayout)

// luaLayoutErr reports whether this build's gopher-lua has the layout the
// sandbox was written for.
func luaLayoutErr() error {
	_, err := luaLayoutOnce()
	return err
}

func layout() *luaLayout {
	l, _ := luaLayoutOnce()
	return l
}

func findLuaLayout() (*luaLayout, error) {
	var l luaLayout
	valueType := reflect.TypeFor[lua.LValue]()
	values := reflect.SliceOf(valueType)
	intType := reflect.TypeFor[int]()
	var err error
	field := func(t reflect.Type, name string, want reflect.Type, kind reflect.Kind) (uintptr, reflect.Type) {
		if err != nil {
			return 0, nil
		}
		f, ok := t.FieldByName(name)
		switch {
		case !ok:
			err = fmt.Errorf("gopher-lua %s has no field %s", t.Name(), name)
		case want != nil && f.Type != want:
			err = fmt.Errorf("gopher-lua %s.%s is %s, want %s", t.Name(), name, f.Type, want)
		case kind != reflect.Invalid && f.Type.Kind() != kind:
			err = fmt.Errorf("gopher-lua %s.%s is %s, want a %s", t.Name(), name, f.Type, kind)
		}
		return f.Offset, f.Type
	}

	state := reflect.TypeFor[lua.LState]()
	var regPtr, framePtr, stackIface reflect.Type
	l.stateReg, regPtr = field(state, "reg", nil, reflect.Pointer)
	l.stateFrame, framePtr = field(state, "currentFrame", nil, reflect.Pointer)
	l.stateStack, stackIface = field(state, "stack", nil, reflect.Interface)
	if err != nil {
		return nil, err
	}
	l.regArray, _ = field(regPtr.Elem(), "array", values, reflect.Invalid)
	frame := framePtr.Elem()
	l.frameFn, _ = field(frame, "Fn", reflect.TypeFor[*lua.LFunction](), reflect.Invalid)
	l.framePc, _ = field(frame, "Pc", intType, reflect.Invalid)
	l.frameLocalBase, _ = field(frame, "LocalBase", intType, reflect.Invalid)
	l.frameIdx, _ = field(frame, "Idx", intType, reflect.Invalid)
	l.frameTailCall, _ = field(frame, "TailCall", intType, reflect.Invalid)

	// The call frame stack is an interface; NewState with a fixed size
	// (no MinimizeStackMemory) makes it a *fixedCallFrameStack.
	probe := lua.NewState(lua.Options{SkipOpenLibs: true, CallStackSize: 4})
	defer probe.Close()
	dyn := reflect.ValueOf(probe).Elem().FieldByName("stack").Elem().Type()
	if err == nil && (dyn.Kind() != reflect.Pointer || !dyn.Implements(stackIface)) {
		err = fmt.Errorf("gopher-lua call frame stack is %s", dyn)
	}
	if err != nil {
		return nil, err
	}
	l.fixedStack = dyn
	l.frameSlice = reflect.SliceOf(frame)
	l.stackArray, _ = field(dyn.Elem(), "array", l.frameSlice, reflect.Invalid)

	table := reflect.TypeFor[lua.LTable]()
	l.tableArray, _ = field(table, "array", values, reflect.Invalid)
	l.tableDict, _ = field(table, "dict", reflect.MapOf(valueType, valueType), reflect.Invalid)
	l.tableStrdict, _ = field(table, "strdict", reflect.MapOf(reflect.TypeFor[string](), valueType), reflect.Invalid)
	l.tableKeys, _ = field(table, "keys", values, reflect.Invalid)
	if err != nil {
		return nil, err
	}
	return &l, nil
}

// registryOf returns the whole value stack of L, beyond its top included.
func registryOf(l *luaLayout, L *lua.LState) []lua.LValue {
	reg := *(*unsafe.Pointer)(unsafe.Add(unsafe.Pointer(L), l.stateReg))
	return *(*[]lua.LValue)(unsafe.Add(reg, l.regArray))
}

// currentInstruction returns the running Lua function, the instruction
// the VM is about to execute (its pc has already been advanced past it),
// the register base of the function and the depth of its call frame. ok
// is false when no Lua function is running.
func currentInstruction(l *luaLayout, L *lua.LState) (fn *lua.LFunction, inst uint32, base, depth int, ok bool) {
	cf := *(*unsafe.Pointer)(unsafe.Add(unsafe.Pointer(L), l.stateFrame))
	if cf == nil {
		return nil, 0, 0, 0, false
	}
	fn = *(**lua.LFunction)(unsafe.Add(cf, l.frameFn))
	if fn == nil || fn.Proto == nil {
		return nil, 0, 0, 0, false
	}
	pc := *(*int)(unsafe.Add(cf, l.framePc)) - 1
	if pc < 0 || pc >= len(fn.Proto.Code) {
		return nil, 0, 0, 0, false
	}
	return fn, fn.Proto.Code[pc], *(*int)(unsafe.Add(cf, l.frameLocalBase)), *(*int)(unsafe.Add(cf, l.frameIdx)), true
}

// capTailCalls keeps the tail-call count of the running frame below n.
// gopher-lua uses the count only to describe the stack, but it writes a
// line per tail call in every traceback it makes, and it makes one for
// every error a pcall catches: a loop of tail calls would make them huge.
func capTailCalls(l *luaLayout, L *lua.LState, n int) {
	cf := *(*unsafe.Pointer)(unsafe.Add(unsafe.Pointer(L), l.stateFrame))
	if cf == nil {
		return
	}
	if tc := (*int)(unsafe.Add(cf, l.frameTailCall)); *tc >= n {
		*tc = n - 1
	}
}

// clearFrames drops the references held by the first n call frames of L,
// which must not be running.
func clearFrames(l *luaLayout, L *lua.LState, n int) {
	iface := (*[2]unsafe.Pointer)(unsafe.Add(unsafe.Pointer(L), l.stateStack))
	if iface[1] == nil {
		return
	}
	frames := reflect.NewAt(l.frameSlice, unsafe.Add(iface[1], l.stackArray)).Elem()
	frames.Slice(0, min(n, frames.Len())).Clear()
}

// tableParts returns the array part and the hash parts of t, and how many
// keys its iteration order records (deleted keys included: gopher-lua
// never forgets a key).
func tableParts(l *luaLayout, t *lua.LTable) (array []lua.LValue, dict map[lua.LValue]lua.LValue, strdict map[string]lua.LValue, keys int) {
	p := unsafe.Pointer(t)
	array = *(*[]lua.LValue)(unsafe.Add(p, l.tableArray))
	dict = *(*map[lua.LValue]lua.LValue)(unsafe.Add(p, l.tableDict))
	strdict = *(*map[string]lua.LValue)(unsafe.Add(p, l.tableStrdict))
	keys = len(*(*[]lua.LValue)(unsafe.Add(p, l.tableKeys)))
	return array, dict, strdict, keys
}

// tableArray returns the array part of t: a store at index
// len(tableArray(t))+k makes gopher-lua append k slots.
func tableArray(l *luaLayout, t *lua.LTable) []lua.LValue {
	return *(*[]lua.LValue)(unsafe.Add(unsafe.Pointer(t), l.tableArray))
}
