package main

import (
	"bytes"
	"fmt"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// tsharkFields are the columns the oracle asks tshark for, in this order.
var tsharkFields = []string{
	"frame.number",
	"sip.Call-ID",
	"sip.Method",
	"sip.CSeq.method",
	"ip.fragment",   // frames of the IPv4 datagrams reassembled in this frame
	"ipv6.fragment", // frames of the IPv6 datagrams reassembled in this frame
	"tcp.segment",   // frames of the TCP PDUs reassembled in this frame
	"rtp.setup-frame",
	"rtcp.setup-frame",
	"t38.setup-frame",
	"sip.from.user",
	"sip.from.host",
	"sip.to.user",
	"sip.to.host",
}

// tsharkAggregator separates the occurrences of a field within one column;
// it cannot occur in a Call-ID.
const tsharkAggregator = "\x1f"

// tsharkDecodeAs holds the extra arguments a capture needs for tshark to
// dissect its SIP, keyed by the capture's path below the pcaps directory.
var tsharkDecodeAs = map[string][]string{
	// SIP over TCP on port 6060, which Wireshark gives to another protocol.
	"heplify/sip_ipv4_tcp_fragmented.pcap": {"-d", "tcp.port==6060,sip"},
}

// tsharkFrame is one row of tshark's field output: one input frame.
type tsharkFrame struct {
	number      int
	callIDs     []string // one per SIP message in the frame
	methods     []string // request methods of those messages
	cseqMethods []string // CSeq methods, one per message
	fragments   []int    // IPv4/IPv6 fragments reassembled in this frame
	segments    []int    // TCP segments reassembled in this frame
	setupFrames []int    // SIP frames whose SDP set up this frame's RTP, RTCP or T.38
	// The user and host parts of the From and To URIs of the frame's
	// messages; a part a message lacks has no occurrence.
	fromUsers, fromHosts, toUsers, toHosts []string
}

// tsharkCall is what tshark attributes to one Call-ID.
type tsharkCall struct {
	invite bool     // some message of the Call-ID has method or CSeq method INVITE
	sip    frameSet // frames that carry the Call-ID's SIP, fragments and segments included
	media  frameSet // RTP, RTCP and T.38 tied to the Call-ID's SDP
	// parties says how caller and called were found: from the first
	// message of the Call-ID that would open a call in lc.
	parties        partiesFound
	caller, called string // user@host of that message's From and To, as UserHost joins them
}

// partiesFound says whether a tsharkCall's caller and called are known.
type partiesFound int

const (
	partiesNone      partiesFound = iota // no message of the Call-ID opens a call
	partiesKnown                         // caller and called hold tshark's values
	partiesAmbiguous                     // the message shares its frame with others and its fields cannot be told apart
)

// tsharkView is tshark's view of one capture.
type tsharkView struct {
	calls map[string]*tsharkCall // every Call-ID tshark sees
	// ambiguousMedia counts media frames set up by a frame that carries
	// SIP of several Call-IDs; they are checked against no call.
	ambiguousMedia int
}

// tsharkArgs returns the command line that dissects capture once and
// prints tsharkFields. RTP is found through SDP only, not heuristically.
func tsharkArgs(capturePath string, extra []string) []string {
	args := []string{
		"-r", capturePath, "-n",
		"-o", "rtp.heuristic_rtp:FALSE",
		"-T", "fields",
		"-E", "separator=/t",
		"-E", "occurrence=a",
		"-E", "aggregator=" + tsharkAggregator,
	}
	args = append(args, extra...)
	for _, f := range tsharkFields {
		args = append(args, "-e", f)
	}
	return args
}

// runTshark dissects a capture with tshark and returns one row per frame.
func runTshark(tb testing.TB, tshark, capturePath string, extra []string) ([]tsharkFrame, error) {
	tb.Helper()
	cmd := exec.CommandContext(tb.Context(), tshark, tsharkArgs(capturePath, extra)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("tshark %s: %w: %s", capturePath, err, strings.TrimSpace(stderr.String()))
	}
	var frames []tsharkFrame
	for line := range strings.Lines(string(out)) {
		f, err := parseTsharkFrame(strings.TrimRight(line, "\r\n"))
		if err != nil {
			return nil, fmt.Errorf("tshark %s: %w", capturePath, err)
		}
		frames = append(frames, f)
	}
	return frames, nil
}

// parseTsharkFrame parses one tab-separated row in tsharkFields order.
func parseTsharkFrame(line string) (tsharkFrame, error) {
	cols := strings.Split(line, "\t")
	if len(cols) != len(tsharkFields) {
		return tsharkFrame{}, fmt.Errorf("row %q: %d columns, want %d", line, len(cols), len(tsharkFields))
	}
	num, err := strconv.Atoi(cols[0])
	if err != nil {
		return tsharkFrame{}, fmt.Errorf("row %q: frame number: %w", line, err)
	}
	f := tsharkFrame{
		number:      num,
		callIDs:     splitOccurrences(cols[1]),
		methods:     splitOccurrences(cols[2]),
		cseqMethods: splitOccurrences(cols[3]),
		fromUsers:   splitOccurrences(cols[10]),
		fromHosts:   splitOccurrences(cols[11]),
		toUsers:     splitOccurrences(cols[12]),
		toHosts:     splitOccurrences(cols[13]),
	}
	for _, c := range []struct {
		dst  *[]int
		cols []string
	}{
		{&f.fragments, cols[4:6]},
		{&f.segments, cols[6:7]},
		{&f.setupFrames, cols[7:10]},
	} {
		for _, col := range c.cols {
			nums, err := frameNumbers(col)
			if err != nil {
				return tsharkFrame{}, fmt.Errorf("frame %d: %w", num, err)
			}
			*c.dst = append(*c.dst, nums...)
		}
	}
	return f, nil
}

// splitOccurrences splits a column into the field's occurrences.
func splitOccurrences(col string) []string {
	if col == "" {
		return nil
	}
	return strings.Split(col, tsharkAggregator)
}

// frameNumbers parses a column of frame numbers.
func frameNumbers(col string) ([]int, error) {
	var nums []int
	for _, s := range splitOccurrences(col) {
		n, err := strconv.Atoi(s)
		if err != nil {
			return nil, fmt.Errorf("frame number %q: %w", s, err)
		}
		nums = append(nums, n)
	}
	return nums, nil
}

// inviteCallIDs returns the Call-IDs of the frame's messages that belong
// to an INVITE transaction. When messages of several calls share the
// frame, the CSeq methods, one per message, say which ones.
func (f tsharkFrame) inviteCallIDs() []string {
	ids := slices.Compact(slices.Sorted(slices.Values(f.callIDs)))
	if len(ids) > 1 && len(f.cseqMethods) == len(f.callIDs) {
		var invite []string
		for i, m := range f.cseqMethods {
			if m == "INVITE" {
				invite = append(invite, f.callIDs[i])
			}
		}
		return invite
	}
	if slices.Contains(f.methods, "INVITE") || slices.Contains(f.cseqMethods, "INVITE") {
		return ids
	}
	return nil
}

// tsharkOracle turns tshark's rows into its per-call view. A frame with a
// Call-ID contributes itself, the fragments reassembled in it, and the
// TCP segments reassembled in it with their own fragments.
func tsharkOracle(frames []tsharkFrame) tsharkView {
	view := tsharkView{calls: map[string]*tsharkCall{}}
	call := func(id string) *tsharkCall {
		c := view.calls[id]
		if c == nil {
			c = &tsharkCall{sip: frameSet{}, media: frameSet{}}
			view.calls[id] = c
		}
		return c
	}
	byNumber := make(map[int]tsharkFrame, len(frames))
	for _, f := range frames {
		byNumber[f.number] = f
	}
	for _, f := range frames {
		for _, id := range f.callIDs {
			call(id).sip.add(carrierFrames(f, byNumber)...)
		}
		for _, id := range f.inviteCallIDs() {
			call(id).invite = true
		}
		notePartiesOf(f, call)
	}
	for _, f := range frames {
		owners := map[string]bool{}
		for _, setup := range f.setupFrames {
			for _, id := range byNumber[setup].callIDs {
				owners[id] = true
			}
		}
		if len(owners) > 1 {
			view.ambiguousMedia++
			continue
		}
		for id := range owners {
			call(id).media.add(carrierFrames(f, byNumber)...)
		}
	}
	return view
}

// opensCall lists the CSeq methods of the messages that open a call in lc
// when their Call-ID is new (see startsCall in internal/processor).
var opensCall = []string{"INVITE", "ACK", "BYE", "CANCEL", "PRACK", "UPDATE", "INFO"}

// notePartiesOf records the caller and called of the calls whose first
// call-opening message is in f: the From and To user@host of that message.
func notePartiesOf(f tsharkFrame, call func(string) *tsharkCall) {
	from, to, aligned := f.parties()
	for i, id := range f.callIDs {
		c := call(id)
		if c.parties != partiesNone || len(f.cseqMethods) != len(f.callIDs) ||
			!slices.Contains(opensCall, f.cseqMethods[i]) {
			continue
		}
		if !aligned {
			c.parties = partiesAmbiguous
			continue
		}
		c.parties, c.caller, c.called = partiesKnown, from[i], to[i]
	}
}

// parties returns the From and To user@host of each message of the frame,
// joined as lc's UserHost joins them (the host alone without a user), and
// whether they could be told apart. With one message they are the first
// occurrences (a repeated header counts once, as in lc); with several, every
// message must have each of the four parts.
func (f tsharkFrame) parties() (from, to []string, aligned bool) {
	n := len(f.callIDs)
	if n == 1 {
		first := func(s []string) string {
			if len(s) == 0 {
				return ""
			}
			return s[0]
		}
		return []string{joinUserHost(first(f.fromUsers), first(f.fromHosts))},
			[]string{joinUserHost(first(f.toUsers), first(f.toHosts))}, true
	}
	for _, col := range [][]string{f.fromUsers, f.fromHosts, f.toUsers, f.toHosts} {
		if len(col) != n {
			return nil, nil, false
		}
	}
	for i := range n {
		from = append(from, joinUserHost(f.fromUsers[i], f.fromHosts[i]))
		to = append(to, joinUserHost(f.toUsers[i], f.toHosts[i]))
	}
	return from, to, true
}

// joinUserHost joins tshark's user and host fields as lc's UserHost does.
func joinUserHost(user, host string) string {
	if user == "" {
		return host
	}
	return user + "@" + host
}

// carrierFrames returns the frames whose bytes make up what tshark
// dissects in f: f, its reassembled fragments, and its TCP segments with
// their fragments.
func carrierFrames(f tsharkFrame, byNumber map[int]tsharkFrame) []int {
	out := append([]int{f.number}, f.fragments...)
	for _, seg := range f.segments {
		out = append(out, seg)
		if seg != f.number {
			out = append(out, byNumber[seg].fragments...)
		}
	}
	return out
}
