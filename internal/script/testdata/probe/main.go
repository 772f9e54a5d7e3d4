// Command probe records the arguments it was started with, for the
// template injection tests in internal/script. It is under testdata, so
// it is not part of the module's build; the tests build it with go build.
//
// It appends one record to the file named by $LC_PROBE_OUT: the argument
// count (after argv[0]) as a uvarint, then each argument as a uvarint
// length and its bytes. Then it prints "ok" on stdout.
package main

import (
	"encoding/binary"
	"fmt"
	"os"
)

func main() {
	path := os.Getenv("LC_PROBE_OUT")
	if path == "" {
		fmt.Fprintln(os.Stderr, "probe: LC_PROBE_OUT is not set")
		os.Exit(2)
	}
	args := os.Args[1:]
	rec := binary.AppendUvarint(nil, uint64(len(args)))
	for _, a := range args {
		rec = binary.AppendUvarint(rec, uint64(len(a)))
		rec = append(rec, a...)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		fmt.Fprintln(os.Stderr, "probe:", err)
		os.Exit(2)
	}
	if _, err := f.Write(rec); err != nil {
		fmt.Fprintln(os.Stderr, "probe:", err)
		os.Exit(2)
	}
	if err := f.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "probe:", err)
		os.Exit(2)
	}
	fmt.Println("ok")
}
