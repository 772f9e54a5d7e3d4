package event

import (
	"strconv"
	"time"
)

// Kind is the type of a field's value.
type Kind uint8

// Field kinds.
const (
	String  Kind = iota // text
	Int                 // a whole number
	Seconds             // a duration in seconds, with a fraction
	Bool                // true or false
	Time                // an instant: RFC 3339 in UTC with as many fractional digits as needed; "" when unknown
	Epoch               // an instant as Unix seconds with a fraction; 0 when unknown
	Strings             // a list of text
	Streams             // a list of media streams, each with the fields of StreamFields
)

// String returns the kind's name as the README's field table writes it.
func (k Kind) String() string {
	switch k {
	case String:
		return "string"
	case Int:
		return "integer"
	case Seconds:
		return "seconds"
	case Bool:
		return "boolean"
	case Time:
		return "time"
	case Epoch:
		return "epoch seconds"
	case Strings:
		return "list of strings"
	case Streams:
		return "list of streams"
	}
	return "unknown"
}

// Value is the value of one field of one event. Exactly the member that
// its Kind names is set: Str for String, Int for Int, Float for Seconds,
// Bool for Bool, Time for Time and Epoch, List for Strings, Streams for
// Streams.
type Value struct {
	Kind    Kind
	Str     string
	Int     int64
	Float   float64
	Bool    bool
	Time    time.Time
	List    []string
	Streams []Stream
}

// Scalar reports whether the value is one piece of text in a template:
// every kind but the lists.
func (v Value) Scalar() bool { return v.Kind != Strings && v.Kind != Streams }

// Text is the value as a %placeholder% writes it (and as Lua and JSON
// write it when it is a string): the text itself, a decimal number, "true"
// or "false", an RFC 3339 time ("" when unknown). A list has no text: "".
func (v Value) Text() string {
	switch v.Kind {
	case String:
		return v.Str
	case Int:
		return strconv.FormatInt(v.Int, 10)
	case Seconds:
		return formatFloat(v.Float)
	case Bool:
		return strconv.FormatBool(v.Bool)
	case Time:
		return formatTime(v.Time)
	case Epoch:
		return formatFloat(epoch(v.Time))
	}
	return ""
}

// Number is the value of an Int, Seconds or Epoch field as a float64, as
// Lua sees it.
func (v Value) Number() float64 {
	switch v.Kind {
	case Int:
		return float64(v.Int)
	case Seconds:
		return v.Float
	case Epoch:
		return epoch(v.Time)
	}
	return 0
}

// TimeFormat is how times are written everywhere: RFC 3339 in UTC with as
// many fractional digits as the time has.
const TimeFormat = time.RFC3339Nano

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(TimeFormat)
}

func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return time.Parse(TimeFormat, s)
}

// formatFloat writes f in the shortest form that reads back as f, without
// an exponent.
func formatFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// epoch is t in Unix seconds with a fraction; 0 for the zero time.
func epoch(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return float64(t.UnixNano()) / 1e9
}
