package processor

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/lc-voip/lc/internal/capture"
	"github.com/lc-voip/lc/internal/event"
	"github.com/lc-voip/lc/internal/testpcap"
)

// outputRun drives a Processor packet by packet, so that a test can change
// the output tree between two packets, and keeps what the run reports.
type outputRun struct {
	t      *testing.T
	p      *Processor
	out    string // the output directory as New resolved it
	frame  int
	events []event.Event
	err    error // the first error Packet or Close returned
}

// startRun returns a run writing under out with the configuration tune
// makes.
func startRun(t *testing.T, out string, tune func(*Config)) *outputRun {
	t.Helper()
	r := &outputRun{t: t}
	cfg := DefaultConfig()
	cfg.OutputDir = out
	cfg.Emit = func(e event.Event) { r.events = append(r.events, e) }
	if tune != nil {
		tune(&cfg)
	}
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r.p, r.out = p, p.cfg.OutputDir
	return r
}

// feed hands pkts to the processor, keeping the first error.
func (r *outputRun) feed(pkts ...testpcap.Packet) {
	for _, tp := range pkts {
		r.frame++
		pkt := &capture.Packet{
			Data:     tp.Data,
			Info:     gopacket.CaptureInfo{Timestamp: tp.Time, CaptureLength: len(tp.Data), Length: len(tp.Data)},
			LinkType: uint16(layers.LinkTypeEthernet),
			Frame:    r.frame,
		}
		if err := r.p.Packet(pkt); err != nil && r.err == nil {
			r.err = err
		}
	}
}

// close ends the run and returns its stats.
func (r *outputRun) close() Stats {
	if err := r.p.Close(); err != nil && r.err == nil {
		r.err = err
	}
	return r.p.Stats()
}

// checkFailed asserts that the counts add up and that want packets are
// counted as failed: the packets write failures kept out of the files.
func checkFailed(t *testing.T, st Stats, want int64) {
	t.Helper()
	written := st.Written[event.KindSIP] + st.Written[event.KindRTP] + st.Written[event.KindOther]
	if n := st.Packets - (written - st.Copies + st.Filtered + st.Failed); n != 0 {
		t.Errorf("counts do not add up: %d packets unaccounted for in %+v", n, st)
	}
	if st.Failed != want {
		t.Errorf("%d packets counted as failed, want %d", st.Failed, want)
	}
}

// checkEventPaths asserts that every path in the events is absolute and
// beneath out, and that every call has a directory name.
func checkEventPaths(t *testing.T, out string, events []event.Event) {
	t.Helper()
	beneath := func(what, p string) {
		if !filepath.IsAbs(p) || !strings.HasPrefix(p, out+string(filepath.Separator)) {
			t.Errorf("%s %q is not an absolute path beneath %q", what, p, out)
		}
	}
	for _, e := range events {
		switch e := e.(type) {
		case event.FileClosed:
			beneath("file_closed path", e.Path)
		case event.CallCompleted:
			beneath("dirname", e.Dirname)
			for _, f := range e.Files() {
				beneath("call file", f)
			}
		}
	}
}

// checkEmpty asserts that nothing was written in dir.
func checkEmpty(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("%s was written in %s", e.Name(), dir)
	}
}

// callDate is the dated directory of the calls the tests make, beneath
// calls/: the day, then the hour, as the default layout has it.
var callDate = filepath.Join(t0.Format("2006-01-02"), t0.Format("15"))

// otherDate is the date directory of the "other" files the tests make,
// beneath other/.
var otherDate = t0.Format("2006-01-02")

// TestCallDirectoryCannotBeMade plants a regular file where the call's
// directory or one of its parents must go: the call's packets are a write
// failure, counted and reported, and nothing is written anywhere else, in
// the working directory least of all.
func TestCallDirectoryCannotBeMade(t *testing.T) {
	for _, planted := range []string{"calls", filepath.Join("calls", filepath.Dir(callDate)), filepath.Join("calls", callDate)} {
		t.Run(planted, func(t *testing.T) {
			cwd := t.TempDir()
			t.Chdir(cwd)
			r := startRun(t, t.TempDir(), nil)
			blocker := filepath.Join(r.out, planted)
			if err := os.MkdirAll(filepath.Dir(blocker), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(blocker, []byte("not a directory"), 0o644); err != nil {
				t.Fatal(err)
			}
			tl := &testpcap.Timeline{Now: t0}
			tl.BasicCall(testpcap.NewDialog(1), 2)
			r.feed(tl.Pkts...)
			st := r.close()

			if r.err == nil || !strings.Contains(r.err.Error(), blocker) {
				t.Errorf("run error = %v, want a call directory error naming %q", r.err, blocker)
			}
			checkFailed(t, st, 1) // the packet whose write failed
			checkEventPaths(t, r.out, r.events)
			checkEmpty(t, cwd)
			if data, err := os.ReadFile(blocker); err != nil || string(data) != "not a directory" {
				t.Errorf("the planted file changed: %q, %v", data, err)
			}
			var calls int
			for _, e := range r.events {
				if c, ok := e.(event.CallCompleted); ok {
					calls++
					if len(c.Files()) != 0 {
						t.Errorf("a call whose directory could not be made reports files %q", c.Files())
					}
					if !c.Incomplete || len(c.Errors) != 1 || !strings.Contains(c.Errors[0], blocker) {
						t.Errorf("call: incomplete %v, errors %q; want incomplete with the directory's error", c.Incomplete, c.Errors)
					}
				}
			}
			if calls != 1 {
				t.Errorf("%d calls reported, want 1", calls)
			}
		})
	}
}

// evictionTraffic opens three calls with two open files at most, so the
// first call's SIP file is evicted, and returns the packets and the next
// packet of the first call, which reopens its file.
func evictionTraffic() (open []testpcap.Packet, next testpcap.Packet, first testpcap.Dialog) {
	tl := &testpcap.Timeline{Now: t0}
	ds := []testpcap.Dialog{testpcap.NewDialog(1), testpcap.NewDialog(2), testpcap.NewDialog(3)}
	for _, d := range ds {
		tl.Add(testpcap.UDP(d.Caller, d.Callee, d.Request("INVITE", 1, "", testpcap.SDP(d.CallerRTP))), 10*ms)
	}
	tl.Add(testpcap.UDP(ds[0].Callee, ds[0].Caller, ds[0].Response(100, "Trying", "INVITE", 1, "", "")), 10*ms)
	return tl.Pkts[:3], tl.Pkts[3], ds[0]
}
