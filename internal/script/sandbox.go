package script

import (
	"fmt"
	"log/slog"

	lua "github.com/yuin/gopher-lua"
)

// luaSandbox is what a VM's scripts can see. Only an allowlist of
// gopher-lua's base, string, table, math and os functions is copied into
// it, next to the bounded replacements of the functions that could
// escape the limits and lc's own built-ins (exec, log, json, print).
//
// Every invocation gets its own global table whose metatable (protected)
// reads the shared globals; the libraries are read-only proxies (their
// __newindex raises, their metatable is protected, rawset refuses them);
// the string metatable is protected and getmetatable("") returns a
// read-only proxy of it. So whatever a script assigns or changes dies
// with its invocation.
type luaSandbox struct {
	globals   *lua.LTable            // the shared globals
	envMeta   *lua.LTable            // metatable of every invocation's globals
	arrayMeta *lua.LTable            // marks tables json.encode writes as arrays
	null      *lua.LTable            // json.null
	readOnly  map[*lua.LTable]string // the proxies, by name: rawset refuses them
	fixed     []*lua.LTable          // every shared table, left out of measurements
}

// openSandbox installs the sandbox in a new VM.
func (vm *luaVM) openSandbox() error {
	L := vm.L
	libs := []struct {
		name string
		open lua.LGFunction
	}{
		{lua.BaseLibName, lua.OpenBase},
		{lua.StringLibName, lua.OpenString},
		{lua.TabLibName, lua.OpenTable},
		{lua.MathLibName, lua.OpenMath},
		{lua.OsLibName, lua.OpenOs},
	}
	for _, lib := range libs {
		L.Push(L.NewFunction(lib.open))
		L.Push(lua.LString(lib.name))
		if err := L.PCall(1, 0, nil); err != nil {
			return fmt.Errorf("lua: open library %q: %w", lib.name, err)
		}
	}
	stock := L.G.Global
	stockLib := func(name string) *lua.LTable {
		t, _ := stock.RawGetString(name).(*lua.LTable)
		if t == nil {
			t = L.NewTable()
		}
		return t
	}
	sb := &vm.sandbox
	sb.readOnly = make(map[*lua.LTable]string)
	g := L.NewTable()
	sb.globals = g
	sb.fixed = append(sb.fixed, g)

	// The base functions taken from gopher-lua as they are; assert,
	// error, pairs, print, rawset and unpack are replaced, tostring is
	// wrapped.
	for _, name := range []string{
		"getmetatable", "ipairs", "next", "pcall", "rawequal", "rawget",
		"select", "setmetatable", "tonumber", "type", "xpcall", "_VERSION",
	} {
		g.RawSetString(name, stock.RawGetString(name))
	}
	if tostring, ok := stock.RawGetString("tostring").(*lua.LFunction); ok {
		g.RawSetString("tostring", L.NewFunction(vm.charged(tostring.GFunction)))
	}
	g.RawSetString("assert", L.NewFunction(vm.baseAssert))
	g.RawSetString("error", L.NewFunction(vm.baseError))
	g.RawSetString("print", L.NewFunction(vm.basePrint))
	g.RawSetString("rawset", L.NewFunction(vm.baseRawset))
	g.RawSetString("unpack", L.NewFunction(vm.baseUnpack))
	g.RawSetString("pairs", L.NewFunction(vm.basePairs(stock.RawGetString("next"))))
	g.RawSetString("exec", L.NewFunction(vm.luaExec))

	str := L.NewTable()
	stockStr := stockLib(lua.StringLibName)
	str.RawSetString("len", stockStr.RawGetString("len"))
	for name, fn := range map[string]lua.LGFunction{
		"byte": vm.strByte, "char": vm.strChar, "sub": vm.strSub, "find": vm.strFind, "format": vm.strFormat, "gmatch": vm.strGmatch,
		"gsub": vm.strGsub, "lower": vm.strLower, "match": vm.strMatch, "rep": vm.strRep,
		"reverse": vm.strReverse, "upper": vm.strUpper,
	} {
		str.RawSetString(name, L.NewFunction(fn))
	}
	strProxy := vm.proxy("string", str)
	g.RawSetString("string", strProxy)

	tab := L.NewTable()
	stockTab := stockLib(lua.TabLibName)
	for _, name := range []string{"getn", "maxn", "remove"} {
		tab.RawSetString(name, stockTab.RawGetString(name))
	}
	tab.RawSetString("concat", L.NewFunction(vm.tableConcat))
	tab.RawSetString("insert", L.NewFunction(vm.tableInsert))
	tab.RawSetString("sort", L.NewFunction(vm.tableSort))
	g.RawSetString("table", vm.proxy("table", tab))

	math := L.NewTable()
	stockLib(lua.MathLibName).ForEach(func(k, v lua.LValue) { math.RawSet(k, v) })
	math.RawSetString("random", L.NewFunction(mathRandom))
	math.RawSetString("randomseed", L.NewFunction(mathRandomseed))
	g.RawSetString("math", vm.proxy("math", math))

	os := L.NewTable()
	stockOs := stockLib(lua.OsLibName)
	os.RawSetString("clock", stockOs.RawGetString("clock"))
	os.RawSetString("time", stockOs.RawGetString("time"))
	if date, ok := stockOs.RawGetString("date").(*lua.LFunction); ok {
		os.RawSetString("date", L.NewFunction(vm.charged(boundedDate(date.GFunction))))
	}
	g.RawSetString("os", vm.proxy("os", os))

	logLib := L.NewTable()
	for name, level := range map[string]slog.Level{
		"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError,
	} {
		logLib.RawSetString(name, L.NewFunction(vm.logFunction(level)))
	}
	g.RawSetString("log", vm.proxy("log", logLib))

	sb.arrayMeta = L.NewTable()
	sb.arrayMeta.RawSetString("__metatable", lua.LFalse)
	sb.null = vm.proxy("json.null", L.NewTable())
	sb.fixed = append(sb.fixed, sb.arrayMeta)
	json := L.NewTable()
	json.RawSetString("encode", L.NewFunction(vm.jsonEncode))
	json.RawSetString("decode", L.NewFunction(vm.jsonDecode))
	json.RawSetString("array", L.NewFunction(vm.jsonArray))
	json.RawSetString("null", sb.null)
	g.RawSetString("json", vm.proxy("json", json))

	// Strings index the string library; getmetatable("") is a read-only
	// view of their metatable.
	strMeta := L.NewTable()
	strMeta.RawSetString("__index", strProxy)
	strMeta.RawSetString("__metatable", vm.proxy("string metatable", strMeta))
	sb.fixed = append(sb.fixed, strMeta)
	L.SetMetatable(lua.LString(""), strMeta)

	sb.envMeta = L.NewTable()
	sb.envMeta.RawSetString("__index", g)
	sb.envMeta.RawSetString("__metatable", lua.LFalse)
	sb.fixed = append(sb.fixed, sb.envMeta)

	L.G.Global = g
	L.Env = g
	return nil
}

// basePairs is pairs(t), with next the stock next function. Iterating
// over a read-only proxy lists what it shows, through an iterator that
// does not expose the table behind it.
func (vm *luaVM) basePairs(next lua.LValue) lua.LGFunction {
	return func(L *lua.LState) int {
		t := L.CheckTable(1)
		if _, ok := vm.sandbox.readOnly[t]; !ok {
			L.Push(next)
			L.Push(t)
			L.Push(lua.LNil)
			return 3
		}
		meta, _ := t.Metatable.(*lua.LTable)
		real, _ := meta.RawGetString("__index").(*lua.LTable)
		L.Push(L.NewFunction(func(L *lua.LState) int {
			k, v := real.Next(L.Get(2))
			if k == lua.LNil {
				L.Push(lua.LNil)
				return 1
			}
			L.Push(k)
			L.Push(v)
			return 2
		}))
		L.Push(t)
		L.Push(lua.LNil)
		return 3
	}
}

// charged wraps a gopher-lua function that returns a small new string or
// table so that its result is accounted for in the memory budget.
func (vm *luaVM) charged(f lua.LGFunction) lua.LGFunction {
	return func(L *lua.LState) int {
		n := f(L)
		size := 0
		for i := 1; i <= n; i++ {
			switch v := L.Get(-i).(type) {
			case lua.LString:
				size += len(v) + sizeString
			case *lua.LTable:
				size += int(newTableCost(0, lazyHashHint) + 16*sizeStore)
			}
		}
		vm.alloc(size)
		return n
	}
}

// proxy returns a read-only view of t: reads go to t, writes raise, its
// metatable is protected and rawset refuses it.
func (vm *luaVM) proxy(name string, t *lua.LTable) *lua.LTable {
	L := vm.L
	p := L.NewTable()
	meta := L.NewTable()
	meta.RawSetString("__index", t)
	meta.RawSetString("__newindex", L.NewFunction(func(L *lua.LState) int {
		L.RaiseError("attempt to modify read-only table '%s'", name)
		return 0
	}))
	meta.RawSetString("__metatable", lua.LFalse)
	p.Metatable = meta
	vm.sandbox.readOnly[p] = name
	vm.sandbox.fixed = append(vm.sandbox.fixed, p, meta, t)
	return p
}
