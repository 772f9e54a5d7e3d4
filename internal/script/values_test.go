package script

import (
	"slices"
	"testing"

	"github.com/lc-voip/lc/internal/processor"
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
		{"per kind", sip, rtp, "cmd %rtpfiles% -- %sipfiles%", slices.Concat([]string{"cmd"}, rtp, []string{"--"}, sip)},
		{"no file", nil, nil, "cmd %callid% %files%", []string{"cmd", "c1"}},
		{"empty scalar stays an argument", sip[:1], nil, "cmd %sippcap% %rtppcap%", []string{"cmd", sip[0], ""}},
		{"first parts", sip, rtp, "cmd %sippcap% %rtppcap%", []string{"cmd", sip[0], rtp[0]}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tp, err := ParseTemplate(tt.tmpl, CallPlaceholders)
			if err != nil {
				t.Fatal(err)
			}
			ev := processor.CallCompleted{CallID: "c1", SIPFiles: tt.sip, RTPFiles: tt.rtp}
			if got := tp.Render(CallValues(ev)).Argv; !slices.Equal(got, tt.want) {
				t.Errorf("Argv = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestCallPlaceholdersKinds pins which --voip-command placeholders are
// lists, and that --pcap-command has none.
func TestCallPlaceholdersKinds(t *testing.T) {
	tp, err := ParseTemplate("cmd %files% %sipfiles% %rtpfiles% %sippcap% %rtppcap% %callid%", CallPlaceholders)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range tp.Names() {
		if want := n == "files" || n == "sipfiles" || n == "rtpfiles"; tp.IsList(n) != want {
			t.Errorf("IsList(%q) = %v", n, !want)
		}
	}
	if _, err := ParseTemplate("gzip %files%", PcapPlaceholders); err == nil {
		t.Error("list placeholder accepted in a --pcap-command")
	}
	if _, err := ParseTemplate("gzip '%files%'", CallPlaceholders); err == nil {
		t.Error("quoted list placeholder accepted")
	}
}
