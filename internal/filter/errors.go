package filter

import "fmt"

// Error is a parse or compile error.
//
// Pos is the byte offset in Expr of the token at fault, or -1 when the
// error is about the expression as a whole (an expression that rejects
// every packet, a program too long for the kernel).
type Error struct {
	Expr string
	Pos  int
	Msg  string
}

// Error formats the error as
//
//	filter "udp port x": at offset 9: port needs a number from 0 to 65535
func (e *Error) Error() string {
	if e.Pos < 0 {
		return fmt.Sprintf("filter %q: %s", e.Expr, e.Msg)
	}
	return fmt.Sprintf("filter %q: at offset %d: %s", e.Expr, e.Pos, e.Msg)
}
