package main

import (
	"fmt"
	"runtime/debug"
)

// buildInfo is what lc knows of its own build, for lc version and the
// lc_build_info metric.
type buildInfo struct {
	version   string // the module's version: a tag, a pseudo-version, or "(devel)"
	revision  string // the VCS revision, "-dirty" appended when the tree had changes; "unknown" when not stamped
	goVersion string // the Go toolchain that built lc
}

// readBuildInfo returns the running binary's build information.
func readBuildInfo() buildInfo {
	bi, _ := debug.ReadBuildInfo() // nil without
	return buildInfoOf(bi)
}

// buildInfoOf reads version, revision and Go version from bi (nil when the
// binary has none).
func buildInfoOf(bi *debug.BuildInfo) buildInfo {
	b := buildInfo{version: "(devel)", revision: "unknown", goVersion: "unknown"}
	if bi == nil {
		return b
	}
	if bi.Main.Version != "" {
		b.version = bi.Main.Version
	}
	if bi.GoVersion != "" {
		b.goVersion = bi.GoVersion
	}
	var modified bool
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			b.revision = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if modified && b.revision != "unknown" {
		b.revision += "-dirty"
	}
	return b
}

// String is the line lc version prints.
func (b buildInfo) String() string {
	return fmt.Sprintf("lc %s (revision %s, %s)", b.version, b.revision, b.goVersion)
}
