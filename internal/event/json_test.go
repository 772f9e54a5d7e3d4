package event

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func testCall() CallCompleted {
	start := time.Date(2024, 3, 1, 10, 0, 0, 120_000_000, time.UTC)
	return CallCompleted{
		CallID: "a84b4c76e66710@pc33", Dirname: "/out/calls/2024-03-01/100000_a84b4c76e66710_pc33",
		Caller: "alice@example.com", Called: "bob@example.com",
		CallDate: start, EndDate: start.Add(1550 * time.Millisecond),
		State: StateCompleted, Status: 200, Follows: "",
		SIPFiles:   []string{"/out/c/x_sip.pcap", "/out/c/x_sip_1.pcap"},
		RTPFiles:   []string{"/out/c/x_rtp.pcap"},
		SIPPackets: 9, RTPPackets: 120,
		Streams: []Stream{{Media: "audio", Addr: "10.0.0.1:4000", RTCP: "10.0.0.1:4001", Packets: 120}},
		Errors:  []string{},
	}
}

func testFile() FileClosed {
	return FileClosed{Path: "/out/other/2024-03-01/20240301_100000.pcap", Kind: KindOther, Reason: ReasonIdle,
		Packets: 3, Bytes: 300, First: time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC), Last: time.Date(2024, 3, 1, 10, 0, 2, 5000, time.UTC)}
}

func TestAppendJSON(t *testing.T) {
	for _, tc := range []struct {
		name string
		ev   Event
		want string
	}{
		{"call", testCall(), `{"event":"call_completed","event_id":"","callid":"a84b4c76e66710@pc33","dirname":"/out/calls/2024-03-01/100000_a84b4c76e66710_pc33",` +
			`"caller":"alice@example.com","called":"bob@example.com","calldate":"2024-03-01T10:00:00.12Z","calldate_epoch":1709287200.12,` +
			`"enddate":"2024-03-01T10:00:01.67Z","enddate_epoch":1709287201.67,"duration":1.55,"state":"completed","status":200,"partial":false,` +
			`"follows":"","files":["/out/c/x_sip.pcap","/out/c/x_sip_1.pcap","/out/c/x_rtp.pcap"],"sip_files":["/out/c/x_sip.pcap","/out/c/x_sip_1.pcap"],` +
			`"rtp_files":["/out/c/x_rtp.pcap"],"sippcap":"/out/c/x_sip.pcap","rtppcap":"/out/c/x_rtp.pcap","sip_packets":9,"rtp_packets":120,` +
			`"streams":[{"media":"audio","addr":"10.0.0.1:4000","rtcp":"10.0.0.1:4001","packets":120}],"incomplete":false,"errors":[]}`},
		{"file", testFile(), `{"event":"file_closed","event_id":"","path":"/out/other/2024-03-01/20240301_100000.pcap","basename":"20240301_100000.pcap",` +
			`"dirname":"/out/other/2024-03-01","kind":"other","callid":"","part":0,"reason":"idle","packets":3,"bytes":300,` +
			`"first":"2024-03-01T10:00:00Z","first_epoch":1709287200,"last":"2024-03-01T10:00:02.000005Z","last_epoch":1709287202.000005,"error":""}`},
		{"empty file", FileClosed{Path: "/o/x.pcap", Kind: KindSIP, CallID: "c\"<1>\x00"}, `{"event":"file_closed","event_id":"","path":"/o/x.pcap","basename":"x.pcap",` +
			`"dirname":"/o","kind":"sip","callid":"c\"<1>\u0000","part":0,"reason":"","packets":0,"bytes":0,` +
			`"first":"","first_epoch":0,"last":"","last_epoch":0,"error":""}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := string(AppendJSON(nil, tc.ev))
			if got != tc.want {
				t.Errorf("AppendJSON:\n got %s\nwant %s", got, tc.want)
			}
			if !json.Valid([]byte(got)) {
				t.Errorf("not valid JSON: %s", got)
			}
			var viaEncoder strings.Builder
			enc := json.NewEncoder(&viaEncoder)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(tc.ev); err != nil || viaEncoder.String() != got+"\n" {
				t.Errorf("json.Encoder = %s, %v; want AppendJSON's output", viaEncoder.String(), err)
			}
		})
	}
}

func TestDecodeRoundTrip(t *testing.T) {
	for _, ev := range []Event{testCall(), testFile(), CallCompleted{CallID: "x"}, FileClosed{}} {
		data := AppendJSON(nil, ev)
		back, err := Decode(data)
		if err != nil {
			t.Fatalf("Decode(%s): %v", data, err)
		}
		if again := AppendJSON(nil, back); string(again) != string(data) {
			t.Errorf("round trip:\n got %s\nwant %s", again, data)
		}
		if back.Key() != ev.Key() || back.Type() != ev.Type() {
			t.Errorf("round trip changed key or type: %s %s", back.Key(), back.Type())
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	for in, want := range map[string]string{
		``:                                   "event: EOF",
		`[]`:                                 "event: json: cannot unmarshal array",
		`{}`:                                 `"event" is not a string`,
		`{"event":"call_started"}`:           `unknown event "call_started"`,
		`{"event":"file_closed","part":"1"}`: `field "part"`,
		`{"event":"file_closed","first":"yesterday"}`:  `field "first"`,
		`{"event":"call_completed","streams":[1]}`:     `field "streams"`,
		`{"event":"call_completed","sip_files":"a b"}`: `field "sip_files"`,
	} {
		_, err := Decode([]byte(in))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Decode(%q) = %v, want an error containing %q", in, err, want)
		}
	}
}

func TestKeyAndLogAttrs(t *testing.T) {
	call, file := testCall(), testFile()
	callFile := FileClosed{Path: "/x", CallID: call.CallID}
	if call.Key() != callFile.Key() || call.Key() == file.Key() {
		t.Errorf("keys: call %q, its file %q, other file %q", call.Key(), callFile.Key(), file.Key())
	}
	if got := LogAttrs(callFile); len(got) != 6 || got[2] != "path" || got[4] != "callid" {
		t.Errorf("LogAttrs(call's file) = %v", got)
	}
	if got := LogAttrs(file); len(got) != 4 || got[2] != "path" {
		t.Errorf("LogAttrs(other file) = %v", got)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(AppendJSON(nil, testCall()))
	f.Add(AppendJSON(nil, testFile()))
	f.Add([]byte(`{"event":"call_completed","streams":[{"packets":1e3}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, err := Decode(data)
		if err != nil {
			return
		}
		once := AppendJSON(nil, ev)
		back, err := Decode(once)
		if err != nil {
			t.Fatalf("Decode of its own output %s: %v", once, err)
		}
		if twice := AppendJSON(nil, back); string(twice) != string(once) {
			t.Fatalf("not stable:\n%s\n%s", once, twice)
		}
	})
}

// FuzzAppendString: strings are written as an encoding/json Encoder
// without HTML escaping writes them.
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "a\"b\\c", "<&>", "\x00\x1f\t\n\r", "\u2028\u2029", "\xff\xfe", "é😀"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var want strings.Builder
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
		if got := string(appendString(nil, s)) + "\n"; got != want.String() {
			t.Fatalf("appendString(%q) = %s, encoding/json: %s", s, got, want.String())
		}
	})
}

// TestIdentified: the ID depends on the content only, not on a previous
// ID, and survives the JSON round trip.
func TestIdentified(t *testing.T) {
	a := Identified(testCall()).(CallCompleted)
	if len(a.ID) != 32 {
		t.Fatalf("ID = %q", a.ID)
	}
	if b := Identified(a).(CallCompleted); b.ID != a.ID {
		t.Errorf("identifying again changed the ID: %s, %s", a.ID, b.ID)
	}
	other := testCall()
	other.RTPPackets++
	if c := Identified(other).(CallCompleted); c.ID == a.ID {
		t.Error("two different calls share an ID")
	}
	back, err := Decode(AppendJSON(nil, a))
	if err != nil || back.(CallCompleted).ID != a.ID {
		t.Errorf("ID after the round trip = %v, %v", back, err)
	}
	if f := Identified(testFile()).(FileClosed); f.ID == "" || f.ID == a.ID {
		t.Errorf("file ID = %q", f.ID)
	}
}
