package event

import (
	"path/filepath"
	"time"
)

// Field describes one field of an event. Its Name is the same in every
// rendering: the JSON key, the %placeholder% and the Lua table key.
type Field struct {
	Name string
	// Alias is a second placeholder name for the field, kept from lc's
	// first templates ("pcap" for a file's path); "" when none.
	Alias string
	Kind  Kind
	Doc   string // what the value is, for the README's table
	// Derived fields are computed from others (a file's basename, a
	// call's first SIP file, ...): Decode does not read them.
	Derived bool
}

// column is a field with the functions that read and write it in an event
// of type E.
type column[E any] struct {
	Field
	get func(*E) Value
	set func(*E, Value) // nil for a derived field
}

func eachColumn[E any](cols []column[E], e *E, f func(Field, Value)) {
	for _, c := range cols {
		f(c.Field, c.get(e))
	}
}

func fields[E any](cols []column[E]) []Field {
	out := make([]Field, len(cols))
	for i, c := range cols {
		out[i] = c.Field
	}
	return out
}

// Fields returns the fields of events of type t, in the order every
// rendering writes them.
func Fields(t Type) []Field {
	switch t {
	case TypeFileClosed:
		return fields(fileColumns)
	case TypeCallCompleted:
		return fields(callColumns)
	}
	return nil
}

// StreamFields returns the fields of one media stream of a call's
// "streams".
func StreamFields() []Field { return fields(streamColumns) }

// Each calls f with every field of ev and its value, in table order.
func Each(ev Event, f func(Field, Value)) { ev.each(f) }

// EachStream calls f with every field of s and its value.
func EachStream(s Stream, f func(Field, Value)) { eachColumn(streamColumns, &s, f) }

func str(s string) Value        { return Value{Kind: String, Str: s} }
func integer(n int64) Value     { return Value{Kind: Int, Int: n} }
func boolean(b bool) Value      { return Value{Kind: Bool, Bool: b} }
func instant(t time.Time) Value { return Value{Kind: Time, Time: t} }
func epochOf(t time.Time) Value { return Value{Kind: Epoch, Time: t} }
func list(l []string) Value     { return Value{Kind: Strings, List: l} }

func first(l []string) string {
	if len(l) == 0 {
		return ""
	}
	return l[0]
}

var fileColumns = []column[FileClosed]{
	{Field{Name: "event_id", Kind: String, Doc: "the event's id: the same every time the event is delivered, replays after a crash included"},
		func(e *FileClosed) Value { return str(e.ID) }, func(e *FileClosed, v Value) { e.ID = v.Str }},
	{Field{Name: "path", Alias: "pcap", Kind: String, Doc: "absolute path of the file"},
		func(e *FileClosed) Value { return str(e.Path) }, func(e *FileClosed, v Value) { e.Path = v.Str }},
	{Field{Name: "basename", Kind: String, Doc: "the file's name", Derived: true},
		func(e *FileClosed) Value { return str(filepath.Base(e.Path)) }, nil},
	{Field{Name: "dirname", Kind: String, Doc: "the file's directory (a call's files: the call directory)", Derived: true},
		func(e *FileClosed) Value { return str(filepath.Dir(e.Path)) }, nil},
	{Field{Name: "kind", Kind: String, Doc: "`sip`, `rtp` or `other`"},
		func(e *FileClosed) Value { return str(string(e.Kind)) }, func(e *FileClosed, v Value) { e.Kind = FileKind(v.Str) }},
	{Field{Name: "callid", Kind: String, Doc: "raw Call-ID; empty for `other` files"},
		func(e *FileClosed) Value { return str(e.CallID) }, func(e *FileClosed, v Value) { e.CallID = v.Str }},
	{Field{Name: "part", Kind: Int, Doc: "0 for a stream's first file, then 1, 2, ... for rotated parts"},
		func(e *FileClosed) Value { return integer(int64(e.Part)) }, func(e *FileClosed, v Value) { e.Part = int(v.Int) }},
	{Field{Name: "reason", Kind: String, Doc: "why the file was closed: `call-end`, `rotate-size`, `rotate-age`, `rotate-link`, `idle`, `shutdown`, `interrupted`"},
		func(e *FileClosed) Value { return str(string(e.Reason)) }, func(e *FileClosed, v Value) { e.Reason = CloseReason(v.Str) }},
	{Field{Name: "packets", Kind: Int, Doc: "packets in the file"},
		func(e *FileClosed) Value { return integer(e.Packets) }, func(e *FileClosed, v Value) { e.Packets = v.Int }},
	{Field{Name: "bytes", Kind: Int, Doc: "size of the file, headers included"},
		func(e *FileClosed) Value { return integer(e.Bytes) }, func(e *FileClosed, v Value) { e.Bytes = v.Int }},
	{Field{Name: "first", Kind: Time, Doc: "capture time of the first packet"},
		func(e *FileClosed) Value { return instant(e.First) }, func(e *FileClosed, v Value) { e.First = v.Time }},
	{Field{Name: "first_epoch", Kind: Epoch, Doc: "the same as Unix seconds", Derived: true},
		func(e *FileClosed) Value { return epochOf(e.First) }, nil},
	{Field{Name: "last", Kind: Time, Doc: "capture time of the last packet"},
		func(e *FileClosed) Value { return instant(e.Last) }, func(e *FileClosed, v Value) { e.Last = v.Time }},
	{Field{Name: "last_epoch", Kind: Epoch, Doc: "the same as Unix seconds", Derived: true},
		func(e *FileClosed) Value { return epochOf(e.Last) }, nil},
	{Field{Name: "error", Kind: String, Doc: "why the file holds less than lc gave it (a failed write); empty when it holds everything"},
		func(e *FileClosed) Value { return str(e.Error) }, func(e *FileClosed, v Value) { e.Error = v.Str }},
}

var callColumns = []column[CallCompleted]{
	{Field{Name: "event_id", Kind: String, Doc: "the event's id: the same every time the event is delivered, replays after a crash included"},
		func(e *CallCompleted) Value { return str(e.ID) }, func(e *CallCompleted, v Value) { e.ID = v.Str }},
	{Field{Name: "callid", Kind: String, Doc: "raw Call-ID, as seen on the network"},
		func(e *CallCompleted) Value { return str(e.CallID) }, func(e *CallCompleted, v Value) { e.CallID = v.Str }},
	{Field{Name: "dirname", Kind: String, Doc: "absolute path of the call's directory"},
		func(e *CallCompleted) Value { return str(e.Dirname) }, func(e *CallCompleted, v Value) { e.Dirname = v.Str }},
	{Field{Name: "caller", Kind: String, Doc: "From URI as user@host"},
		func(e *CallCompleted) Value { return str(e.Caller) }, func(e *CallCompleted, v Value) { e.Caller = v.Str }},
	{Field{Name: "called", Kind: String, Doc: "To URI as user@host"},
		func(e *CallCompleted) Value { return str(e.Called) }, func(e *CallCompleted, v Value) { e.Called = v.Str }},
	{Field{Name: "calldate", Kind: Time, Doc: "capture time of the call's first packet"},
		func(e *CallCompleted) Value { return instant(e.CallDate) }, func(e *CallCompleted, v Value) { e.CallDate = v.Time }},
	{Field{Name: "calldate_epoch", Kind: Epoch, Doc: "the same as Unix seconds", Derived: true},
		func(e *CallCompleted) Value { return epochOf(e.CallDate) }, nil},
	{Field{Name: "enddate", Kind: Time, Doc: "capture time of the call's last packet"},
		func(e *CallCompleted) Value { return instant(e.EndDate) }, func(e *CallCompleted, v Value) { e.EndDate = v.Time }},
	{Field{Name: "enddate_epoch", Kind: Epoch, Doc: "the same as Unix seconds", Derived: true},
		func(e *CallCompleted) Value { return epochOf(e.EndDate) }, nil},
	{Field{Name: "duration", Kind: Seconds, Doc: "enddate − calldate", Derived: true},
		func(e *CallCompleted) Value { return Value{Kind: Seconds, Float: e.Duration().Seconds()} }, nil},
	{Field{Name: "state", Kind: String, Doc: "how the call ended: `completed`, `cancelled`, `failed`, `timeout`, `max-duration`, `shutdown`, `interrupted`"},
		func(e *CallCompleted) Value { return str(string(e.State)) }, func(e *CallCompleted, v Value) { e.State = CallState(v.Str) }},
	{Field{Name: "status", Kind: Int, Doc: "final response code to the INVITE; 0 when none was seen"},
		func(e *CallCompleted) Value { return integer(int64(e.Status)) }, func(e *CallCompleted, v Value) { e.Status = int(v.Int) }},
	{Field{Name: "partial", Kind: Bool, Doc: "the capture started after the call's INVITE"},
		func(e *CallCompleted) Value { return boolean(e.Partial) }, func(e *CallCompleted, v Value) { e.Partial = v.Bool }},
	{Field{Name: "follows", Kind: String, Doc: "directory of the ended call of the same Call-ID that this new INVITE transaction follows; empty when none"},
		func(e *CallCompleted) Value { return str(e.Follows) }, func(e *CallCompleted, v Value) { e.Follows = v.Str }},
	{Field{Name: "files", Kind: Strings, Doc: "every file of the call: SIP parts, then RTP parts", Derived: true},
		func(e *CallCompleted) Value { return list(e.Files()) }, nil},
	{Field{Name: "sip_files", Kind: Strings, Doc: "the call's SIP files, part 0 first"},
		func(e *CallCompleted) Value { return list(e.SIPFiles) }, func(e *CallCompleted, v Value) { e.SIPFiles = v.List }},
	{Field{Name: "rtp_files", Kind: Strings, Doc: "the call's RTP files, part 0 first"},
		func(e *CallCompleted) Value { return list(e.RTPFiles) }, func(e *CallCompleted, v Value) { e.RTPFiles = v.List }},
	{Field{Name: "sippcap", Kind: String, Doc: "the call's first SIP file; empty when none", Derived: true},
		func(e *CallCompleted) Value { return str(first(e.SIPFiles)) }, nil},
	{Field{Name: "rtppcap", Kind: String, Doc: "the call's first RTP file; empty when none", Derived: true},
		func(e *CallCompleted) Value { return str(first(e.RTPFiles)) }, nil},
	{Field{Name: "sip_packets", Kind: Int, Doc: "packets in the call's SIP files"},
		func(e *CallCompleted) Value { return integer(e.SIPPackets) }, func(e *CallCompleted, v Value) { e.SIPPackets = v.Int }},
	{Field{Name: "rtp_packets", Kind: Int, Doc: "packets in the call's RTP files"},
		func(e *CallCompleted) Value { return integer(e.RTPPackets) }, func(e *CallCompleted, v Value) { e.RTPPackets = v.Int }},
	{Field{Name: "streams", Kind: Streams, Doc: "media endpoints in the order SDP announced them, each with `media`, `addr`, `rtcp`, `packets`"},
		func(e *CallCompleted) Value { return Value{Kind: Streams, Streams: e.Streams} }, func(e *CallCompleted, v Value) { e.Streams = v.Streams }},
	{Field{Name: "incomplete", Kind: Bool, Doc: "packets of the call are missing from its files: a write failed"},
		func(e *CallCompleted) Value { return boolean(e.Incomplete) }, func(e *CallCompleted, v Value) { e.Incomplete = v.Bool }},
	{Field{Name: "errors", Kind: Strings, Doc: "why the call is incomplete, each message once; empty when complete"},
		func(e *CallCompleted) Value { return list(e.Errors) }, func(e *CallCompleted, v Value) { e.Errors = v.List }},
}

var streamColumns = []column[Stream]{
	{Field{Name: "media", Kind: String, Doc: "m= type: audio, video, image, ..."},
		func(s *Stream) Value { return str(s.Media) }, func(s *Stream, v Value) { s.Media = v.Str }},
	{Field{Name: "addr", Kind: String, Doc: "RTP address:port"},
		func(s *Stream) Value { return str(s.Addr) }, func(s *Stream, v Value) { s.Addr = v.Str }},
	{Field{Name: "rtcp", Kind: String, Doc: "RTCP address:port; empty with rtcp-mux"},
		func(s *Stream) Value { return str(s.RTCP) }, func(s *Stream, v Value) { s.RTCP = v.Str }},
	{Field{Name: "packets", Kind: Int, Doc: "packets matched to this endpoint (RTP and RTCP)"},
		func(s *Stream) Value { return integer(s.Packets) }, func(s *Stream, v Value) { s.Packets = v.Int }},
}
