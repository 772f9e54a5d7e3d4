package sandbox

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/ast"
)

// CheckReport is what Script.Check found.
type CheckReport struct {
	// Functions are those of the functions given to Check that the main
	// chunk defines, in the order given.
	Functions []string
	// UnknownGlobals are the global names the script reads that are
	// neither in the sandbox (the Builtins of the Config included) nor
	// assigned anywhere in the script, such as io or require, or a
	// misspelt local, and the fields of the sandbox's libraries that are
	// not there, such as os.execute: one per name and line, in order.
	UnknownGlobals []GlobalRef
}

// GlobalRef is a use of a global name in a script.
type GlobalRef struct {
	Name string // the global, or "lib.field" for a field of a library
	Line int
}

// Check runs the main chunk once in a sandbox VM under cfg's limits (as
// NewPool does, logs and traces included) and reports which of functions
// it defines, and, from the source, the globals the script uses that
// nothing defines. The report is filled as far as it could be when the
// main chunk fails; the error is then an *Error.
func (s *Script) Check(cfg Config, functions []string) (CheckReport, error) {
	cfg = cfg.withDefaults()
	vm, err := newLuaVM(s, &cfg)
	if err != nil {
		return CheckReport{}, err
	}
	defer vm.close()
	known := map[string]bool{"_G": true}
	vm.sandbox.globals.ForEach(func(k, v lua.LValue) {
		name, ok := k.(lua.LString)
		if !ok {
			return
		}
		known[string(name)] = true
		for _, lib := range libraryTables(v) {
			lib.ForEach(func(f, _ lua.LValue) {
				if field, ok := f.(lua.LString); ok {
					known[string(name)+"."+string(field)] = true
				}
			})
		}
	})
	report := CheckReport{UnknownGlobals: unknownGlobals(s.chunk, known)}
	report.Functions, err = vm.load(context.Background(), time.Now(), functions)
	return report, err
}

// unknownGlobals lists the global names chunk reads that are not in known
// and that the chunk never assigns, and the fields lib.name it reads of a
// library in known (a global whose fields known lists as lib.name) that
// are neither in known nor assigned by the chunk.
func unknownGlobals(chunk []ast.Stmt, known map[string]bool) []GlobalRef {
	w := &globalWalker{assigned: make(map[string]bool)}
	w.block(chunk, &luaScope{})
	var refs []GlobalRef
	seen := make(map[GlobalRef]bool)
	for _, r := range w.reads {
		if known[r.Name] || w.assigned[r.Name] || seen[r] {
			continue
		}
		if lib, _, ok := strings.Cut(r.Name, "."); ok && (!isLibrary(known, lib) || w.assigned[lib]) {
			continue // a field of a table of the script's own
		}
		seen[r] = true
		refs = append(refs, r)
	}
	slices.SortStableFunc(refs, func(a, b GlobalRef) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Name, b.Name))
	})
	return refs
}

// libraryTables returns the tables whose fields a global v offers: v
// itself and, for the sandbox's read-only proxies, the table behind its
// __index.
func libraryTables(v lua.LValue) []*lua.LTable {
	t, ok := v.(*lua.LTable)
	if !ok {
		return nil
	}
	tables := []*lua.LTable{t}
	if mt, ok := t.Metatable.(*lua.LTable); ok {
		if idx, ok := mt.RawGetString("__index").(*lua.LTable); ok {
			tables = append(tables, idx)
		}
	}
	return tables
}

// isLibrary reports whether known lists fields of the global name.
func isLibrary(known map[string]bool, name string) bool {
	for k := range known {
		if strings.HasPrefix(k, name+".") {
			return true
		}
	}
	return false
}

// fieldName is "lib.name" for lib.name or lib["name"] where lib is a
// global, or "".
func fieldName(e *ast.AttrGetExpr, sc *luaScope) string {
	obj, ok := e.Object.(*ast.IdentExpr)
	key, isStr := e.Key.(*ast.StringExpr)
	if !ok || !isStr || sc.local(obj.Value) {
		return ""
	}
	return obj.Value + "." + key.Value
}

// luaScope is a block's local names.
type luaScope struct {
	names  map[string]bool
	parent *luaScope
}

func (s *luaScope) declare(names ...string) {
	if s.names == nil {
		s.names = make(map[string]bool)
	}
	for _, n := range names {
		s.names[n] = true
	}
}

func (s *luaScope) local(name string) bool {
	for ; s != nil; s = s.parent {
		if s.names[name] {
			return true
		}
	}
	return false
}

// globalWalker collects the global names a chunk reads and assigns.
type globalWalker struct {
	reads    []GlobalRef
	assigned map[string]bool
}

func (w *globalWalker) block(stmts []ast.Stmt, sc *luaScope) {
	for _, st := range stmts {
		w.stmt(st, sc)
	}
}

func (w *globalWalker) stmt(st ast.Stmt, sc *luaScope) {
	switch st := st.(type) {
	case *ast.AssignStmt:
		for _, e := range st.Rhs {
			w.expr(e, sc)
		}
		for _, e := range st.Lhs {
			w.assign(e, sc)
		}
	case *ast.LocalAssignStmt:
		if len(st.Names) == 1 && len(st.Exprs) == 1 {
			if _, ok := st.Exprs[0].(*ast.FunctionExpr); ok { // local function f
				sc.declare(st.Names[0])
			}
		}
		for _, e := range st.Exprs {
			w.expr(e, sc)
		}
		sc.declare(st.Names...)
	case *ast.FuncCallStmt:
		w.expr(st.Expr, sc)
	case *ast.DoBlockStmt:
		w.block(st.Stmts, &luaScope{parent: sc})
	case *ast.WhileStmt:
		w.expr(st.Condition, sc)
		w.block(st.Stmts, &luaScope{parent: sc})
	case *ast.RepeatStmt:
		inner := &luaScope{parent: sc}
		w.block(st.Stmts, inner)
		w.expr(st.Condition, inner)
	case *ast.IfStmt:
		w.expr(st.Condition, sc)
		w.block(st.Then, &luaScope{parent: sc})
		w.block(st.Else, &luaScope{parent: sc})
	case *ast.NumberForStmt:
		w.expr(st.Init, sc)
		w.expr(st.Limit, sc)
		if st.Step != nil {
			w.expr(st.Step, sc)
		}
		inner := &luaScope{parent: sc}
		inner.declare(st.Name)
		w.block(st.Stmts, inner)
	case *ast.GenericForStmt:
		for _, e := range st.Exprs {
			w.expr(e, sc)
		}
		inner := &luaScope{parent: sc}
		inner.declare(st.Names...)
		w.block(st.Stmts, inner)
	case *ast.FuncDefStmt:
		switch {
		case st.Name.Func != nil:
			if id, ok := st.Name.Func.(*ast.IdentExpr); ok {
				if !sc.local(id.Value) {
					w.assigned[id.Value] = true
				}
			} else if a, ok := st.Name.Func.(*ast.AttrGetExpr); ok && fieldName(a, sc) != "" {
				w.assigned[fieldName(a, sc)] = true
			} else {
				w.expr(st.Name.Func, sc)
			}
		case st.Name.Receiver != nil:
			w.expr(st.Name.Receiver, sc)
		}
		w.function(st.Func, sc, st.Name.Method != "")
	case *ast.ReturnStmt:
		for _, e := range st.Exprs {
			w.expr(e, sc)
		}
	}
}

// assign records an assignment to e: a global name, a field of a global
// table, or something read to find where to store.
func (w *globalWalker) assign(e ast.Expr, sc *luaScope) {
	if id, ok := e.(*ast.IdentExpr); ok {
		if !sc.local(id.Value) {
			w.assigned[id.Value] = true
		}
		return
	}
	if a, ok := e.(*ast.AttrGetExpr); ok && fieldName(a, sc) != "" {
		w.assigned[fieldName(a, sc)] = true
		return
	}
	w.expr(e, sc)
}

func (w *globalWalker) function(f *ast.FunctionExpr, sc *luaScope, method bool) {
	inner := &luaScope{parent: sc}
	if method {
		inner.declare("self")
	}
	if f.ParList != nil {
		inner.declare(f.ParList.Names...)
		if f.ParList.HasVargs {
			inner.declare("arg")
		}
	}
	w.block(f.Stmts, inner)
}

func (w *globalWalker) expr(e ast.Expr, sc *luaScope) {
	switch e := e.(type) {
	case *ast.IdentExpr:
		if !sc.local(e.Value) {
			w.reads = append(w.reads, GlobalRef{Name: e.Value, Line: e.Line()})
		}
	case *ast.AttrGetExpr:
		if name := fieldName(e, sc); name != "" {
			w.reads = append(w.reads, GlobalRef{Name: name, Line: e.Line()})
		}
		w.expr(e.Object, sc)
		w.expr(e.Key, sc)
	case *ast.TableExpr:
		for _, f := range e.Fields {
			if f.Key != nil {
				w.expr(f.Key, sc)
			}
			w.expr(f.Value, sc)
		}
	case *ast.FuncCallExpr:
		if e.Func != nil {
			w.expr(e.Func, sc)
		}
		if e.Receiver != nil {
			w.expr(e.Receiver, sc)
		}
		for _, a := range e.Args {
			w.expr(a, sc)
		}
	case *ast.LogicalOpExpr:
		w.expr(e.Lhs, sc)
		w.expr(e.Rhs, sc)
	case *ast.RelationalOpExpr:
		w.expr(e.Lhs, sc)
		w.expr(e.Rhs, sc)
	case *ast.StringConcatOpExpr:
		w.expr(e.Lhs, sc)
		w.expr(e.Rhs, sc)
	case *ast.ArithmeticOpExpr:
		w.expr(e.Lhs, sc)
		w.expr(e.Rhs, sc)
	case *ast.UnaryMinusOpExpr:
		w.expr(e.Expr, sc)
	case *ast.UnaryNotOpExpr:
		w.expr(e.Expr, sc)
	case *ast.UnaryLenOpExpr:
		w.expr(e.Expr, sc)
	case *ast.FunctionExpr:
		w.function(e, sc, false)
	}
}
