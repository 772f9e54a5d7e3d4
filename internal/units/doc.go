// Package units writes byte counts for people: "16 MiB", "1.5 KiB". It is
// shared by lc's summary and the Lua sandbox's error messages.
package units
