package sandbox

import (
	"fmt"
	"log/slog"
	"slices"

	lua "github.com/yuin/gopher-lua"
)

// luaSandbox is what a VM's scripts can see. Only an allowlist of
// gopher-lua's base, string, table, math and os functions is copied into
// it, next to the bounded replacements of the functions that could
// escape the limits, the sandbox's own built-ins (log, json, print) and
// the host's Builtins.
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
	stock, err := openStock(L)
	if err != nil {
		return err
	}
	sb := &vm.sandbox
	sb.readOnly = make(map[*lua.LTable]string)
	g := L.NewTable()
	sb.globals = g
	sb.fixed = append(sb.fixed, g)

	vm.openBase(g, stock)
	strProxy := vm.openString(g, stock)
	vm.openTable(g, stock)
	vm.openMath(g, stock)
	vm.openOs(g, stock)
	vm.openLog(g)
	vm.openJSON(g)
	vm.protectStrings(strProxy)
	if err := vm.openBuiltins(g); err != nil {
		return err
	}

	sb.envMeta = L.NewTable()
	sb.envMeta.RawSetString("__index", g)
	sb.envMeta.RawSetString("__metatable", lua.LFalse)
	sb.fixed = append(sb.fixed, sb.envMeta)
	L.G.Global = g
	L.Env = g
	return nil
}

// openStock opens the gopher-lua libraries the sandbox takes functions
// from and returns the globals they were opened in.
func openStock(L *lua.LState) (*lua.LTable, error) {
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
			return nil, fmt.Errorf("lua: open library %q: %w", lib.name, err)
		}
	}
	return L.G.Global, nil
}

// stockLib returns the library name of the stock globals, or an empty
// table.
func (vm *luaVM) stockLib(stock *lua.LTable, name string) *lua.LTable {
	t, _ := stock.RawGetString(name).(*lua.LTable)
	if t == nil {
		t = vm.L.NewTable()
	}
	return t
}

// openBase sets the base functions in g: gopher-lua's as they are, but
// assert, error, pairs, print, rawset and unpack, which are replaced, and
// tostring, which is wrapped.
func (vm *luaVM) openBase(g, stock *lua.LTable) {
	L := vm.L
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
}

// openString sets the string library in g and returns its proxy: len is
// gopher-lua's, the other functions are bounded.
func (vm *luaVM) openString(g, stock *lua.LTable) *lua.LTable {
	L := vm.L
	str := L.NewTable()
	str.RawSetString("len", vm.stockLib(stock, lua.StringLibName).RawGetString("len"))
	for name, fn := range map[string]lua.LGFunction{
		"byte": vm.strByte, "char": vm.strChar, "sub": vm.strSub, "find": vm.strFind, "format": vm.strFormat, "gmatch": vm.strGmatch,
		"gsub": vm.strGsub, "lower": vm.strLower, "match": vm.strMatch, "rep": vm.strRep,
		"reverse": vm.strReverse, "upper": vm.strUpper,
	} {
		str.RawSetString(name, L.NewFunction(fn))
	}
	strProxy := vm.proxy("string", str)
	g.RawSetString("string", strProxy)
	return strProxy
}

// openTable sets the table library in g: getn, maxn and remove are
// gopher-lua's, concat, insert and sort are bounded.
func (vm *luaVM) openTable(g, stock *lua.LTable) {
	L := vm.L
	tab := L.NewTable()
	stockTab := vm.stockLib(stock, lua.TabLibName)
	for _, name := range []string{"getn", "maxn", "remove"} {
		tab.RawSetString(name, stockTab.RawGetString(name))
	}
	tab.RawSetString("concat", L.NewFunction(vm.tableConcat))
	tab.RawSetString("insert", L.NewFunction(vm.tableInsert))
	tab.RawSetString("sort", L.NewFunction(vm.tableSort))
	g.RawSetString("table", vm.proxy("table", tab))
}

// openMath sets the math library in g: gopher-lua's, with a random
// number generator no script can seed or observe.
func (vm *luaVM) openMath(g, stock *lua.LTable) {
	L := vm.L
	math := L.NewTable()
	vm.stockLib(stock, lua.MathLibName).ForEach(func(k, v lua.LValue) { math.RawSet(k, v) })
	math.RawSetString("random", L.NewFunction(mathRandom))
	math.RawSetString("randomseed", L.NewFunction(mathRandomseed))
	g.RawSetString("math", vm.proxy("math", math))
}

// openOs sets the os library in g: clock, time and a bounded date.
func (vm *luaVM) openOs(g, stock *lua.LTable) {
	L := vm.L
	os := L.NewTable()
	stockOs := vm.stockLib(stock, lua.OsLibName)
	os.RawSetString("clock", stockOs.RawGetString("clock"))
	os.RawSetString("time", stockOs.RawGetString("time"))
	if date, ok := stockOs.RawGetString("date").(*lua.LFunction); ok {
		os.RawSetString("date", L.NewFunction(vm.charged(boundedDate(date.GFunction))))
	}
	g.RawSetString("os", vm.proxy("os", os))
}

// openLog sets the log library in g: log.debug, info, warn and error.
func (vm *luaVM) openLog(g *lua.LTable) {
	L := vm.L
	logLib := L.NewTable()
	for name, level := range map[string]slog.Level{
		"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError,
	} {
		logLib.RawSetString(name, L.NewFunction(vm.logFunction(level)))
	}
	g.RawSetString("log", vm.proxy("log", logLib))
}

// openJSON sets the json library in g, and makes the array mark and
// json.null.
func (vm *luaVM) openJSON(g *lua.LTable) {
	L := vm.L
	sb := &vm.sandbox
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
}

// protectStrings makes strings index the string library (strProxy) and
// getmetatable("") return a read-only view of their metatable.
func (vm *luaVM) protectStrings(strProxy *lua.LTable) {
	L := vm.L
	strMeta := L.NewTable()
	strMeta.RawSetString("__index", strProxy)
	strMeta.RawSetString("__metatable", vm.proxy("string metatable", strMeta))
	vm.sandbox.fixed = append(vm.sandbox.fixed, strMeta)
	L.SetMetatable(lua.LString(""), strMeta)
}

// openBuiltins sets the host's Builtins in g, called with the VM's
// invocation. A name must be a Lua name that is not a global already.
func (vm *luaVM) openBuiltins(g *lua.LTable) error {
	names := make([]string, 0, len(vm.cfg.Builtins))
	for name := range vm.cfg.Builtins {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		b := vm.cfg.Builtins[name]
		switch {
		case b == nil:
			return fmt.Errorf("lua: builtin %q is nil", name)
		case !isLuaName(name) || name == "_G":
			return fmt.Errorf("lua: builtin %q: not a Lua name", name)
		case g.RawGetString(name) != lua.LNil:
			return fmt.Errorf("lua: builtin %q: the sandbox has a global of that name", name)
		}
		g.RawSetString(name, vm.L.NewFunction(func(*lua.LState) int { return b(&vm.inv) }))
	}
	return nil
}

// luaKeywords are the reserved words of gopher-lua's Lua 5.1 (goto
// included).
var luaKeywords = map[string]bool{
	"and": true, "break": true, "do": true, "else": true, "elseif": true, "end": true,
	"false": true, "for": true, "function": true, "goto": true, "if": true, "in": true,
	"local": true, "nil": true, "not": true, "or": true, "repeat": true, "return": true,
	"then": true, "true": true, "until": true, "while": true,
}

// isLuaName reports whether s is a name a script can write as a global.
func isLuaName(s string) bool {
	if s == "" || luaKeywords[s] {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '_' && !isAlpha(c) && (i == 0 || !isDigit(c)) {
			return false
		}
	}
	return true
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
