package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// This file re-reads what lc wrote with a second, independent decoder:
// pcapgo reads the files, gopacket's layers decode every record, and a
// Call-ID parser of its own reads the SIP. Nothing of lc's capture, decode
// or sip packages is used, so a record lc writes wrong, or files to the
// wrong call, shows up here even when lc's own reader agrees with its
// writer.

// writtenEvent is what the check reads of one --events line, file_closed
// or call_completed. It is declared here, field by field, rather than
// taken from internal/event, so that the JSON lc writes is what is checked.
type writtenEvent struct {
	Event   string `json:"event"`
	Path    string `json:"path"`
	Kind    string `json:"kind"`
	CallID  string `json:"callid"`
	Packets int64  `json:"packets"`
	Bytes   int64  `json:"bytes"`

	SIPFiles   []string        `json:"sip_files"`
	RTPFiles   []string        `json:"rtp_files"`
	SIPPackets int64           `json:"sip_packets"`
	RTPPackets int64           `json:"rtp_packets"`
	Streams    []writtenStream `json:"streams"`
}

// writtenStream is one media stream of a call_completed event.
type writtenStream struct {
	Media string `json:"media"`
	Addr  string `json:"addr"`
	RTCP  string `json:"rtcp"`
}

// captureOpeners open lc's output files by how their names end: plain
// pcap, and the copies --compress makes; every check applies to each.
var captureOpeners = []captureOpener{
	{".pcap", func(r io.Reader) (io.Reader, error) { return r, nil }, true},
	{".pcap.gz", func(r io.Reader) (io.Reader, error) { return gzip.NewReader(r) }, true},
	{".pcap.zst", func(r io.Reader) (io.Reader, error) { return zstd.NewReader(r) }, true},
}

// captureOpener reads the files whose names end in suffix.
type captureOpener struct {
	suffix string
	open   func(io.Reader) (io.Reader, error) // the pcap stream of a file's contents
	sized  bool                               // the file_closed event's bytes is the size on disk
}

// writtenRecord is one record of an output file, decoded by gopacket.
type writtenRecord struct {
	file  string
	index int // 1-based, in its file
	ci    gopacket.CaptureInfo
	pkt   gopacket.Packet
}

func (r *writtenRecord) String() string {
	return fmt.Sprintf("%s: record %d", filepath.Base(r.file), r.index)
}

// truncated says the record holds less than the packet that was captured.
func (r *writtenRecord) truncated() bool { return r.ci.CaptureLength < r.ci.Length }

// redecodeReport counts what checkRedecode read, for the test log.
type redecodeReport struct {
	Files, Calls, Records int
	Truncated             int // records shorter than their packet
	TCPSegments           int // in SIP files
	Fragments             int // IP fragments in call files, reassembled here
	// Backwards counts records older than the record before them in the
	// same file. lc writes records in the order it processes them: a
	// capture out of time order, a TCP message held until its last
	// segment, or IP fragments held until the datagram completes put an
	// older record after a newer one, so this is reported, not checked.
	Backwards int
	// InputUndecodable counts, by gopacket's error, records gopacket
	// cannot decode that are copies of input frames: the error is the
	// input's (a Content-Length of "bad", a VRRP packet with a wrong
	// address count), not how lc wrote it.
	InputUndecodable map[string]int
	Skipped          []string // files no opener reads
}

// checkRedecode re-reads the output directory out of an lc run whose
// --events lines are events. It checks that
//
//   - every file under out (lc's state under .lc aside) is named by a
//     file_closed event, and every file an event names is there;
//   - every call file is listed by the call_completed event of its
//     Call-ID, with the kind its file_closed event says;
//   - a file holds as many records as its event's packets, and as many
//     bytes as its event's bytes; a call's files hold its sip_packets and
//     rtp_packets;
//   - every record is a copy of a frame of the capture lc read, bytes and
//     timestamp;
//   - gopacket decodes every record without an error layer, unless the
//     record was cut short at capture (caplen < len) or gopacket fails on
//     the input frame it copies just the same;
//   - every datagram of a call's SIP files is a SIP message with the
//     call's Call-ID; TCP segments, which may carry any part of a message,
//     must be on a connection whose bytes in the call's SIP files carry
//     the Call-ID;
//   - every datagram of a call's RTP files is UDP from or to an address of
//     the call's streams (addr or rtcp);
//   - IP fragments in a call's files make up whole datagrams, which are
//     checked as above.
//
// A call's parts are read as one sequence, since lc may cut between two
// segments of a message or two fragments of a datagram.
func checkRedecode(tb testing.TB, capture, out string, events []byte) redecodeReport {
	tb.Helper()
	files, calls := readWrittenEvents(tb, events)
	rep := redecodeReport{InputUndecodable: map[string]int{}}
	input := inputFrames(tb, capture)
	rep.Files, rep.Calls = len(files), len(calls)
	checkNamed(tb, out, files)
	records := map[string][]writtenRecord{}
	for _, path := range slices.Sorted(maps.Keys(files)) {
		recs, ok := readWritten(tb, capture, path, files[path], input, &rep)
		if ok {
			records[path] = recs
		}
	}
	owner := map[string]string{} // call file → Call-ID of the call listing it
	for _, c := range calls {
		for _, group := range []struct {
			kind  string
			paths []string
			want  int64
		}{{"sip", c.SIPFiles, c.SIPPackets}, {"rtp", c.RTPFiles, c.RTPPackets}} {
			var recs []writtenRecord
			complete := true
			for _, p := range group.paths {
				owner[p] = c.CallID
				f, ok := files[p]
				switch {
				case !ok:
					tb.Errorf("call %q lists %s, of which there is no file_closed event", c.CallID, p)
				case f.Kind != group.kind || f.CallID != c.CallID:
					tb.Errorf("call %q lists %s among its %s files; its event says kind %q, Call-ID %q", c.CallID, p, group.kind, f.Kind, f.CallID)
				}
				r, ok := records[p]
				complete = complete && ok
				recs = append(recs, r...)
			}
			if !complete {
				continue
			}
			if int64(len(recs)) != group.want {
				tb.Errorf("call %q: its %s files hold %d records, its event says %s_packets %d", c.CallID, group.kind, len(recs), group.kind, group.want)
			}
			if group.kind == "sip" {
				checkSIPRecords(tb, c, recs, &rep)
			} else {
				checkRTPRecords(tb, c, recs, &rep)
			}
		}
	}
	for path, f := range files {
		if f.Kind != "other" && owner[path] == "" {
			tb.Errorf("%s: a %s file of call %q that no call_completed event lists", path, f.Kind, f.CallID)
		}
	}
	return rep
}

// readWrittenEvents returns the file_closed events by path and the
// call_completed events in order.
func readWrittenEvents(tb testing.TB, events []byte) (map[string]writtenEvent, []writtenEvent) {
	tb.Helper()
	files := map[string]writtenEvent{}
	var calls []writtenEvent
	for line := range bytes.Lines(events) {
		var e writtenEvent
		if err := json.Unmarshal(line, &e); err != nil {
			tb.Fatalf("event %q: %v", line, err)
		}
		switch e.Event {
		case "file_closed":
			if _, dup := files[e.Path]; dup {
				tb.Errorf("%s: two file_closed events", e.Path)
			}
			files[e.Path] = e
		case "call_completed":
			calls = append(calls, e)
		}
	}
	return files, calls
}

// checkNamed checks that the files under out and the files the events
// name are the same. lc names files by the output directory's path with
// its symlinks resolved.
func checkNamed(tb testing.TB, out string, files map[string]writtenEvent) {
	tb.Helper()
	if resolved, err := filepath.EvalSymlinks(out); err == nil {
		out = resolved
	}
	onDisk := map[string]bool{}
	err := walkOutput(out, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			onDisk[path] = true
			if _, ok := files[path]; !ok {
				tb.Errorf("%s: on disk, but no file_closed event names it", path)
			}
		}
		return err
	})
	if err != nil {
		tb.Fatalf("walk %s: %v", out, err)
	}
	for path := range files {
		if !onDisk[path] {
			tb.Errorf("%s: named by a file_closed event, but not under %s", path, out)
		}
	}
}

// readWritten reads and decodes every record of one output file, and
// checks its count, its size and that every record decodes. It reports
// false when the file cannot be read, or when no opener reads its name.
func readWritten(tb testing.TB, capture, path string, ev writtenEvent, input map[frameRecord]bool, rep *redecodeReport) ([]writtenRecord, bool) {
	tb.Helper()
	i := slices.IndexFunc(captureOpeners, func(o captureOpener) bool { return strings.HasSuffix(path, o.suffix) })
	if i < 0 {
		rep.Skipped = append(rep.Skipped, path)
		return nil, false
	}
	opener := captureOpeners[i]
	f, err := os.Open(path)
	if err != nil {
		tb.Errorf("%v", err)
		return nil, false
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && opener.sized && fi.Size() != ev.Bytes {
		tb.Errorf("%s: %d bytes on disk, its event says %d", path, fi.Size(), ev.Bytes)
	}
	plain, err := opener.open(bufio.NewReader(f))
	if err != nil {
		tb.Errorf("open %s: %v", path, err)
		return nil, false
	}
	r, err := pcapgo.NewReader(plain)
	if err != nil {
		tb.Errorf("read %s: %v", path, err)
		return nil, false
	}
	var recs []writtenRecord
	for {
		data, ci, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			tb.Errorf("read %s after %d records: %v", path, len(recs), err)
			return nil, false
		}
		rec := writtenRecord{file: path, index: len(recs) + 1, ci: ci, pkt: gopacket.NewPacket(data, decoderFor(r.LinkType()), gopacket.Default)}
		if n := len(recs); n > 0 && ci.Timestamp.Before(recs[n-1].ci.Timestamp) {
			rep.Backwards++
		}
		copied := input[frameRecord{ts: ci.Timestamp.UnixNano(), data: string(data)}]
		if !copied {
			tb.Errorf("%s: %d bytes at %s, a copy of no frame of %s", &rec, len(data), ci.Timestamp.Format(time.RFC3339Nano), filepath.Base(capture))
		}
		el := rec.pkt.ErrorLayer()
		switch {
		case rec.truncated():
			rep.Truncated++
		case el == nil:
		case copied:
			rep.InputUndecodable[el.Error().Error()]++
		default:
			tb.Errorf("%s: %s link: gopacket: %v", &rec, r.LinkType(), el.Error())
		}
		recs = append(recs, rec)
	}
	rep.Records += len(recs)
	if int64(len(recs)) != ev.Packets {
		tb.Errorf("%s: %d records, its event says %d packets", path, len(recs), ev.Packets)
	}
	return recs, true
}

// decoderFor returns the gopacket decoder of a link type's frames.
// gopacket names LINKTYPE_IPV4 and LINKTYPE_IPV6 but decodes neither as
// a link type; their frames are bare IP packets.
func decoderFor(link layers.LinkType) gopacket.Decoder {
	switch link {
	case layers.LinkTypeIPv4:
		return layers.LayerTypeIPv4
	case layers.LinkTypeIPv6:
		return layers.LayerTypeIPv6
	}
	return link
}

// inputFrames returns the frames of a pcap or pcapng capture, as far as
// they can be read: lc writes what it read before a damaged record.
func inputFrames(tb testing.TB, path string) map[frameRecord]bool {
	tb.Helper()
	frames := map[frameRecord]bool{}
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	br := bufio.NewReader(f)
	var r captureReader
	if magic, _ := br.Peek(4); len(magic) == 4 && binary.LittleEndian.Uint32(magic) == 0x0a0d0d0a { // pcapng section header block
		r, err = pcapgo.NewNgReader(br, pcapgo.NgReaderOptions{WantMixedLinkType: true})
	} else {
		r, err = pcapgo.NewReader(br)
	}
	for err == nil {
		var data []byte
		var ci gopacket.CaptureInfo
		if data, ci, err = r.ReadPacketData(); err == nil {
			frames[frameRecord{ts: ci.Timestamp.UnixNano(), data: string(data)}] = true
		}
	}
	if !errors.Is(err, io.EOF) {
		tb.Logf("input %s: %d frames read, then %v", filepath.Base(path), len(frames), err)
	}
	return frames
}

// checkSIPRecords checks the records of a call's SIP files.
func checkSIPRecords(tb testing.TB, c writtenEvent, recs []writtenRecord, rep *redecodeReport) {
	tb.Helper()
	carried := false
	streams := map[[2]netip.AddrPort][]byte{} // TCP bytes of each direction, in file order
	var segments []datagram
	for _, d := range datagrams(tb, c.CallID, "SIP", recs, rep) {
		if d.tcp {
			rep.TCPSegments++
			dir := [2]netip.AddrPort{d.src, d.dst}
			streams[dir] = append(streams[dir], d.payload...)
			segments = append(segments, d)
			continue
		}
		id, ok := sipCallID(d.payload)
		switch {
		case !ok && d.records[0].truncated():
			// cut short at capture before its Call-ID
		case !ok:
			tb.Errorf("call %q: %s: a UDP datagram %s → %s in its SIP file that is no SIP message with a Call-ID: %.80q", c.CallID, &d, d.src, d.dst, d.payload)
		case id != c.CallID:
			tb.Errorf("call %q: %s: a SIP message with Call-ID %q in its SIP file", c.CallID, &d, id)
		default:
			carried = true
		}
	}
	conns := map[connection]bool{}
	for dir, b := range streams {
		if slices.Contains(headerCallIDs(b), c.CallID) {
			conns[connectionOf(dir[0], dir[1])] = true
			carried = true
		}
	}
	for _, d := range segments {
		if !conns[connectionOf(d.src, d.dst)] {
			tb.Errorf("call %q: %s: a TCP segment %s → %s in its SIP file, on a connection whose bytes there carry no Call-ID %q", c.CallID, &d, d.src, d.dst, c.CallID)
		}
	}
	if len(recs) > 0 && !carried {
		tb.Errorf("call %q: its SIP files %q carry no message with its Call-ID", c.CallID, c.SIPFiles)
	}
}

// checkRTPRecords checks the records of a call's RTP files.
func checkRTPRecords(tb testing.TB, c writtenEvent, recs []writtenRecord, rep *redecodeReport) {
	tb.Helper()
	endpoints := map[netip.AddrPort]bool{}
	for _, s := range c.Streams {
		for _, a := range []string{s.Addr, s.RTCP} {
			if a == "" {
				continue
			}
			ap, err := netip.ParseAddrPort(a)
			if err != nil {
				tb.Errorf("call %q: stream %+v: %v", c.CallID, s, err)
				continue
			}
			endpoints[netip.AddrPortFrom(ap.Addr().Unmap().WithZone(""), ap.Port())] = true
		}
	}
	for _, d := range datagrams(tb, c.CallID, "RTP", recs, rep) {
		src := netip.AddrPortFrom(d.src.Addr().WithZone(""), d.src.Port())
		dst := netip.AddrPortFrom(d.dst.Addr().WithZone(""), d.dst.Port())
		switch {
		case d.tcp:
			tb.Errorf("call %q: %s: TCP %s → %s in its RTP file", c.CallID, &d, d.src, d.dst)
		case !endpoints[src] && !endpoints[dst]:
			tb.Errorf("call %q: %s: UDP %s → %s in its RTP file, to and from none of its streams %+v", c.CallID, &d, d.src, d.dst, c.Streams)
		}
	}
}

// sipCallID returns the Call-ID of a SIP message: msg must start with a
// request or status line, and its header must have a Call-ID (or, in
// compact form, i) header, whose value may be folded over lines.
func sipCallID(msg []byte) (string, bool) {
	lines := headerLines(msg)
	if len(lines) == 0 || !isSIPStartLine(lines[0]) {
		return "", false
	}
	for _, l := range lines[1:] {
		if v, ok := callIDValue(l); ok {
			return v, true
		}
	}
	return "", false
}

// headerLines returns the start line and the header lines of a message,
// up to the blank line, with folded lines joined to the one before.
func headerLines(msg []byte) []string {
	var lines []string
	for raw := range strings.Lines(string(msg)) {
		l := strings.TrimRight(raw, "\r\n")
		switch {
		case l == "":
			return lines
		case (l[0] == ' ' || l[0] == '\t') && len(lines) > 1:
			lines[len(lines)-1] += " " + strings.TrimSpace(l)
		default:
			lines = append(lines, l)
		}
	}
	return lines
}

// isSIPStartLine reports whether l is a SIP status line
// ("SIP/2.0 200 OK") or request line ("INVITE sip:b@h SIP/2.0").
func isSIPStartLine(l string) bool {
	if strings.HasPrefix(l, "SIP/2.0 ") {
		return true
	}
	f := strings.Fields(l)
	return len(f) == 3 && f[2] == "SIP/2.0"
}

// callIDValue returns the value of a Call-ID or i header line; the name
// is case-insensitive, and white space may come before the colon.
func callIDValue(l string) (string, bool) {
	name, value, ok := strings.Cut(l, ":")
	if !ok {
		return "", false
	}
	name = strings.TrimRight(name, " \t")
	if !strings.EqualFold(name, "Call-ID") && !strings.EqualFold(name, "i") {
		return "", false
	}
	return strings.TrimSpace(value), true
}

// headerCallIDs returns the values of every Call-ID or i line of a TCP
// byte stream, which may hold many messages and begin or end inside one.
func headerCallIDs(stream []byte) []string {
	var ids []string
	for raw := range strings.Lines(string(stream)) {
		if v, ok := callIDValue(strings.TrimRight(raw, "\r\n")); ok {
			ids = append(ids, v)
		}
	}
	return ids
}
