package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/lc-voip/lc/internal/processor"
	"github.com/lc-voip/lc/internal/testenv"
)

// diffKind says how lc and tshark may differ on a capture or a call.
type diffKind int

const (
	// unreadableCapture: tshark cannot read the capture; lc must exit 1
	// with an error that names it.
	unreadableCapture diffKind = iota
	// callNotFollowed: tshark dissects the call's SIP on a transport lc does
	// not decode; lc must write no file for the Call-ID.
	callNotFollowed
	// sipMissing: frames tshark attributes to the call that lc leaves out of
	// its SIP file.
	sipMissing
	// sipExtra: frames in lc's SIP file that tshark does not attribute to
	// the call.
	sipExtra
	// mediaMissing: media frames tshark ties to the call's SDP that lc
	// leaves out of its RTP file.
	mediaMissing
	// partialCalls: lc follows Call-IDs that tshark sees only in mid-dialog
	// messages (ACK, BYE, CANCEL, PRACK, UPDATE, INFO and their responses)
	// as partial calls, where the oracle wants an INVITE. Such calls are
	// compared like the others, and lc must mark them partial.
	partialCalls
	// partiesDiffer: lc's caller or called (UserHost of From or To) is not
	// tshark's sip.from.user@sip.from.host or sip.to.user@sip.to.host in the
	// call's first message.
	partiesDiffer
)

func (k diffKind) String() string {
	switch k {
	case unreadableCapture:
		return "unreadable capture"
	case callNotFollowed:
		return "call not followed"
	case sipMissing:
		return "SIP frames missing"
	case sipExtra:
		return "extra SIP frames"
	case mediaMissing:
		return "media frames missing"
	case partialCalls:
		return "partial calls"
	case partiesDiffer:
		return "caller or called differs"
	}
	return "diffKind(" + strconv.Itoa(int(k)) + ")"
}

// expectedDiff is a difference between lc and tshark that is right by
// design. Each one must still occur, exactly, so the table stays true.
type expectedDiff struct {
	capture string // path below the pcaps directory
	callID  string // "" for the capture as a whole
	kind    diffKind
	frames  []int // the frames that differ, for the frame kinds
	reason  string
}

// expectedDiffs lists the differences that are right by design.
var expectedDiffs = []expectedDiff{
	{
		capture: "pkts/cool.pcap",
		kind:    unreadableCapture,
		reason:  "big-endian file header with little-endian record headers: corrupt on purpose",
	},
	{
		capture: "heplify/sip_sctp.pcap",
		callID:  "717B2539AD2002C9152DC497@0870ffffffff",
		kind:    callNotFollowed,
		reason:  "SIP over SCTP, which lc does not decode; its frames go to the other files",
	},
	{
		capture: "heplify/sip_tcp_websocket.pcap",
		callID:  "kovfhoptshgn59q712sr",
		kind:    sipMissing,
		frames:  []int{10, 11, 13, 15, 16, 18, 19, 24, 33, 34, 45, 46, 49, 52, 56},
		reason: "the browser leg is SIP over WebSocket on TCP 8080, which lc does not decode; " +
			"lc follows the call on its UDP leg and writes the WebSocket frames to the other files",
	},
	{
		capture: "heplify/sip_ipv6_udp.pcap",
		callID:  "c3eF6f58-363323Cd-8058EB88-10300252@fe80:0:0:0:21a:a0ff:fe07:32e0",
		kind:    partiesDiffer,
		reason: "From and To have unbracketed IPv6 hosts (sip:9876@fe80:0:0:0:21a:a0ff:fe07:32e0); " +
			"tshark ends the host at its first colon and shows 9876@fe80 and 4321@fec0, lc keeps the whole address",
	},
	{
		capture: "heplify/sip_ipv4_tcp_fragmented.pcap",
		kind:    partialCalls,
		reason:  "the capture starts after the INVITE of dialogs it holds only a BYE or UPDATE of",
	},
	{
		capture: "heplify/FAX-Call-t38-CA-TDM-SIP-FB-1.pcap",
		kind:    partialCalls,
		reason: "frames 7208-7209 answer a BYE with Call-ID 1111-2222-3333-4444@1.1.1.1, of no dialog " +
			"in the capture (their X-Leg names the real call); lc takes them for a call that started earlier",
	},
}

// expectations are the expected differences of one capture.
type expectations []expectedDiff

func expectationsFor(capture string) expectations {
	var out expectations
	for _, d := range expectedDiffs {
		if d.capture == capture {
			out = append(out, d)
		}
	}
	return out
}

func (e expectations) capture(kind diffKind) (expectedDiff, bool) {
	return e.call("", kind)
}

func (e expectations) call(callID string, kind diffKind) (expectedDiff, bool) {
	for _, d := range e {
		if d.callID == callID && d.kind == kind {
			return d, true
		}
	}
	return expectedDiff{}, false
}

func TestConformance(t *testing.T) {
	dir, captures := testenv.SharedCaptures(t)
	tshark := testenv.Command(t, "tshark")
	for _, name := range captures {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			checkCapture(t, tshark, dir, name)
		})
	}
}

// checkCapture runs lc and tshark on one capture and compares them call
// by call.
func checkCapture(t *testing.T, tshark, dir, name string) {
	path := filepath.Join(dir, filepath.FromSlash(name))
	want := expectationsFor(name)
	run := runLC(t, path)
	rows, tsharkErr := runTshark(t, tshark, path, tsharkDecodeAs[name])

	if d, ok := want.capture(unreadableCapture); ok {
		checkUnreadable(t, run, path, tsharkErr, d)
		return
	}
	if tsharkErr != nil {
		t.Fatal(tsharkErr)
	}
	if run.status != exitOK {
		t.Fatalf("lc exit status %d, want %d; stderr:\n%s", run.status, exitOK, run.stderr)
	}
	input := readInput(t, path)
	checkAccounting(t, input, run.outDir)

	oracle := tsharkOracle(rows)
	if oracle.ambiguousMedia > 0 {
		t.Logf("%d media frames are set up by frames with several Call-IDs; not checked", oracle.ambiguousMedia)
	}
	ids := comparedCallIDs(oracle, run)
	checkExpectedCalls(t, want, ids)
	checkPartialCalls(t, oracle, run, want)
	var sipFrames, mediaFrames int
	other := input.framesOf(t, run.other)
	for _, id := range ids {
		tc := oracle.calls[id]
		if tc == nil {
			tc = &tsharkCall{sip: frameSet{}, media: frameSet{}}
		}
		sipFrames += len(tc.sip)
		mediaFrames += len(tc.media)
		checkCall(t, input, other, run.calls[id], id, tc, want)
	}
	checkExpectedParties(t, want, run)
	t.Logf("%d calls compared: %d SIP frames, %d media frames by tshark; %d input frames", len(ids), sipFrames, mediaFrames, input.count)
}

// comparedCallIDs returns the Call-IDs tshark sees in an INVITE dialog,
// then those only lc follows, each group sorted.
func comparedCallIDs(oracle tsharkView, run lcRun) []string {
	var ids, lcOnly []string
	for _, id := range slices.Sorted(maps.Keys(oracle.calls)) {
		if oracle.calls[id].invite {
			ids = append(ids, id)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(run.calls)) {
		if c := oracle.calls[id]; c == nil || !c.invite {
			lcOnly = append(lcOnly, id)
		}
	}
	return append(ids, lcOnly...)
}

// checkPartialCalls checks the calls lc follows that tshark sees in no
// INVITE dialog: they must be expected and marked partial.
func checkPartialCalls(t *testing.T, oracle tsharkView, run lcRun, want expectations) {
	t.Helper()
	d, expected := want.capture(partialCalls)
	var n int
	for _, id := range slices.Sorted(maps.Keys(run.calls)) {
		if c := oracle.calls[id]; c != nil && c.invite {
			continue
		}
		n++
		switch {
		case !expected:
			t.Errorf("call %q: lc follows it, but tshark sees it in no INVITE dialog", id)
		case !run.calls[id].partial:
			t.Errorf("call %q: tshark sees no INVITE for it, but lc does not mark it partial", id)
		}
	}
	if expected && n == 0 {
		t.Errorf("expected %s (%s), but lc follows none", d.kind, d.reason)
	}
}

// checkExpectedCalls reports expected differences of calls that neither
// tool sees, so the table names only real calls.
func checkExpectedCalls(t *testing.T, want expectations, ids []string) {
	t.Helper()
	for _, d := range want {
		if d.callID != "" && !slices.Contains(ids, d.callID) {
			t.Errorf("expected %s for call %q (%s), but neither lc nor tshark sees the call", d.kind, d.callID, d.reason)
		}
	}
}

// checkUnreadable checks a capture that neither tool can read.
func checkUnreadable(t *testing.T, run lcRun, path string, tsharkErr error, d expectedDiff) {
	t.Helper()
	if tsharkErr == nil {
		t.Errorf("expected %s (%s), but tshark reads the capture", d.kind, d.reason)
	}
	if run.status != exitError {
		t.Errorf("lc exit status %d, want %d (%s); stderr:\n%s", run.status, exitError, d.reason, run.stderr)
	}
	if !strings.Contains(run.stderr, path) {
		t.Errorf("lc's error does not name %s; stderr:\n%s", path, run.stderr)
	}
}

// checkCall compares lc's files of one Call-ID with tshark's view of it.
// other holds the frames of lc's "other" files.
func checkCall(t *testing.T, input *frameIndex, other frameSet, lc *lcCall, id string, tc *tsharkCall, want expectations) {
	t.Helper()
	if d, ok := want.call(id, callNotFollowed); ok {
		if lc != nil {
			t.Errorf("call %q: expected %s (%s), but lc wrote %d SIP and %d RTP files",
				id, d.kind, d.reason, len(lc.sip), len(lc.rtp))
		}
		return
	}
	if lc == nil {
		t.Errorf("call %q: lc wrote no file; tshark sees SIP frames %s and %d media frames",
			id, frameList(tc.sip.sorted()), len(tc.media))
		return
	}
	lcSIP := input.framesOf(t, lc.sip)
	lcRTP := input.framesOf(t, lc.rtp)
	missing := tc.sip.minus(lcSIP)
	expected := frameSet{}
	if d, ok := want.call(id, sipMissing); ok {
		expected.add(d.frames...) // missing for another reason, late or not
	}
	if late := lateFrames(input, missing.minus(expected), other, lc.ends); len(late) > 0 {
		t.Logf("call %q: SIP frames %s came after the call ended, and are in the other files as late messages", id, frameList(late.sorted()))
		missing = missing.minus(late)
	}
	checkDiff(t, id, "in tshark's SIP but not in lc's SIP file", missing, want, sipMissing)
	checkDiff(t, id, "in lc's SIP file but not in tshark's SIP", lcSIP.minus(tc.sip), want, sipExtra)
	checkDiff(t, id, "tied by tshark to the call's SDP but not in lc's RTP file", tc.media.minus(lcRTP), want, mediaMissing)
	checkParties(t, lc, id, tc, want)
	if extra := lcRTP.minus(tc.media); len(extra) > 0 {
		t.Logf("call %q: lc's RTP file has %d frames tshark does not tie to the call's SDP", id, len(extra))
	}
}

// checkParties compares lc's caller and called of a call with the From and
// To user@host tshark shows in the call's first message that opens a call.
func checkParties(t *testing.T, lc *lcCall, id string, tc *tsharkCall, want expectations) {
	t.Helper()
	switch tc.parties {
	case partiesNone:
		t.Errorf("call %q: tshark shows no message that opens it", id)
		return
	case partiesAmbiguous:
		t.Logf("call %q: its first message shares a frame with others whose From and To tshark does not tell apart; caller and called not checked", id)
		return
	}
	if !lc.completed {
		t.Errorf("call %q: lc reported no call_completed event", id)
		return
	}
	d, expected := want.call(id, partiesDiffer)
	differ := lc.caller != tc.caller || lc.called != tc.called
	switch {
	case differ && !expected:
		t.Errorf("call %q: lc's caller %q and called %q, tshark's From %q and To %q", id, lc.caller, lc.called, tc.caller, tc.called)
	case differ:
		t.Logf("call %q: lc's caller %q and called %q, tshark's From %q and To %q: %s", id, lc.caller, lc.called, tc.caller, tc.called, d.reason)
	case expected:
		t.Errorf("call %q: expected %s (%s), but lc and tshark agree on %q and %q", id, d.kind, d.reason, lc.caller, lc.called)
	}
}

// checkExpectedParties reports expected differences of caller and called
// for calls lc does not follow, which checkParties never sees.
func checkExpectedParties(t *testing.T, want expectations, run lcRun) {
	t.Helper()
	for _, d := range want {
		if d.kind == partiesDiffer && run.calls[d.callID] == nil {
			t.Errorf("expected %s for call %q (%s), but lc does not follow the call", d.kind, d.callID, d.reason)
		}
	}
}

// checkDiff reports the frames of a difference that no expected
// difference covers, and expected frames that no longer differ.
func checkDiff(t *testing.T, id, what string, got frameSet, want expectations, kind diffKind) {
	t.Helper()
	d, _ := want.call(id, kind)
	allowed := frameSet{}
	allowed.add(d.frames...)
	if bad := got.minus(allowed); len(bad) > 0 {
		t.Errorf("call %q: frames %s: %s", id, what, frameList(bad.sorted()))
	}
	if stale := allowed.minus(got); len(stale) > 0 {
		t.Errorf("call %q: expected %s %s (%s) no longer differ", id, d.kind, frameList(stale.sorted()), d.reason)
	}
}

// checkAccounting checks that every input frame is in some output file.
func checkAccounting(t *testing.T, input *frameIndex, outDir string) {
	t.Helper()
	var files []string
	err := walkOutput(outDir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && filepath.Ext(path) == ".pcap" {
			files = append(files, path)
		}
		return err
	})
	if err != nil {
		t.Fatalf("walk output: %v", err)
	}
	written := frameSet{}
	for _, f := range files {
		for n := range input.framesOf(t, []string{f}) {
			written.add(n)
		}
	}
	all := frameSet{}
	for n := 1; n <= input.count; n++ {
		all.add(n)
	}
	if lost := all.minus(written); len(lost) > 0 {
		t.Errorf("%d of %d input frames are in no output file: %s", len(lost), input.count, frameList(lost.sorted()))
	}
}

// lateWindow is how long after a call's end and its grace period lc
// keeps the messages of its Call-ID out of new calls: 64×T1.
const lateWindow = 32 * time.Second

// lateFrames returns the frames of frames that lc wrote to its other files
// as late messages of an ended call: after one of the call's last packets
// (its enddate), and within the grace period and lateWindow after it.
func lateFrames(input *frameIndex, frames, other frameSet, ends []time.Time) frameSet {
	late := frameSet{}
	for n := range frames {
		if _, ok := other[n]; !ok {
			continue
		}
		at := time.Unix(0, input.times[n-1])
		for _, end := range ends {
			if at.After(end) && !at.After(end.Add(processor.DefaultGrace+lateWindow)) {
				late.add(n)
				break
			}
		}
	}
	return late
}

// lcCall is what lc reported for one Call-ID.
type lcCall struct {
	sip, rtp []string    // files
	ends     []time.Time // enddate of each call_completed
	partial  bool        // the capture started after the call's INVITE
	// completed says a call_completed event came; caller and called are
	// those of the first.
	completed      bool
	caller, called string
}

// lcRun is the outcome of one lc process run.
type lcRun struct {
	status int
	stderr string
	outDir string
	calls  map[string]*lcCall
	other  []string // the other files
}

// runLC runs lc process on a capture in-process.
func runLC(tb testing.TB, capturePath string) lcRun {
	tb.Helper()
	tmp := tb.TempDir()
	run := lcRun{outDir: filepath.Join(tmp, "out")}
	events := filepath.Join(tmp, "events.jsonl")
	args := []string{"process", "-r", capturePath, "-o", run.outDir, "--events", events, "--progress", "never"}
	var stdout, stderr bytes.Buffer
	run.status = execute(tb.Context(), args, streams{in: strings.NewReader(""), out: &stdout, err: &stderr, lookupEnv: noEnv, abort: context.Background()})
	run.stderr = stderr.String()
	if run.status == exitUsage {
		tb.Fatalf("lc %s: usage error:\n%s", strings.Join(args, " "), run.stderr)
	}
	run.calls, run.other = readEvents(tb, events)
	return run
}

// lcEvent is the part of lc's file_closed and call_completed events the
// test reads.
type lcEvent struct {
	Event   string `json:"event"`
	Path    string `json:"path"`
	Kind    string `json:"kind"`
	CallID  string `json:"callid"`
	Partial bool   `json:"partial"`
	Caller  string `json:"caller"`
	Called  string `json:"called"`
	EndDate string `json:"enddate"`
}

// readEvents returns what lc reported for each call, and its other files.
func readEvents(tb testing.TB, path string) (map[string]*lcCall, []string) {
	tb.Helper()
	calls := map[string]*lcCall{}
	var other []string
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return calls, nil
	}
	if err != nil {
		tb.Fatalf("read events: %v", err)
	}
	for line := range bytes.Lines(data) {
		var e lcEvent
		if err := json.Unmarshal(line, &e); err != nil {
			tb.Fatalf("event %q: %v", line, err)
		}
		if e.CallID == "" {
			if e.Event == "file_closed" && e.Kind == "other" {
				other = append(other, e.Path)
			}
			continue
		}
		c := calls[e.CallID]
		if c == nil {
			c = &lcCall{}
			calls[e.CallID] = c
		}
		switch {
		case e.Event == "call_completed":
			c.partial = e.Partial
			end, err := time.Parse(time.RFC3339Nano, e.EndDate)
			if err != nil {
				tb.Fatalf("event %q: enddate: %v", line, err)
			}
			c.ends = append(c.ends, end)
			if !c.completed {
				c.completed, c.caller, c.called = true, e.Caller, e.Called
			}
		case e.Event == "file_closed" && e.Kind == "sip":
			c.sip = append(c.sip, e.Path)
		case e.Event == "file_closed" && e.Kind == "rtp":
			c.rtp = append(c.rtp, e.Path)
		}
	}
	return calls, other
}

// frameRecord is one captured frame: its time in nanoseconds and its bytes.
type frameRecord struct {
	ts   int64
	data string
}

// frameIndex maps records to their 1-based positions in the input.
type frameIndex struct {
	count    int
	byRecord map[frameRecord][]int
	times    []int64 // of each frame, in nanoseconds, frame 1 first
}

// captureReader is what pcapgo's pcap and pcapng readers have in common.
type captureReader interface {
	ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
}

// readInput reads a pcap or pcapng capture, whatever its name says.
func readInput(tb testing.TB, path string) *frameIndex {
	tb.Helper()
	records, err := readRecords(path, func(r *bufio.Reader) (captureReader, error) {
		magic, err := r.Peek(4)
		if err != nil {
			return nil, err
		}
		if binary.LittleEndian.Uint32(magic) == 0x0a0d0d0a { // pcapng section header block
			return pcapgo.NewNgReader(r, pcapgo.NgReaderOptions{WantMixedLinkType: true})
		}
		return pcapgo.NewReader(r)
	})
	if err != nil {
		tb.Fatalf("read input: %v", err)
	}
	ix := &frameIndex{count: len(records), byRecord: map[frameRecord][]int{}}
	for i, r := range records {
		ix.byRecord[r] = append(ix.byRecord[r], i+1)
		ix.times = append(ix.times, r.ts)
	}
	return ix
}

// readOutput reads one of lc's classic pcap files.
func readOutput(tb testing.TB, path string) []frameRecord {
	tb.Helper()
	records, err := readRecords(path, func(r *bufio.Reader) (captureReader, error) { return pcapgo.NewReader(r) })
	if err != nil {
		tb.Fatalf("read output: %v", err)
	}
	return records
}

func readRecords(path string, open func(*bufio.Reader) (captureReader, error)) ([]frameRecord, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, err := open(bufio.NewReader(f))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var records []frameRecord
	for {
		data, ci, err := r.ReadPacketData()
		if err == io.EOF {
			return records, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: record %d: %w", path, len(records)+1, err)
		}
		records = append(records, frameRecord{ts: ci.Timestamp.UnixNano(), data: string(data)})
	}
}

// framesOf maps the records of lc's files to input frame numbers. Records
// that occur several times in the input are matched as a multiset.
func (ix *frameIndex) framesOf(tb testing.TB, files []string) frameSet {
	tb.Helper()
	seen := map[frameRecord]int{}
	out := frameSet{}
	for _, f := range files {
		for i, r := range readOutput(tb, f) {
			frames := ix.byRecord[r]
			n := seen[r]
			if n >= len(frames) {
				tb.Errorf("%s: record %d (%d bytes) is not a copy of an input frame", f, i+1, len(r.data))
				continue
			}
			seen[r] = n + 1
			out.add(frames[n])
		}
	}
	return out
}

// frameSet is a set of 1-based input frame numbers.
type frameSet map[int]struct{}

func (s frameSet) add(frames ...int) {
	for _, n := range frames {
		s[n] = struct{}{}
	}
}

func (s frameSet) minus(o frameSet) frameSet {
	out := frameSet{}
	for n := range s {
		if _, ok := o[n]; !ok {
			out.add(n)
		}
	}
	return out
}

func (s frameSet) sorted() []int {
	return slices.Sorted(maps.Keys(s))
}

// frameList formats frame numbers for a failure message, at most 20.
func frameList(frames []int) string {
	const limit = 20
	var b strings.Builder
	for i, n := range frames {
		if i == limit {
			fmt.Fprintf(&b, " ... (%d more)", len(frames)-limit)
			break
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.Itoa(n))
	}
	return "[" + b.String() + "]"
}

// noEnv is an empty environment: lc reads no LC_* variable or config file
// of the machine it is tested on.
func noEnv(string) (string, bool) { return "", false }
