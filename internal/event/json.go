package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// AppendJSON appends ev as one JSON object: "event" (its Type), then every
// field of its table, in order, none left out. Times are RFC 3339 strings
// ("" when unknown), seconds and epochs are numbers with a fraction.
func AppendJSON(b []byte, ev Event) []byte {
	b = append(b, `{"event":"`...)
	b = append(b, ev.Type().String()...)
	b = append(b, '"')
	ev.each(func(f Field, v Value) {
		b = append(b, ',')
		b = appendString(b, f.Name)
		b = append(b, ':')
		b = appendValue(b, v)
	})
	return append(b, '}')
}

// MarshalJSON implements json.Marshaler with AppendJSON.
func (e FileClosed) MarshalJSON() ([]byte, error) { return AppendJSON(nil, e), nil }

// MarshalJSON implements json.Marshaler with AppendJSON.
func (e CallCompleted) MarshalJSON() ([]byte, error) { return AppendJSON(nil, e), nil }

func appendValue(b []byte, v Value) []byte {
	switch v.Kind {
	case Int, Seconds, Epoch:
		return append(b, v.Text()...)
	case Bool:
		return strconv.AppendBool(b, v.Bool)
	case Strings:
		b = append(b, '[')
		for i, s := range v.List {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, s)
		}
		return append(b, ']')
	case Streams:
		b = append(b, '[')
		for i, s := range v.Streams {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '{')
			n := 0
			EachStream(s, func(f Field, v Value) {
				if n > 0 {
					b = append(b, ',')
				}
				n++
				b = appendString(b, f.Name)
				b = append(b, ':')
				b = appendValue(b, v)
			})
			b = append(b, '}')
		}
		return append(b, ']')
	}
	return appendString(b, v.Text())
}

// appendString appends s as a JSON string, escaped as an encoding/json
// Encoder does with SetEscapeHTML(false): quotes, backslashes and control
// characters escaped, invalid UTF-8 as U+FFFD, U+2028 and U+2029 escaped
// for JavaScript; everything else, "<>&" included, as it is.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c == '\b':
				b = append(b, '\\', 'b')
			case c == '\f':
				b = append(b, '\\', 'f')
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return append(b, '"')
}

// Decode reads an event that AppendJSON wrote. Derived fields are not
// read; unknown keys are ignored, so that events written by a later lc
// still read. A missing field keeps its zero value.
func Decode(data []byte) (Event, error) {
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("event: %w", err)
	}
	var name string
	if err := json.Unmarshal(raw["event"], &name); err != nil {
		return nil, errors.New(`event: "event" is not a string`)
	}
	switch name {
	case TypeFileClosed.String():
		var e FileClosed
		return e, decodeColumns(fileColumns, &e, raw)
	case TypeCallCompleted.String():
		var e CallCompleted
		return e, decodeColumns(callColumns, &e, raw)
	}
	return nil, fmt.Errorf("event: unknown event %q", name)
}

// decodeColumns sets the fields of e that raw holds.
func decodeColumns[E any](cols []column[E], e *E, raw map[string]json.RawMessage) error {
	for _, c := range cols {
		data, ok := raw[c.Name]
		if !ok || c.set == nil {
			continue
		}
		v, err := decodeValue(c.Kind, data)
		if err != nil {
			return fmt.Errorf("event: field %q: %w", c.Name, err)
		}
		c.set(e, v)
	}
	return nil
}

func decodeValue(kind Kind, data []byte) (Value, error) {
	v := Value{Kind: kind}
	var err error
	switch kind {
	case String:
		err = json.Unmarshal(data, &v.Str)
	case Int:
		err = json.Unmarshal(data, &v.Int)
	case Seconds:
		err = json.Unmarshal(data, &v.Float)
	case Bool:
		err = json.Unmarshal(data, &v.Bool)
	case Time:
		var s string
		if err = json.Unmarshal(data, &s); err == nil {
			v.Time, err = parseTime(s)
		}
	case Strings:
		err = json.Unmarshal(data, &v.List)
	case Streams:
		v.Streams, err = decodeStreams(data)
	default:
		err = fmt.Errorf("kind %s cannot be decoded", kind)
	}
	return v, err
}

func decodeStreams(data []byte) ([]Stream, error) {
	var raws []map[string]json.RawMessage
	if err := json.Unmarshal(data, &raws); err != nil {
		return nil, err
	}
	var out []Stream
	for _, raw := range raws {
		var s Stream
		if err := decodeColumns(streamColumns, &s, raw); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// LogAttrs are the log attributes that identify ev: "event" (its type),
// "callid" when it belongs to a call, and "path" for a file, named as the
// fields are.
func LogAttrs(ev Event) []any {
	attrs := []any{"event", ev.Type().String()}
	ev.each(func(f Field, v Value) {
		switch f.Name {
		case "callid":
			if v.Str != "" {
				attrs = append(attrs, f.Name, v.Str)
			}
		case "path":
			attrs = append(attrs, f.Name, v.Str)
		}
	})
	return attrs
}
