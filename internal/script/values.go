package script

import (
	"path/filepath"
	"strconv"
	"time"

	"github.com/lc-voip/lc/internal/processor"
)

// Placeholders valid in --pcap-command templates.
var PcapPlaceholders = []string{"pcap", "basename", "dirname", "kind", "callid", "error"}

// Placeholders valid in --voip-command templates: scalars, then the list
// placeholders %files%, %sipfiles% and %rtpfiles% (see ListSuffix).
var CallPlaceholders = []string{
	"callid", "dirname", "caller", "called", "calldate", "enddate",
	"duration", "state", "status", "sippcap", "rtppcap", "incomplete", "follows",
	"files" + ListSuffix, "sipfiles" + ListSuffix, "rtpfiles" + ListSuffix,
}

// TimeFormat is how times are written into placeholders: ISO 8601 in UTC,
// to the second.
const TimeFormat = "2006-01-02T15:04:05Z"

// FileValues returns the placeholder values of a FileClosed event:
// %pcap% (absolute path), %basename%, %dirname% (the file's directory),
// %kind%, %callid% (empty for "other" files) and %error% (empty unless a
// write failed: see processor.FileClosed).
func FileValues(e processor.FileClosed) func(string) string {
	return func(name string) string {
		switch name {
		case "pcap":
			return e.Path
		case "basename":
			return filepath.Base(e.Path)
		case "dirname":
			return filepath.Dir(e.Path)
		case "kind":
			return string(e.Kind)
		case "callid":
			return e.CallID
		case "error":
			return e.Error
		}
		return ""
	}
}

// CallValues returns the placeholder values of a CallCompleted event.
// %duration% is whole seconds; %status% is empty when no final response
// was seen; %sippcap% and %rtppcap% are the call's first SIP and RTP files
// (empty when it has none); %incomplete% is "true" when a write failed
// (else empty); %follows% is the directory of the ended call of the same
// Call-ID this one follows (else empty). The lists, as JoinList makes them: %files% is
// every file of the call, its SIP parts then its RTP parts, each in part
// order (as the event's Files and Lua's call.files); %sipfiles% and
// %rtpfiles% are the parts of one kind.
func CallValues(e processor.CallCompleted) func(string) string {
	return func(name string) string {
		switch name {
		case "callid":
			return e.CallID
		case "dirname":
			return e.Dirname
		case "caller":
			return e.Caller
		case "called":
			return e.Called
		case "calldate":
			return e.CallDate.UTC().Format(TimeFormat)
		case "enddate":
			return e.EndDate.UTC().Format(TimeFormat)
		case "duration":
			return strconv.FormatInt(int64(e.Duration()/time.Second), 10)
		case "state":
			return string(e.State)
		case "status":
			if e.Status == 0 {
				return ""
			}
			return strconv.Itoa(e.Status)
		case "incomplete":
			if e.Incomplete {
				return "true"
			}
			return ""
		case "follows":
			return e.Follows
		case "sippcap":
			return first(e.SIPFiles)
		case "rtppcap":
			return first(e.RTPFiles)
		case "files":
			return JoinList(e.SIPFiles, e.RTPFiles)
		case "sipfiles":
			return JoinList(e.SIPFiles)
		case "rtpfiles":
			return JoinList(e.RTPFiles)
		}
		return ""
	}
}

func first(paths []string) string {
	if len(paths) == 0 {
		return ""
	}
	return paths[0]
}
