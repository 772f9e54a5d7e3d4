// Package event defines what lc reports: FileClosed when a pcap file is
// finished, CallCompleted when a call's files are all closed. The set is
// closed: these two types are the only Events.
//
// Every field of an event is described once, in the tables of fields.go:
// its name, its kind and what it means. The three renderings of an event
// are made from those tables and nothing else: the JSON of --events and
// of the hook spool (AppendJSON, Decode), the %placeholder% values of
// command templates, and the tables Lua hooks receive (both rendered by
// package script through Each). So a field has one name and one precision
// everywhere: times are RFC 3339 in UTC with as many fractional digits as
// needed ("" for none), durations are seconds with a fraction.
//
// # Ownership
//
// Events are values. The processing loop creates each one and hands it
// over; from then on nobody changes it, and its slices are shared
// read-only by every renderer and hook.
//
// # Errors
//
// Decode returns an error naming the field for input that is not an event
// of this package's JSON form; nothing here panics on any input.
package event
