package processor

import (
	"path/filepath"
	"strconv"
	"time"

	"github.com/lc-voip/lc/internal/event"
)

// CallDir is the directory of a call whose first packet is at first, under
// the output directory out: out/calls/YYYY-MM-DD/HHMMSS_<SafeName(callID)>
// in UTC. A second call with the same directory gets a numbered one (see
// uniquePath), which CallDir does not know of.
func CallDir(out, callID string, first time.Time) string {
	t := first.UTC()
	return filepath.Join(out, "calls", t.Format("2006-01-02"), t.Format("150405")+"_"+SafeName(callID))
}

// CallFile is the path of part part of the kind (SIP or RTP) stream of a
// call in its directory dir: <SafeName(callID)>_sip.pcap, then _sip_1.pcap,
// _sip_2.pcap, ...
func CallFile(dir, callID string, kind event.FileKind, part int) string {
	file := SafeName(callID) + "_" + string(kind)
	if part > 0 {
		file += "_" + strconv.Itoa(part)
	}
	return filepath.Join(dir, file+".pcap")
}
