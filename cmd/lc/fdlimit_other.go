//go:build !unix

package main

import "github.com/lc-voip/lc/internal/processor"

// autoOpenFiles is the --max-open-files default where there is no limit to
// derive it from.
func autoOpenFiles(inputs, concurrency int) int { return processor.DefaultMaxOpenFiles }

// checkFileLimit has no limit to compare with on this system.
func checkFileLimit(maxOpenFiles, inputs, concurrency int) error { return nil }
