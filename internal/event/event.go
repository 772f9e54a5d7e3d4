package event

import "time"

// Type says which event an Event is.
type Type uint8

// The event types.
const (
	TypeFileClosed    Type = iota + 1 // a FileClosed
	TypeCallCompleted                 // a CallCompleted
)

// String returns the type's JSON name: "file_closed" or "call_completed".
func (t Type) String() string {
	switch t {
	case TypeFileClosed:
		return "file_closed"
	case TypeCallCompleted:
		return "call_completed"
	}
	return "unknown"
}

// Event is a FileClosed or a CallCompleted; no other type can be one.
//
// Order contract: all FileClosed events of a call come before its
// CallCompleted, and the events that share a Key must be handled in the
// order they were emitted.
type Event interface {
	// Type says which event this is.
	Type() Type
	// EventID is the event's ID (see Identified); "" before it has one.
	EventID() string
	// Key groups the events that must be handled one after the other:
	// "call:" and the Call-ID for the events of a call, "file:" and the
	// path for an "other" file.
	Key() string
	// each calls f with every field of the event, in table order.
	each(f func(Field, Value))
	// withID returns a copy of the event with ID id.
	withID(id string) Event
}

// FileKind says which stream a pcap file holds.
type FileKind string

// File kinds.
const (
	KindSIP   FileKind = "sip"
	KindRTP   FileKind = "rtp"
	KindOther FileKind = "other"
)

// CloseReason says why a pcap file was closed.
type CloseReason string

// Close reasons.
const (
	ReasonCallEnd     CloseReason = "call-end"    // the call it belongs to ended
	ReasonRotateSize  CloseReason = "rotate-size" // the next packet would pass the size limit
	ReasonRotateAge   CloseReason = "rotate-age"  // an "other" file reached its maximum age
	ReasonRotateLink  CloseReason = "rotate-link" // the next packet has another link type or time precision
	ReasonIdle        CloseReason = "idle"        // an "other" file saw no packet for the idle timeout
	ReasonShutdown    CloseReason = "shutdown"    // input ended or the process was stopped
	ReasonInterrupted CloseReason = "interrupted" // open when lc died; repaired and closed when it started again
)

// FileClosed reports a pcap file that lc has finished writing. The file is
// complete on disk when the event is emitted, and the event says what is
// in it.
//
// When a write to the file failed (a full disk, an I/O error, a file that
// could not be created or reopened), Error says why, the file holds only
// the records that reached it whole, cut back after the last of them so
// that it reads cleanly, and Packets, Bytes, First and Last count those
// records only; the file took no record after the failure. A file whose
// header could not be written is removed: Bytes is 0 and no file is at
// Path, as when it could not be created. The event is emitted and its
// hooks run all the same: a hook tells such a file by its error.
type FileClosed struct {
	ID      string      // see Identified
	Path    string      // absolute path
	Kind    FileKind    //
	CallID  string      // raw Call-ID; empty for "other" files
	Part    int         // 0 for the first file of a stream, then 1, 2, ... for rotated parts
	Reason  CloseReason //
	Packets int64       // packets in the file
	Bytes   int64       // size of the file in bytes, headers included
	First   time.Time   // capture time of the first packet; zero when the file holds none
	Last    time.Time   // capture time of the last packet; zero when the file holds none
	Error   string      // why the file holds less than lc gave it; "" when it holds everything
}

// Type implements Event.
func (FileClosed) Type() Type { return TypeFileClosed }

// EventID implements Event.
func (e FileClosed) EventID() string { return e.ID }

// Key implements Event.
func (e FileClosed) Key() string {
	if e.CallID != "" {
		return CallKey(e.CallID)
	}
	return "file:" + e.Path
}

func (e FileClosed) each(f func(Field, Value)) { eachColumn(fileColumns, &e, f) }

func (e FileClosed) withID(id string) Event { e.ID = id; return e }

// CallState is how a call ended.
type CallState string

// Call end states.
const (
	StateCompleted   CallState = "completed"    // BYE
	StateCancelled   CallState = "cancelled"    // CANCEL or 487
	StateFailed      CallState = "failed"       // final response >= 300 to the INVITE
	StateTimeout     CallState = "timeout"      // no packet for the idle timeout
	StateMaxDuration CallState = "max-duration" // the call lasted longer than the maximum
	StateShutdown    CallState = "shutdown"     // still open when input ended
	StateInterrupted CallState = "interrupted"  // open when lc died; closed when it started again
)

// Stream is one media endpoint that SDP negotiated for a call.
type Stream struct {
	Media   string // m= type: audio, video, image, ...
	Addr    string // RTP address:port
	RTCP    string // RTCP address:port; empty with rtcp-mux
	Packets int64  // packets matched to this endpoint (RTP and RTCP)
}

// CallCompleted reports a call whose files are all closed.
//
// A call some of whose packets are not in its files because writing them
// failed is Incomplete, and Errors says why; its State is how the call
// ended all the same, and its packet counts are what its files hold.
type CallCompleted struct {
	ID         string    // see Identified
	CallID     string    // raw Call-ID, as seen on the network
	Dirname    string    // absolute path of the call's directory
	Caller     string    // From URI as user@host
	Called     string    // To URI as user@host
	CallDate   time.Time // capture time of the call's first packet
	EndDate    time.Time // capture time of the call's last packet
	State      CallState //
	Status     int       // final response code to the INVITE; 0 when none was seen
	Partial    bool      // the capture started after the call's INVITE
	Follows    string    // Dirname of the ended call of the same Call-ID that this new INVITE transaction follows, if any
	SIPFiles   []string  // the call's SIP files, part 0 first
	RTPFiles   []string  // the call's RTP files, part 0 first
	SIPPackets int64     // packets in the call's SIP files
	RTPPackets int64     // packets in the call's RTP files
	Streams    []Stream  // media endpoints, in the order SDP announced them
	Incomplete bool      // packets of the call are missing from its files: a write failed
	Errors     []string  // why, each message once; empty when complete
}

// Type implements Event.
func (CallCompleted) Type() Type { return TypeCallCompleted }

// EventID implements Event.
func (e CallCompleted) EventID() string { return e.ID }

// Key implements Event.
func (e CallCompleted) Key() string { return CallKey(e.CallID) }

func (e CallCompleted) each(f func(Field, Value)) { eachColumn(callColumns, &e, f) }

func (e CallCompleted) withID(id string) Event { e.ID = id; return e }

// CallKey is the Key of the events of the call with Call-ID id.
func CallKey(id string) string { return "call:" + id }

// Files returns every pcap file of the call: SIP parts, then RTP parts.
func (e CallCompleted) Files() []string {
	return append(append([]string{}, e.SIPFiles...), e.RTPFiles...)
}

// Duration is EndDate minus CallDate.
func (e CallCompleted) Duration() time.Duration { return e.EndDate.Sub(e.CallDate) }
