package processor

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/lc-voip/lc/internal/event"
)

// DefaultCallsLayout is the default Config.CallsLayout: a directory per
// day and, in it, one per hour, so that no directory holds more than an
// hour of calls.
const DefaultCallsLayout = "2006-01-02/15"

// maxCallsLayout is the longest Config.CallsLayout, in bytes.
const maxCallsLayout = 64

// Layout names the dated parts of the output tree. Its zero value is not
// usable: Calls must be a layout that Config.Validate accepts (see
// DefaultLayout).
type Layout struct {
	// Calls is a Go time layout (see time.Layout) of the directories
	// between calls/ and a call's directory; each "/" starts a level.
	Calls string
	// Location is the time zone of every dated directory and file name;
	// nil is UTC. Event times stay in UTC whatever it is.
	Location *time.Location
}

// DefaultLayout is the layout of the default configuration: calls in
// calls/YYYY-MM-DD/HH/, in UTC.
func DefaultLayout() Layout { return Layout{Calls: DefaultCallsLayout} }

// layout is the Layout that c configures.
func (c Config) layout() Layout { return Layout{Calls: c.CallsLayout, Location: c.Location} }

// in is t in l's time zone.
func (l Layout) in(t time.Time) time.Time {
	if l.Location == nil {
		return t.UTC()
	}
	return t.In(l.Location)
}

// CallDir is the directory of a call whose first packet is at first, under
// the output directory out: out/calls/<first as l.Calls>/HHMMSS_<SafeName(callID)>,
// in l.Location. A call is in the directory of its first packet however
// long it lasts. A second call with the same directory gets a numbered one
// (see outDir.mkdirUnique), which CallDir does not know of.
func (l Layout) CallDir(out, callID string, first time.Time) string {
	t := l.in(first)
	return filepath.Join(out, "calls", filepath.FromSlash(t.Format(l.Calls)), t.Format("150405")+"_"+SafeName(callID))
}

// OtherBase is the path, without a number to make it unique and without
// ".pcap", of an "other" file whose first packet is at first:
// out/other/YYYY-MM-DD/YYYYMMDD_HHMMSS, in l.Location.
func (l Layout) OtherBase(out string, first time.Time) string {
	t := l.in(first)
	return filepath.Join(out, "other", t.Format("2006-01-02"), t.Format("20060102_150405"))
}

// CallDir is the directory of a call in the default layout:
// out/calls/YYYY-MM-DD/HH/HHMMSS_<SafeName(callID)> in UTC (see
// Layout.CallDir).
func CallDir(out, callID string, first time.Time) string {
	return DefaultLayout().CallDir(out, callID, first)
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

// callsLayoutElements are the elements of a Go time layout that a calls
// layout may hold: those that format as digits or letters. An element
// comes before the shorter ones it begins with, so that the first match
// is the one package time reads.
var callsLayoutElements = []string{
	"January", "Monday", "2006", "002", "Jan", "Mon",
	"01", "02", "03", "04", "05", "06", "15", "PM", "pm",
	"1", "2", "3", "4", "5",
}

// callsLayoutElementList is callsLayoutElements in the order of
// package time's documentation, for error messages.
const callsLayoutElementList = "2006 06 01 1 Jan January 02 2 002 Mon Monday 15 03 3 04 4 05 5 PM pm"

// callsLayoutSeparators are the characters a level of a calls layout may
// hold besides its elements.
const callsLayoutSeparators = "-_."

// checkCallsLayout reports why layout cannot be a Config.CallsLayout: it
// must be date and time elements and separators only, in levels separated
// by "/", each level with an element in it and not starting with ".", so
// that every name it formats is a plain directory name beneath calls/.
func checkCallsLayout(layout string) error {
	switch {
	case layout == "":
		return errors.New("must not be empty")
	case len(layout) > maxCallsLayout:
		return fmt.Errorf("must be at most %d bytes", maxCallsLayout)
	case strings.Contains(layout, ".."):
		return errors.New(`must not contain ".."`)
	}
	for i, level := range strings.Split(layout, "/") {
		if err := checkLayoutLevel(level); err != nil {
			return fmt.Errorf("level %d %q: %w", i+1, level, err)
		}
	}
	return nil
}

// checkLayoutLevel reports why level cannot be one level of a calls
// layout.
func checkLayoutLevel(level string) error {
	switch {
	case level == "":
		return errors.New(`is empty: a "/" at the start or the end, or two in a row`)
	case level[0] == '.':
		return errors.New(`starts with "."`)
	}
	elements := 0
	for rest := level; rest != ""; {
		n, element, err := layoutToken(rest)
		if err != nil {
			return err
		}
		if element {
			elements++
		}
		rest = rest[n:]
	}
	if elements == 0 {
		return errors.New("has no date or time element")
	}
	return nil
}

// layoutToken returns the length of the element or separator that s
// starts with, and whether it is an element.
func layoutToken(s string) (n int, element bool, err error) {
	// "_2" and "__2" are elements to package time (the day and the day of
	// the year padded with spaces), unless "_2006": "_" then the year.
	if strings.HasPrefix(s, "__2") || strings.HasPrefix(s, "_2") && !strings.HasPrefix(s, "_2006") {
		return 0, false, errors.New(`"_2" and "__2" pad with spaces: use 02 or 002`)
	}
	if strings.IndexByte(callsLayoutSeparators, s[0]) >= 0 {
		return 1, false, nil
	}
	for _, e := range callsLayoutElements {
		if strings.HasPrefix(s, e) {
			return len(e), true, nil
		}
	}
	word := s
	if i := strings.IndexAny(s, callsLayoutSeparators); i >= 0 {
		word = s[:i]
	}
	return 0, false, fmt.Errorf("%q is not a date or time element (%s) nor a separator (%s and / between levels)",
		word, callsLayoutElementList, strings.Join(strings.Split(callsLayoutSeparators, ""), " "))
}
