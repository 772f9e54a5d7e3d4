package processor

import (
	"encoding/json"
	"time"
)

// Event is a FileClosed or a CallCompleted. Events are produced on the
// processing goroutine, in order, and handed to the Config.Emit callback;
// the callback owns the event value it is given.
//
// Order contract: all FileClosed events of a call come before its
// CallCompleted, and each event is emitted exactly once per run.
type Event interface {
	// Name is the event's type in its JSON form: "file_closed" or
	// "call_completed".
	Name() string
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
	ReasonCallEnd    CloseReason = "call-end"    // the call it belongs to ended
	ReasonRotateSize CloseReason = "rotate-size" // the next packet would pass the size limit
	ReasonRotateAge  CloseReason = "rotate-age"  // an "other" file reached its maximum age
	ReasonRotateLink CloseReason = "rotate-link" // the next packet has another link type or time precision
	ReasonIdle       CloseReason = "idle"        // an "other" file saw no packet for the idle timeout
	ReasonShutdown   CloseReason = "shutdown"    // input ended or the process was stopped
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

// Name implements Event.
func (FileClosed) Name() string { return "file_closed" }

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

// Name implements Event.
func (CallCompleted) Name() string { return "call_completed" }

// Files returns every pcap file of the call: SIP parts, then RTP parts.
func (c CallCompleted) Files() []string {
	return append(append([]string{}, c.SIPFiles...), c.RTPFiles...)
}

// Duration is EndDate minus CallDate.
func (c CallCompleted) Duration() time.Duration { return c.EndDate.Sub(c.CallDate) }

// timeJSON is the one time format of the JSON events: RFC 3339 in UTC with
// as many fractional digits as needed.
func timeJSON(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// MarshalJSON writes the event as one flat object with "event":"file_closed";
// "error" is left out when empty.
func (e FileClosed) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Event   string      `json:"event"`
		Path    string      `json:"path"`
		Kind    FileKind    `json:"kind"`
		CallID  string      `json:"callid"`
		Part    int         `json:"part"`
		Reason  CloseReason `json:"reason"`
		Packets int64       `json:"packets"`
		Bytes   int64       `json:"bytes"`
		First   string      `json:"first"`
		Last    string      `json:"last"`
		Error   string      `json:"error,omitempty"`
	}{e.Name(), e.Path, e.Kind, e.CallID, e.Part, e.Reason, e.Packets, e.Bytes, timeJSON(e.First), timeJSON(e.Last), e.Error})
}

// MarshalJSON writes the event as one flat object with
// "event":"call_completed"; duration is in seconds; "incomplete" and
// "errors" are left out for a complete call, "follows" for a call that
// follows none.
func (e CallCompleted) MarshalJSON() ([]byte, error) {
	type stream struct {
		Media   string `json:"media"`
		Addr    string `json:"addr"`
		RTCP    string `json:"rtcp,omitempty"`
		Packets int64  `json:"packets"`
	}
	streams := make([]stream, len(e.Streams))
	for i, s := range e.Streams {
		streams[i] = stream(s)
	}
	return json.Marshal(struct {
		Event      string    `json:"event"`
		CallID     string    `json:"callid"`
		Dirname    string    `json:"dirname"`
		Caller     string    `json:"caller"`
		Called     string    `json:"called"`
		CallDate   string    `json:"calldate"`
		EndDate    string    `json:"enddate"`
		Duration   float64   `json:"duration"`
		State      CallState `json:"state"`
		Status     int       `json:"status"`
		Partial    bool      `json:"partial"`
		Files      []string  `json:"files"`
		SIPPackets int64     `json:"sip_packets"`
		RTPPackets int64     `json:"rtp_packets"`
		Streams    []stream  `json:"streams"`
		Incomplete bool      `json:"incomplete,omitempty"`
		Errors     []string  `json:"errors,omitempty"`
		Follows    string    `json:"follows,omitempty"`
	}{e.Name(), e.CallID, e.Dirname, e.Caller, e.Called, timeJSON(e.CallDate), timeJSON(e.EndDate),
		e.Duration().Seconds(), e.State, e.Status, e.Partial, e.Files(), e.SIPPackets, e.RTPPackets, streams,
		e.Incomplete, e.Errors, e.Follows})
}
