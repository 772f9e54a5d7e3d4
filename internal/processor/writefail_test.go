package processor

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/lc-voip/lc/internal/capture"
	"github.com/lc-voip/lc/internal/event"
	"github.com/lc-voip/lc/internal/testenv"
	"github.com/lc-voip/lc/internal/testpcap"
)

// faultyDisk makes the files a run opens behave as on a disk with budget
// bytes free: the write that reaches the limit puts what fits in the file
// and fails with ENOSPC, as write(2) does on a full disk. The processing
// goroutine and the writer's both write to it.
type faultyDisk struct {
	mu          sync.Mutex
	budget      int64
	truncateErr error // returned by every Truncate when set
}

// faultyFile is a file on a faultyDisk.
type faultyFile struct {
	fileHandle
	path string
	disk *faultyDisk
}

func (d *faultyDisk) wrap(path string, f fileHandle) fileHandle {
	return &faultyFile{fileHandle: f, path: path, disk: d}
}

func (f *faultyFile) Write(b []byte) (int, error) {
	f.disk.mu.Lock()
	defer f.disk.mu.Unlock()
	if int64(len(b)) <= f.disk.budget {
		f.disk.budget -= int64(len(b))
		return f.fileHandle.Write(b)
	}
	n, err := f.fileHandle.Write(b[:f.disk.budget])
	f.disk.budget -= int64(n)
	if err == nil {
		err = &fs.PathError{Op: "write", Path: f.path, Err: syscall.ENOSPC}
	}
	return n, err
}

func (f *faultyFile) Truncate(size int64) error {
	if f.disk.truncateErr != nil {
		return &fs.PathError{Op: "truncate", Path: f.path, Err: f.disk.truncateErr}
	}
	return f.fileHandle.Truncate(size)
}

// runOnDisk runs pkts with the output in out, on disk when disk is not
// nil, as lc does: it stops feeding at the first error and closes. It
// returns the run, its stats and how many packets were fed.
func runOnDisk(t *testing.T, out string, pkts []testpcap.Packet, disk *faultyDisk, tune func(*Config)) (*outputRun, Stats, int) {
	t.Helper()
	r := startRun(t, out, tune)
	if disk != nil {
		r.p.files.wrap = disk.wrap
		r.p.files.inStep = true
	}
	fed := 0
	for _, p := range pkts {
		if r.err != nil {
			break
		}
		r.feed(p)
		fed++
	}
	return r, r.close(), fed
}

// fileEvents returns the run's event.FileClosed events by path.
func fileEvents(r *outputRun) map[string]event.FileClosed {
	files := map[string]event.FileClosed{}
	for _, e := range r.events {
		if fc, ok := e.(event.FileClosed); ok {
			files[fc.Path] = fc
		}
	}
	return files
}

// readCapture reads the pcap at path with the capture reader and returns
// its packets, the times of the first and last, and the error that ended
// the reading, nil at a clean end.
func readCapture(path string) (n int64, first, last time.Time, err error) {
	f, err := capture.OpenFile(path, 0)
	if err != nil {
		return 0, first, last, err
	}
	defer f.Close()
	for {
		p, err := f.Next()
		if err == io.EOF {
			return n, first, last, nil
		}
		if err != nil {
			return n, first, last, err
		}
		if n == 0 {
			first = p.Info.Timestamp
		}
		last = p.Info.Timestamp
		n++
	}
}

// checkFileOnDisk asserts that the file fc reports is on disk as it says:
// its size, and records that read cleanly, or no file at all when fc says
// none could be written.
func checkFileOnDisk(t *testing.T, fc event.FileClosed) {
	t.Helper()
	fi, err := os.Stat(fc.Path)
	if errors.Is(err, fs.ErrNotExist) {
		if fc.Bytes != 0 || fc.Packets != 0 || fc.Error == "" {
			t.Errorf("no file at %s, but its event says %d packets, %d bytes, error %q", fc.Path, fc.Packets, fc.Bytes, fc.Error)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() != fc.Bytes {
		t.Errorf("%s: %d bytes on disk, its event says %d", fc.Path, fi.Size(), fc.Bytes)
	}
	n, first, last, err := readCapture(fc.Path)
	if err != nil {
		t.Errorf("%s does not read cleanly: %v", fc.Path, err)
	}
	if n != fc.Packets {
		t.Errorf("%s: %d packets on disk, its event says %d", fc.Path, n, fc.Packets)
	}
	if n > 0 && (!first.Equal(fc.First) || !last.Equal(fc.Last)) {
		t.Errorf("%s: packets from %v to %v, its event says %v to %v", fc.Path, first, last, fc.First, fc.Last)
	}
}

// checkTruthful asserts that everything the run reported is on disk: each
// file as its event says, each call's packet counts as its files hold, a
// call with a failed file incomplete, every file on disk reported, and the
// counts adding up to what the files hold.
func checkTruthful(t *testing.T, r *outputRun, st Stats) {
	t.Helper()
	files := fileEvents(r)
	var inFiles int64
	for _, fc := range files {
		checkFileOnDisk(t, fc)
		inFiles += fc.Packets
	}
	for _, e := range r.events {
		c, ok := e.(event.CallCompleted)
		if !ok {
			continue
		}
		var sip, rtp int64
		var failed bool
		for _, p := range c.SIPFiles {
			sip += files[p].Packets
			failed = failed || files[p].Error != ""
		}
		for _, p := range c.RTPFiles {
			rtp += files[p].Packets
			failed = failed || files[p].Error != ""
		}
		if c.SIPPackets != sip || c.RTPPackets != rtp {
			t.Errorf("call %s reports %d SIP and %d RTP packets, its files hold %d and %d", c.CallID, c.SIPPackets, c.RTPPackets, sip, rtp)
		}
		if failed && !c.Incomplete || c.Incomplete != (len(c.Errors) > 0) {
			t.Errorf("call %s: incomplete %v, errors %q, a file failed: %v", c.CallID, c.Incomplete, c.Errors, failed)
		}
	}
	written := st.Written[event.KindSIP] + st.Written[event.KindRTP] + st.Written[event.KindOther]
	if written != inFiles {
		t.Errorf("%d records counted as written, the files hold %d", written, inFiles)
	}
	checkFailed(t, st, st.Failed)
	err := filepath.WalkDir(r.out, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if _, ok := files[path]; !ok {
				t.Errorf("%s is on disk without an event", path)
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// onlyCall returns the run's one event.CallCompleted.
func onlyCall(t *testing.T, r *outputRun) event.CallCompleted {
	t.Helper()
	var calls []event.CallCompleted
	for _, e := range r.events {
		if c, ok := e.(event.CallCompleted); ok {
			calls = append(calls, c)
		}
	}
	if len(calls) != 1 {
		t.Fatalf("%d calls reported, want 1", len(calls))
	}
	return calls[0]
}

// cutCallTraffic is one call whose files are flushed at its end, and a
// disk that takes the SIP file whole and the RTP file's header and two
// and a half of its records.
func cutCallTraffic(t *testing.T) ([]testpcap.Packet, *faultyDisk, event.CallCompleted) {
	tl := &testpcap.Timeline{Now: t0}
	tl.BasicCall(testpcap.NewDialog(1), 5)
	clean, _, _ := runOnDisk(t, t.TempDir(), tl.Pkts, nil, nil)
	call := onlyCall(t, clean)
	files := fileEvents(clean)
	sip, rtp := files[call.SIPFiles[0]], files[call.RTPFiles[0]]
	record := (rtp.Bytes - pcapHeaderLen) / rtp.Packets
	return tl.Pkts, &faultyDisk{budget: sip.Bytes + pcapHeaderLen + 2*record + record/2}, call
}

// TestWriteFailsAtClose fills the disk while a call's files are flushed at
// its end: the RTP file keeps its first two records, cut back after the
// second, and its event, the call's and the counts say so.
func TestWriteFailsAtClose(t *testing.T) {
	pkts, disk, clean := cutCallTraffic(t)
	r, st, _ := runOnDisk(t, t.TempDir(), pkts, disk, nil)
	if !errors.Is(r.err, syscall.ENOSPC) {
		t.Fatalf("run error = %v, want ENOSPC", r.err)
	}
	checkTruthful(t, r, st)
	call := onlyCall(t, r)
	rtp := fileEvents(r)[call.RTPFiles[0]]
	if rtp.Packets != 2 || !strings.Contains(rtp.Error, "no space left on device") || !strings.Contains(rtp.Error, rtp.Path) {
		t.Errorf("RTP file event = %+v, want 2 packets and the disk full error naming the file", rtp)
	}
	if sip := fileEvents(r)[call.SIPFiles[0]]; sip.Error != "" || sip.Packets != clean.SIPPackets {
		t.Errorf("SIP file event = %+v, want it whole", sip)
	}
	if !call.Incomplete || len(call.Errors) != 1 || call.Errors[0] != rtp.Error || call.State != clean.State {
		t.Errorf("call = incomplete %v, errors %q, state %s; want incomplete with the RTP file's error, state %s",
			call.Incomplete, call.Errors, call.State, clean.State)
	}
	if want := clean.RTPPackets - 2; st.Failed != want || st.FileErrors != 1 {
		t.Errorf("%d packets failed in %d files, want %d in 1", st.Failed, st.FileErrors, want)
	}
}

// TestTruncatedFileReadsInTshark checks a file cut back after a failed
// write with tshark.
func TestTruncatedFileReadsInTshark(t *testing.T) {
	tshark := testenv.Command(t, "tshark")
	pkts, disk, _ := cutCallTraffic(t)
	r, _, _ := runOnDisk(t, t.TempDir(), pkts, disk, nil)
	rtp := fileEvents(r)[onlyCall(t, r).RTPFiles[0]]
	if rtp.Error == "" {
		t.Fatalf("the RTP file did not fail: %+v", rtp)
	}
	out, err := exec.Command(tshark, "-r", rtp.Path).CombinedOutput()
	if err != nil {
		t.Fatalf("tshark -r %s: %v\n%s", rtp.Path, err, out)
	}
	var frames int64
	for _, line := range strings.Split(string(out), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "Running as user") {
			frames++
		}
	}
	if frames != rtp.Packets {
		t.Errorf("tshark reads %d frames, the event says %d:\n%s", frames, rtp.Packets, out)
	}
}

// TestWriteFailsMidRun fills the disk when a full buffer is written in
// the middle of a call: processing stops with the error, the call's files
// hold what reached them and the call is incomplete.
func TestWriteFailsMidRun(t *testing.T) {
	tl := &testpcap.Timeline{Now: t0}
	tl.BasicCall(testpcap.NewDialog(1), 300)
	r, st, fed := runOnDisk(t, t.TempDir(), tl.Pkts, &faultyDisk{budget: 2*pcapHeaderLen + writeBufferSize*3/2}, nil)
	if !errors.Is(r.err, syscall.ENOSPC) || fed == len(tl.Pkts) || st.Packets != int64(fed) {
		t.Fatalf("run error %v after %d of %d packets (%d counted), want ENOSPC stopping the run", r.err, fed, len(tl.Pkts), st.Packets)
	}
	checkTruthful(t, r, st)
	call := onlyCall(t, r)
	files := fileEvents(r)
	for _, p := range call.Files() {
		if files[p].Error == "" {
			t.Errorf("%s did not fail: %+v", p, files[p])
		}
	}
	if call.State != event.StateShutdown || !call.Incomplete || len(call.Errors) != 2 {
		t.Errorf("call = state %s, incomplete %v, errors %q; want shutdown, incomplete, 2 errors", call.State, call.Incomplete, call.Errors)
	}
	if rtp := files[call.RTPFiles[0]]; rtp.Packets == 0 || rtp.Bytes <= writeBufferSize {
		t.Errorf("RTP file = %+v, want the records of its first two writes", rtp)
	}
}

// TestWriteFailsBehind fills the disk under the writer without waiting
// for each write, as in a real run: the failure reaches the processor some
// buffers later, and every packet accepted after it is still accounted
// for: in the files as their events say, or failed.
func TestWriteFailsBehind(t *testing.T) {
	tl := &testpcap.Timeline{Now: t0}
	for i := range 20 {
		tl.Now = t0.Add(time.Duration(i) * 10 * ms)
		tl.BasicCall(testpcap.NewDialog(i), 400)
	}
	slices.SortStableFunc(tl.Pkts, func(a, b testpcap.Packet) int { return a.Time.Compare(b.Time) })
	disk := &faultyDisk{budget: 20*pcapHeaderLen + 5*writeBufferSize}
	r := startRun(t, t.TempDir(), nil)
	r.p.files.wrap = disk.wrap
	for _, p := range tl.Pkts {
		if r.err != nil {
			break
		}
		r.feed(p)
	}
	st := r.close()
	if !errors.Is(r.err, syscall.ENOSPC) {
		t.Fatalf("run error = %v, want ENOSPC", r.err)
	}
	checkTruthful(t, r, st)
	if st.Failed == 0 || st.FileErrors == 0 {
		t.Errorf("%d packets failed in %d files, want some", st.Failed, st.FileErrors)
	}
}

// TestOtherFileFails fills the disk while "other" traffic is written: the
// "other" file is cut at a record boundary and its event says so.
func TestOtherFileFails(t *testing.T) {
	tl := &testpcap.Timeline{Now: t0}
	d := testpcap.NewDialog(1)
	payload := make([]byte, 700)
	for range 200 {
		tl.Add(testpcap.UDP(d.CallerRTP, d.CalleeRTP, payload), ms)
	}
	r, st, _ := runOnDisk(t, t.TempDir(), tl.Pkts, &faultyDisk{budget: pcapHeaderLen + writeBufferSize*5/2}, nil)
	if !errors.Is(r.err, syscall.ENOSPC) {
		t.Fatalf("run error = %v, want ENOSPC", r.err)
	}
	checkTruthful(t, r, st)
	files := fileEvents(r)
	if len(files) != 1 {
		t.Fatalf("%d files reported, want 1", len(files))
	}
	for _, fc := range files {
		record := int64(pcapRecordLen + len(tl.Pkts[0].Data))
		if fc.Kind != event.KindOther || fc.Error == "" || fc.Packets != (fc.Bytes-pcapHeaderLen)/record || (fc.Bytes-pcapHeaderLen)%record != 0 {
			t.Errorf("other file = %+v, want a failed file of whole %d-byte records", fc, record)
		}
		if fc.Packets != st.Written[event.KindOther] || st.Failed != st.Packets-fc.Packets {
			t.Errorf("%d packets in the file, %d counted written and %d failed of %d", fc.Packets, st.Written[event.KindOther], st.Failed, st.Packets)
		}
	}
}

// TestCutBackFails makes the truncation after a failed write fail too: the
// error says so and the event counts the bytes of the record left cut.
func TestCutBackFails(t *testing.T) {
	pkts, disk, _ := cutCallTraffic(t)
	disk.truncateErr = syscall.EIO
	r, _, _ := runOnDisk(t, t.TempDir(), pkts, disk, nil)
	rtp := fileEvents(r)[onlyCall(t, r).RTPFiles[0]]
	if !strings.Contains(rtp.Error, "no space left on device; cutting it back to its last complete record at") ||
		!strings.Contains(rtp.Error, "input/output error") {
		t.Errorf("error = %q, want the write's and the truncation's", rtp.Error)
	}
	fi, err := os.Stat(rtp.Path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() != rtp.Bytes {
		t.Errorf("%d bytes on disk, the event says %d", fi.Size(), rtp.Bytes)
	}
	n, _, _, err := readCapture(rtp.Path)
	if !errors.Is(err, capture.ErrTruncated) || n != rtp.Packets || rtp.Packets != 2 {
		t.Errorf("read %d packets, then %v; want the event's %d whole packets, then a cut record", n, err, rtp.Packets)
	}
}

// TestHeaderFails fills the disk inside a new file's header: the file is
// removed, and its event says that nothing was written and why.
func TestHeaderFails(t *testing.T) {
	tl := &testpcap.Timeline{Now: t0}
	tl.BasicCall(testpcap.NewDialog(1), 2)
	r, st, fed := runOnDisk(t, t.TempDir(), tl.Pkts, &faultyDisk{budget: 10}, nil)
	if !errors.Is(r.err, syscall.ENOSPC) || fed != 1 {
		t.Fatalf("run error %v after %d packets, want ENOSPC at the first", r.err, fed)
	}
	checkTruthful(t, r, st)
	call := onlyCall(t, r)
	sip := fileEvents(r)[call.SIPFiles[0]]
	if sip.Bytes != 0 || !strings.Contains(sip.Error, "write header: no space left on device (file removed)") {
		t.Errorf("SIP file event = %+v, want no bytes and the header's error", sip)
	}
	if !call.Incomplete || st.Failed != 1 || st.FileErrors != 1 {
		t.Errorf("incomplete %v, %d failed packets, %d failed files; want true, 1, 1", call.Incomplete, st.Failed, st.FileErrors)
	}
}

// TestEvictionFails fills the disk when a file is flushed to make room
// for another under the open-file limit: the evicted file is cut back and
// the packet that needed the room is counted as failed.
func TestEvictionFails(t *testing.T) {
	open, next, _ := evictionTraffic()
	r, st, _ := runOnDisk(t, t.TempDir(), append(open, next), &faultyDisk{budget: 2*pcapHeaderLen + 5}, func(c *Config) { c.MaxOpenFiles = 2 })
	if !errors.Is(r.err, syscall.ENOSPC) || !strings.Contains(r.err.Error(), "make room for") {
		t.Fatalf("run error = %v, want ENOSPC making room", r.err)
	}
	checkTruthful(t, r, st)
	if st.Failed != 3 || st.FileErrors != 3 {
		t.Errorf("%d packets failed in %d files, want 3 in 3", st.Failed, st.FileErrors)
	}
}

// TestLargeRecordFails fails the write of a record larger than the buffer,
// which is written on its own: the file is cut back to the records before
// it, and the record counts as never accepted.
func TestLargeRecordFails(t *testing.T) {
	root := testRoot(t, t.TempDir())
	disk := &faultyDisk{budget: pcapHeaderLen + pcapRecordLen + 10 + 100}
	var st Stats
	fc := newFileCache(4, root, &st, nil)
	fc.wrap = disk.wrap
	fc.inStep = true
	pf := &pcapFile{path: filepath.Join(root.path, "large.pcap"), kind: event.KindOther, format: format{linkType: uint32(layers.LinkTypeEthernet)}}
	pkt := func(size int) *capture.Packet {
		return &capture.Packet{Data: make([]byte, size), Info: gopacket.CaptureInfo{Timestamp: t0, CaptureLength: size, Length: size}}
	}
	if err := fc.write(pf, pkt(10)); err != nil {
		t.Fatal(err)
	}
	if err := fc.write(pf, pkt(writeBufferSize+1)); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("large write = %v, want ENOSPC", err)
	}
	if err := fc.write(pf, pkt(10)); !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("write after the failure = %v, want the file's error", err)
	}
	if err := fc.closeAll(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(pf.path)
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(pcapHeaderLen + pcapRecordLen + 10); fi.Size() != want || pf.disk.bytes != want || pf.disk.packets != 1 {
		t.Errorf("%d bytes on disk, %+v reported; want %d bytes, 1 packet", fi.Size(), pf.disk, want)
	}
	if st.Failed != 0 || st.FileErrors != 1 {
		t.Errorf("%d records lost in %d files, want 0 (the large one was never accepted) in 1", st.Failed, st.FileErrors)
	}
}
