package sandbox

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/ast"
	"github.com/yuin/gopher-lua/parse"

	"github.com/lc-voip/lc/internal/script/sandbox/internal/layout"
)

// Script is a compiled script. It is immutable and safe for concurrent
// use: every VM runs the same compiled code.
type Script struct {
	name      string
	proto     *lua.FunctionProto
	chunk     []ast.Stmt
	constants []string // the string constants of all its functions
}

// Compile compiles the script src, named name (a file name, used in error
// positions). A syntax error is returned as "NAME:LINE: message"; a
// gopher-lua whose internals the sandbox cannot read is an error too.
func Compile(name string, src []byte) (*Script, error) {
	if _, err := layout.Find(); err != nil {
		return nil, fmt.Errorf("lua: %w", err)
	}
	chunk, err := parse.Parse(bytes.NewReader(src), name)
	if err != nil {
		var perr *parse.Error
		if errors.As(err, &perr) {
			if perr.Pos.Line == parse.EOF {
				return nil, fmt.Errorf("%s: at end of file: %s", name, perr.Message)
			}
			return nil, fmt.Errorf("%s:%d: %s near '%s'", name, perr.Pos.Line, perr.Message, perr.Token)
		}
		return nil, fmt.Errorf("%s: %s", name, strings.TrimSpace(err.Error()))
	}
	if chunk == nil {
		return nil, fmt.Errorf("%s: cannot parse", name)
	}
	proto, err := lua.Compile(chunk, name)
	if err != nil {
		var cerr *lua.CompileError
		if errors.As(err, &cerr) {
			return nil, fmt.Errorf("%s:%d: %s", name, cerr.Line, cerr.Message)
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &Script{name: name, proto: proto, chunk: chunk, constants: stringConstants(nil, proto)}, nil
}

// stringConstants appends the string constants of proto and its nested
// functions to list: a script's registers hold them without an allocation,
// and the memory estimate leaves them out.
func stringConstants(list []string, proto *lua.FunctionProto) []string {
	for _, c := range proto.Constants {
		if s, ok := c.(lua.LString); ok && s != "" {
			list = append(list, string(s))
		}
	}
	for _, p := range proto.FunctionPrototypes {
		list = stringConstants(list, p)
	}
	return list
}

// Name returns the name the script was compiled with.
func (s *Script) Name() string { return s.name }
