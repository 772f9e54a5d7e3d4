package template

// Command is a rendered template: what to execute, without a shell in
// between unless Shell says so.
type Command struct {
	// Argv is the program and its arguments, ready for execve. For a shell
	// template it is {"/bin/sh", "-c", Script, "lc-hook", Params...}.
	Argv []string
	// Shell is true when the template needed a shell (pipes, redirections,
	// variables, ...).
	Shell bool
	// Script is the shell script text (Shell only). It never contains a
	// value, only references "${1}", "${2}", ... to Params; a list
	// placeholder is one reference per element, so the script depends on
	// the number of elements of each list.
	Script string
	// Params are the placeholder values passed to the shell as positional
	// parameters (Shell only): the scalar values in the order of
	// Template.Names, then the elements of each list.
	Params []string
}
