package processor

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lc-voip/lc/internal/event"
	"github.com/lc-voip/lc/internal/testpcap"
)

// plus0530 is a zone with no daylight saving time and a half-hour
// offset, so that hour and day both differ from UTC's.
var plus0530 = time.FixedZone("IST", 5*3600+1800)

func TestLayoutCallDir(t *testing.T) {
	first := time.Date(2026, 1, 1, 23, 4, 5, 0, time.UTC)
	tests := []struct {
		name   string
		layout Layout
		want   string // beneath /out
	}{
		{"default", DefaultLayout(), "calls/2026-01-01/23/230405_c@x"},
		{"day only", Layout{Calls: "2006-01-02"}, "calls/2026-01-01/230405_c@x"},
		{"to the minute", Layout{Calls: "2006/01/02/15/04"}, "calls/2026/01/01/23/04/230405_c@x"},
		{"names", Layout{Calls: "2006_Jan/Monday.PM"}, "calls/2026_Jan/Thursday.PM/230405_c@x"},
		{"day of the year", Layout{Calls: "2006/002"}, "calls/2026/001/230405_c@x"},
		{"local zone: next day", Layout{Calls: DefaultCallsLayout, Location: plus0530}, "calls/2026-01-02/04/043405_c@x"},
		{"local zone: custom", Layout{Calls: "2006/01/02/15/04", Location: plus0530}, "calls/2026/01/02/04/34/043405_c@x"},
		{"UTC given", Layout{Calls: DefaultCallsLayout, Location: time.UTC}, "calls/2026-01-01/23/230405_c@x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := checkCallsLayout(tt.layout.Calls); err != nil {
				t.Fatalf("layout %q refused: %v", tt.layout.Calls, err)
			}
			// The zone of first does not matter, only its instant.
			for _, at := range []time.Time{first, first.In(time.FixedZone("", -7*3600))} {
				if got, want := tt.layout.CallDir("/out", "c@x", at), filepath.FromSlash("/out/"+tt.want); got != want {
					t.Errorf("CallDir(%v) = %q, want %q", at, got, want)
				}
			}
		})
	}
	if got, want := CallDir("/out", "c@x", first), DefaultLayout().CallDir("/out", "c@x", first); got != want {
		t.Errorf("CallDir = %q, want the default layout's %q", got, want)
	}
}

func TestLayoutOtherBase(t *testing.T) {
	first := time.Date(2026, 1, 1, 23, 4, 5, 0, time.UTC)
	for _, tt := range []struct {
		loc  *time.Location
		want string
	}{
		{nil, "/out/other/2026-01-01/20260101_230405"},
		{plus0530, "/out/other/2026-01-02/20260102_043405"},
	} {
		l := Layout{Calls: "2006", Location: tt.loc} // Calls has no say in it
		if got := l.OtherBase("/out", first); got != filepath.FromSlash(tt.want) {
			t.Errorf("OtherBase in %v = %q, want %q", tt.loc, got, tt.want)
		}
	}
}

func TestCallsLayoutChecked(t *testing.T) {
	good := []string{
		DefaultCallsLayout, "2006-01-02", "2006/01/02/15/04", "20060102/15", "2006/002", "06.1.2/3PM",
		"2006_Jan/Monday", "January-2006/_2006", "2006/01/02/15/04/05", "2006-01/02-Mon/15pm",
	}
	for _, layout := range good {
		if err := checkCallsLayout(layout); err != nil {
			t.Errorf("%q refused: %v", layout, err)
			continue
		}
		// What is accepted formats as plain names: no space, no empty or
		// dot-only level, whatever the time.
		for _, at := range []time.Time{time.Date(2009, 11, 17, 20, 34, 58, 0, time.UTC), time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} {
			for level := range strings.SplitSeq(at.Format(layout), "/") {
				if level == "" || strings.Trim(level, ".") == "" || strings.ContainsAny(level, ` \:+`) || level[0] == '.' {
					t.Errorf("%q formats %v with the level %q", layout, at, level)
				}
			}
		}
	}
	bad := []struct {
		layout string
		reason string
	}{
		{"", "must not be empty"},
		{"2006/../01", `must not contain ".."`},
		{"2006..01", `must not contain ".."`},
		{"../2006", `must not contain ".."`},
		{"/2006/01", `level 1 "": is empty`},
		{"2006/01/", `level 3 "": is empty`},
		{"2006//01", `level 2 "": is empty`},
		{"2006/./01", `level 2 ".": starts with "."`},
		{".2006", `starts with "."`},
		{"2006/-", `level 2 "-": has no date or time element`},
		{"2006/x", `"x" is not a date or time element`},
		{"2006-01-02/15h", `"h" is not a date or time element`},
		{"2006-01-02T15", `"T15" is not`},
		{"2006 01", `" 01" is not`},
		{`2006\01`, `is not a date or time element`},
		{"2006-01-02/MST", `"MST" is not`},
		{"2006-01-02/Z07", `"Z07" is not`},
		{"2006-01-02/-0700", `"0700" is not`},
		{"15:04", `":04" is not`},
		{"2006/05.000", `"000" is not`},
		{"2006_1_2", `"_2" and "__2" pad with spaces`},
		{"2006/__2", `pad with spaces`},
		{"%Y/%m", `"%Y" is not`},
		{strings.Repeat("2006/", 13) + "01", "must be at most 64 bytes"},
	}
	for _, tt := range bad {
		err := checkCallsLayout(tt.layout)
		if err == nil || !strings.Contains(err.Error(), tt.reason) {
			t.Errorf("%q: error %v, want one saying %s", tt.layout, err, tt.reason)
		}
	}
}

// TestConfigValidateCallsLayout: a bad layout is a FieldError of
// CallsLayout, reported with the other problems.
func TestConfigValidateCallsLayout(t *testing.T) {
	cfg := DefaultConfig()
	cfg.CallsLayout = "2006/../../etc"
	cfg.Grace = 0
	err := cfg.Validate()
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != "CallsLayout" || fe.Value != cfg.CallsLayout {
		t.Fatalf("Validate = %v, want a CallsLayout FieldError first", err)
	}
	if !strings.Contains(err.Error(), "Grace") {
		t.Errorf("Validate = %v, want the Grace problem too", err)
	}
	if _, err := New(cfg); err == nil {
		t.Error("New took a bad layout")
	}
}

// TestCallsLayoutOutput runs calls through a processor with a custom
// layout in a zone other than UTC: the calls' directories and the
// "other" files are named in that zone, the events' times stay UTC, and
// a call that crosses an hour keeps all its files, parts after the hour
// included, in the directory of its first packet.
func TestCallsLayoutOutput(t *testing.T) {
	start := time.Date(2026, 3, 14, 18, 29, 55, 0, time.UTC) // 23:59:55 at +05:30
	tl := &testpcap.Timeline{Now: start}
	o := testpcap.NewDialog(6)
	tl.Add(testpcap.UDP(o.Caller, o.Callee, o.Request("OPTIONS", 1, "", "")), 0)
	d := testpcap.NewDialog(1)
	tl.BasicCall(d, 400) // ~8 s of RTP in 64 KiB parts: ends after midnight there
	if !tl.Now.After(start.Add(6 * time.Second)) {
		t.Fatalf("the call ends at %v: it does not cross the hour", tl.Now)
	}
	out := t.TempDir()
	events, _ := runPackets(t, out, tl.Pkts, func(c *Config) {
		c.CallsLayout = "2006/01/02/15/04"
		c.Location = plus0530
		c.PerCallMaxSize = 64 << 10
	})
	dir := filepath.Join(out, "calls", "2026", "03", "14", "23", "59", "235955_"+SafeName(d.CallID))
	var calls, parts, others int
	for _, e := range events {
		switch e := e.(type) {
		case event.CallCompleted:
			calls++
			if e.Dirname != dir {
				t.Errorf("dirname %q, want %q", e.Dirname, dir)
			}
			if !e.CallDate.Equal(start) || e.CallDate.Location() != time.UTC {
				t.Errorf("calldate %v, want %v in UTC", e.CallDate, start)
			}
		case event.FileClosed:
			switch e.Kind {
			case event.KindOther:
				others++
				if want := filepath.Join(out, "other", "2026-03-14", "20260314_235955.pcap"); e.Path != want {
					t.Errorf("other file %q, want %q", e.Path, want)
				}
			default:
				parts++
				if filepath.Dir(e.Path) != dir {
					t.Errorf("%s part %d at %v is %q, not in %q", e.Kind, e.Part, e.First, e.Path, dir)
				}
			}
		}
	}
	if calls != 1 || others != 1 || parts < 3 {
		t.Fatalf("%d calls, %d other files, %d call files; want 1, 1 and at least 3 (RTP parts)", calls, others, parts)
	}
	var late bool
	for _, e := range events {
		if fc, ok := e.(event.FileClosed); ok && fc.CallID != "" && fc.First.After(start.Add(5*time.Second)) {
			late = true // a part opened after midnight there
		}
	}
	if !late {
		t.Error("no part of the call was opened after the hour: the test does not test it")
	}
}
