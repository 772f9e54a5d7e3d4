package layout

import (
	"fmt"
	"reflect"
	"sync"
	"unsafe"

	lua "github.com/yuin/gopher-lua"
)

// Layout holds the byte offsets of the gopher-lua fields the package
// reads. It is immutable once found; its methods may be called from any
// goroutine, each on a state or table that goroutine alone is using.
type Layout struct {
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

var findOnce = sync.OnceValues(find)

// Find returns the layout of the gopher-lua this program is built with.
// It is found on the first call and kept; the error says which field is
// missing or of another type when that gopher-lua is not the one the
// package was written for, and is then returned by every call.
func Find() (*Layout, error) { return findOnce() }

// fieldFinder looks up struct fields by name, keeping the first error.
type fieldFinder struct{ err error }

// field returns the offset and type of field name of t, and records an
// error when it is missing, is not of type want (when want is set) or not
// of kind kind (when kind is valid).
func (ff *fieldFinder) field(t reflect.Type, name string, want reflect.Type, kind reflect.Kind) (uintptr, reflect.Type) {
	if ff.err != nil {
		return 0, nil
	}
	f, ok := t.FieldByName(name)
	switch {
	case !ok:
		ff.err = fmt.Errorf("gopher-lua %s has no field %s", t.Name(), name)
	case want != nil && f.Type != want:
		ff.err = fmt.Errorf("gopher-lua %s.%s is %s, want %s", t.Name(), name, f.Type, want)
	case kind != reflect.Invalid && f.Type.Kind() != kind:
		ff.err = fmt.Errorf("gopher-lua %s.%s is %s, want a %s", t.Name(), name, f.Type, kind)
	}
	return f.Offset, f.Type
}

func find() (*Layout, error) {
	var (
		l  Layout
		ff fieldFinder
	)
	valueType := reflect.TypeFor[lua.LValue]()
	values := reflect.SliceOf(valueType)
	intType := reflect.TypeFor[int]()

	state := reflect.TypeFor[lua.LState]()
	var regPtr, framePtr, stackIface reflect.Type
	l.stateReg, regPtr = ff.field(state, "reg", nil, reflect.Pointer)
	l.stateFrame, framePtr = ff.field(state, "currentFrame", nil, reflect.Pointer)
	l.stateStack, stackIface = ff.field(state, "stack", nil, reflect.Interface)
	if ff.err != nil {
		return nil, ff.err
	}
	l.regArray, _ = ff.field(regPtr.Elem(), "array", values, reflect.Invalid)
	frame := framePtr.Elem()
	l.frameFn, _ = ff.field(frame, "Fn", reflect.TypeFor[*lua.LFunction](), reflect.Invalid)
	l.framePc, _ = ff.field(frame, "Pc", intType, reflect.Invalid)
	l.frameLocalBase, _ = ff.field(frame, "LocalBase", intType, reflect.Invalid)
	l.frameIdx, _ = ff.field(frame, "Idx", intType, reflect.Invalid)
	l.frameTailCall, _ = ff.field(frame, "TailCall", intType, reflect.Invalid)

	// The call frame stack is an interface; NewState with a fixed size
	// (no MinimizeStackMemory) makes it a *fixedCallFrameStack.
	probe := lua.NewState(lua.Options{SkipOpenLibs: true, CallStackSize: 4})
	defer probe.Close()
	dyn := reflect.ValueOf(probe).Elem().FieldByName("stack").Elem().Type()
	if ff.err == nil && (dyn.Kind() != reflect.Pointer || !dyn.Implements(stackIface)) {
		ff.err = fmt.Errorf("gopher-lua call frame stack is %s", dyn)
	}
	if ff.err != nil {
		return nil, ff.err
	}
	l.fixedStack = dyn
	l.frameSlice = reflect.SliceOf(frame)
	l.stackArray, _ = ff.field(dyn.Elem(), "array", l.frameSlice, reflect.Invalid)

	table := reflect.TypeFor[lua.LTable]()
	l.tableArray, _ = ff.field(table, "array", values, reflect.Invalid)
	l.tableDict, _ = ff.field(table, "dict", reflect.MapOf(valueType, valueType), reflect.Invalid)
	l.tableStrdict, _ = ff.field(table, "strdict", reflect.MapOf(reflect.TypeFor[string](), valueType), reflect.Invalid)
	l.tableKeys, _ = ff.field(table, "keys", values, reflect.Invalid)
	if ff.err != nil {
		return nil, ff.err
	}
	return &l, nil
}

// Registry returns the whole value stack of L, beyond its top included.
func (l *Layout) Registry(L *lua.LState) []lua.LValue {
	reg := *(*unsafe.Pointer)(unsafe.Add(unsafe.Pointer(L), l.stateReg))
	return *(*[]lua.LValue)(unsafe.Add(reg, l.regArray))
}

// CurrentInstruction returns the running Lua function, the instruction
// the VM is about to execute (its pc has already been advanced past it),
// the register base of the function and the depth of its call frame. ok
// is false when no Lua function is running.
func (l *Layout) CurrentInstruction(L *lua.LState) (fn *lua.LFunction, inst uint32, base, depth int, ok bool) {
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

// CapTailCalls keeps the tail-call count of the running frame of L below
// n. gopher-lua uses the count only to describe the stack, but it writes
// a line per tail call in every traceback it makes, and it makes one for
// every error a pcall catches: a loop of tail calls would make them huge.
func (l *Layout) CapTailCalls(L *lua.LState, n int) {
	cf := *(*unsafe.Pointer)(unsafe.Add(unsafe.Pointer(L), l.stateFrame))
	if cf == nil {
		return
	}
	if tc := (*int)(unsafe.Add(cf, l.frameTailCall)); *tc >= n {
		*tc = n - 1
	}
}

// ClearFrames drops the references held by the first n call frames of L,
// which must not be running.
func (l *Layout) ClearFrames(L *lua.LState, n int) {
	iface := (*[2]unsafe.Pointer)(unsafe.Add(unsafe.Pointer(L), l.stateStack))
	if iface[1] == nil {
		return
	}
	frames := reflect.NewAt(l.frameSlice, unsafe.Add(iface[1], l.stackArray)).Elem()
	frames.Slice(0, min(n, frames.Len())).Clear()
}

// TableParts returns the array part and the hash parts of t, and how many
// keys its iteration order records (deleted keys included: gopher-lua
// never forgets a key).
func (l *Layout) TableParts(t *lua.LTable) (array []lua.LValue, dict map[lua.LValue]lua.LValue, strdict map[string]lua.LValue, keys int) {
	p := unsafe.Pointer(t)
	array = *(*[]lua.LValue)(unsafe.Add(p, l.tableArray))
	dict = *(*map[lua.LValue]lua.LValue)(unsafe.Add(p, l.tableDict))
	strdict = *(*map[string]lua.LValue)(unsafe.Add(p, l.tableStrdict))
	keys = len(*(*[]lua.LValue)(unsafe.Add(p, l.tableKeys)))
	return array, dict, strdict, keys
}

// TableArray returns the array part of t: a store at index
// len(TableArray(t))+k makes gopher-lua append k slots.
func (l *Layout) TableArray(t *lua.LTable) []lua.LValue {
	return *(*[]lua.LValue)(unsafe.Add(unsafe.Pointer(t), l.tableArray))
}
