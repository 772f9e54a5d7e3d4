package script

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/lc-voip/lc/internal/event"
	"github.com/lc-voip/lc/internal/script/template"
)

// TestCallValuesLists checks the list placeholders of --voip-command
// against calls with no RTP, with several parts, and with no file.
func TestCallValuesLists(t *testing.T) {
	sip := []string{"/o/c/x_sip.pcap", "/o/c/x_sip_1.pcap"}
	rtp := []string{"/o/c/x_rtp.pcap", "/o/c/x_rtp_1.pcap", "/o/c/x_rtp_2.pcap"}
	tests := []struct {
		name     string
		sip, rtp []string
		tmpl     string
		want     []string
	}{
		{"no RTP", sip[:1], nil, "gzip -9 %files%", []string{"gzip", "-9", sip[0]}},
		{"parts", sip, rtp, "gzip -9 %files%", slices.Concat([]string{"gzip", "-9"}, sip, rtp)},
		{"per kind", sip, rtp, "cmd %rtp_files% -- %sip_files%", slices.Concat([]string{"cmd"}, rtp, []string{"--"}, sip)},
		{"no file", nil, nil, "cmd %callid% %files%", []string{"cmd", "c1"}},
		{"empty scalar stays an argument", sip[:1], nil, "cmd %sippcap% %rtppcap%", []string{"cmd", sip[0], ""}},
		{"first parts", sip, rtp, "cmd %sippcap% %rtppcap%", []string{"cmd", sip[0], rtp[0]}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tp, err := template.Parse(tt.tmpl, Placeholders(event.TypeCallCompleted))
			if err != nil {
				t.Fatal(err)
			}
			ev := event.CallCompleted{CallID: "c1", SIPFiles: tt.sip, RTPFiles: tt.rtp}
			if got := tp.Render(values(ev)).Argv; !slices.Equal(got, tt.want) {
				t.Errorf("Argv = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestCallPlaceholdersKinds pins which --voip-command placeholders are
// lists, and that --pcap-command has none.
func TestCallPlaceholdersKinds(t *testing.T) {
	tp, err := template.Parse("cmd %files% %sip_files% %rtp_files% %errors% %sippcap% %rtppcap% %callid%", Placeholders(event.TypeCallCompleted))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range tp.Names() {
		if want := n == "files" || n == "sip_files" || n == "rtp_files" || n == "errors"; tp.IsList(n) != want {
			t.Errorf("IsList(%q) = %v", n, !want)
		}
	}
	if _, err := template.Parse("gzip %files%", Placeholders(event.TypeFileClosed)); err == nil {
		t.Error("list placeholder accepted in a --pcap-command")
	}
	if _, err := template.Parse("gzip '%files%'", Placeholders(event.TypeCallCompleted)); err == nil {
		t.Error("quoted list placeholder accepted")
	}
}

// TestPlaceholdersMatchFields: every scalar field of both events is a
// placeholder whose value is the field's text, the same as its JSON
// string or number, so the renderings agree; %pcap% is the path.
func TestPlaceholdersMatchFields(t *testing.T) {
	call := event.CallCompleted{CallID: "c1", Status: 486, Incomplete: true, State: event.StateFailed,
		CallDate: time.Date(2024, 3, 1, 10, 0, 0, 5e8, time.UTC), EndDate: time.Date(2024, 3, 1, 10, 0, 1, 55e7, time.UTC)}
	file := event.FileClosed{Path: "/o/x.pcap", Kind: event.KindOther, Packets: 3}
	for _, ev := range []event.Event{call, file} {
		var m map[string]any
		if err := json.Unmarshal(event.AppendJSON(nil, ev), &m); err != nil {
			t.Fatal(err)
		}
		vals := values(ev)
		for _, f := range event.Fields(ev.Type()) {
			if f.Kind == event.Strings || f.Kind == event.Streams {
				continue
			}
			want := fmt.Sprint(m[f.Name])
			if f.Kind == event.Seconds || f.Kind == event.Epoch || f.Kind == event.Int {
				want = strconv.FormatFloat(m[f.Name].(float64), 'f', -1, 64)
			}
			if got := vals(f.Name); got != want {
				t.Errorf("%s %%%s%% = %q, JSON has %q", ev.Type(), f.Name, got, want)
			}
		}
	}
	if got := values(file)("pcap"); got != file.Path {
		t.Errorf("%%pcap%% = %q", got)
	}
	if got := values(call)("duration"); got != "1.05" {
		t.Errorf("%%duration%% = %q, want 1.05", got)
	}
}
