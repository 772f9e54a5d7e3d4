// Package layout reads the gopher-lua internals the sandbox's limits need
// and gopher-lua does not export: the instruction about to run (to size a
// string concatenation or a table store before the VM allocates), the
// whole value stack (to measure what a script holds), the call frames (to
// drop the references a finished call left behind, and to cap the tail
// calls a frame remembers) and the parts of a table (to see its real
// size).
//
// They are read here, and only here, with unsafe pointer arithmetic on
// field offsets that Find looks up once by reflection and checks against
// the expected types, so that a gopher-lua with another layout is refused
// (Find returns an error) rather than misread. The methods of a Layout
// neither lock nor block; each must be called on the goroutine that runs
// the state or owns the table it is given.
package layout
