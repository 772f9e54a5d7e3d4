//go:build !unix

package main

// checkFileLimit has no limit to compare with on this system.
func checkFileLimit(maxOpenFiles, inputs, concurrency int) error { return nil }
