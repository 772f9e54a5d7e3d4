package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/lc-voip/lc/internal/capture"
	"github.com/lc-voip/lc/internal/journal"
	"github.com/lc-voip/lc/internal/script"
	"github.com/lc-voip/lc/internal/testpcap"
)

// Shape of the torture's calls: RTP packets each way, and the time
// between two calls' INVITEs, so that five or six overlap.
const (
	crashRTP = 25
	crashGap = 200 * time.Millisecond
)

var crashStart = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

// chunks writes the capture of the plan's calls cut into the plan's
// chunks, each a pcap of its own, and returns their paths. Cuts fall
// inside calls.
func (tt *torture) chunks() []string {
	pkts := tt.calls(tt.plan.calls, crashStart)
	var paths []string
	for i := range tt.plan.chunks {
		from, to := i*len(pkts)/tt.plan.chunks, (i+1)*len(pkts)/tt.plan.chunks
		paths = append(paths, tt.writeCapture(fmt.Sprintf("chunk-%d.pcap", i+1), pkts[from:to]))
	}
	return paths
}

// extraChunk writes a chunk of new calls, for when the planned chunks
// are done and kills are still missing; i numbers it.
func (tt *torture) extraChunk(i int) string {
	n := max(2, tt.plan.calls/tt.plan.chunks)
	at := crashStart.Add(time.Duration(tt.made)*crashGap + time.Minute)
	return tt.writeCapture(fmt.Sprintf("chunk-%d.pcap", i+1), tt.calls(n, at))
}

// calls returns n new complete calls, the first at start, in time order.
func (tt *torture) calls(n int, start time.Time) []testpcap.Packet {
	var all []testpcap.Packet
	for i := range n {
		tl := testpcap.Timeline{Now: start.Add(time.Duration(i) * crashGap)}
		tl.BasicCall(testpcap.NewDialog(tt.made+i), crashRTP)
		all = append(all, tl.Pkts...)
	}
	tt.made += n
	slices.SortStableFunc(all, func(a, b testpcap.Packet) int { return a.Time.Compare(b.Time) })
	return all
}

// writeCapture writes pkts as the pcap name in the torture's directory.
func (tt *torture) writeCapture(name string, pkts []testpcap.Packet) string {
	var b bytes.Buffer
	if err := testpcap.Write(&b, layers.LinkTypeEthernet, pkts); err != nil {
		tt.t.Fatal(err)
	}
	path := tt.dir + "/" + name
	writeTestFile(tt.t, path, b.String())
	return path
}

func writeTestFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func fileSize(t testing.TB, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// countRecords counts the hook records of run n in the records file
// past offset.
func countRecords(t testing.TB, path string, offset int64, n int) int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Count(data[min(offset, int64(len(data))):], []byte("\nR"+strconv.Itoa(n)+" ")) +
		btoi(offset == 0 && bytes.HasPrefix(data, []byte("R"+strconv.Itoa(n)+" ")))
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// pendingText lists what a journal holds, for messages.
func pendingText(rec journal.Recovery) string {
	var b strings.Builder
	printPending(&b, rec)
	return b.String()
}

// crashEvent is what the checks read of an event, from an --events line
// or from the journal.
type crashEvent struct {
	Event    string   `json:"event"`
	ID       string   `json:"event_id"`
	Path     string   `json:"path"`
	Reason   string   `json:"reason"`
	Dirname  string   `json:"dirname"`
	State    string   `json:"state"`
	SIPFiles []string `json:"sip_files"`
	RTPFiles []string `json:"rtp_files"`
}

// hooks are the names of the hooks that run for the event.
func (e crashEvent) hooks() []string {
	if e.Event == "call_completed" {
		return []string{"voip-command", "lua:on_call_complete"}
	}
	return []string{"pcap-command", "lua:on_pcap_close"}
}

// hookRun is what the records say of one hook run for one event in one
// run of lc.
type hookRun struct {
	started, ended bool
}

// hookKey names the runs of one hook for one event.
type hookKey struct{ id, hook string }

// crashFacts is what the runs left: the events (from the --events files
// and the journals) and the hook runs (from the records).
type crashFacts struct {
	events    map[string]crashEvent
	firstSeen map[string]int    // event ID → the first run that knew it
	inEvents  map[string]int    // event ID → the first run whose --events has it
	pending   []map[string]bool // per run: the journal after it, event ID+hook → noted done
	held      []map[string]bool // per run: the event IDs its journal holds after it
	hooks     map[hookKey]map[int]*hookRun
	starts    []hookKey // in record order, with the run in startRuns
	startRuns []int
}

var recordLine = regexp.MustCompile(`^R(\d+) (\S+) (start|end) ([0-9a-f]{32})$`)

// facts reads the events files, the journals after each run and the
// hook records. Every events line must be whole JSON and every record
// well formed.
func (tt *torture) facts() *crashFacts {
	f := &crashFacts{events: map[string]crashEvent{}, firstSeen: map[string]int{}, inEvents: map[string]int{},
		hooks: map[hookKey]map[int]*hookRun{}}
	f.pending = make([]map[string]bool, len(tt.runs)+1)
	f.held = make([]map[string]bool, len(tt.runs)+1)
	for _, r := range tt.runs {
		tt.readEvents(f, r)
		f.pending[r.n], f.held[r.n] = map[string]bool{}, map[string]bool{}
		for _, it := range r.pending.Items {
			id, ok := strings.CutPrefix(it.ID, script.JournalPrefix)
			if !ok {
				continue
			}
			var ev crashEvent
			if err := json.Unmarshal(it.Data, &ev); err != nil {
				tt.t.Errorf("after %s the journal holds an event that does not decode: %v: %s", r, err, it.Data)
				continue
			}
			f.see(ev, r.n)
			f.held[r.n][id] = true
			for _, note := range it.Notes {
				f.pending[r.n][id+" "+string(note)] = true
			}
		}
	}
	tt.readRecords(f)
	return f
}

// see records that run n knew event ev.
func (f *crashFacts) see(ev crashEvent, n int) {
	if _, ok := f.events[ev.ID]; !ok {
		f.events[ev.ID] = ev
	}
	if first, ok := f.firstSeen[ev.ID]; !ok || n < first {
		f.firstSeen[ev.ID] = n
	}
}

// readEvents reads the --events file of run r: whole JSON lines only. A
// run killed before it opened the file has none.
func (tt *torture) readEvents(f *crashFacts, r *crashRun) {
	data, err := os.ReadFile(r.events)
	if os.IsNotExist(err) && r.killed {
		return
	}
	if err != nil {
		tt.t.Fatal(err)
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		tt.t.Errorf("%s: its events file ends in half a line: %q", r, data[bytes.LastIndexByte(data, '\n')+1:])
	}
	for i, line := range bytes.SplitAfter(data, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var ev crashEvent
		if !json.Valid(line) || json.Unmarshal(line, &ev) != nil || ev.ID == "" {
			tt.t.Errorf("%s: line %d of its events file is not a whole event: %q", r, i+1, line)
			continue
		}
		f.see(ev, r.n)
		if _, ok := f.inEvents[ev.ID]; !ok {
			f.inEvents[ev.ID] = r.n
		}
	}
}

// readRecords reads the hook records: one start, then at most one end,
// per event, hook and run.
func (tt *torture) readRecords(f *crashFacts) {
	file, err := os.Open(tt.rec)
	if err != nil {
		tt.t.Fatal(err)
	}
	defer file.Close()
	sc := bufio.NewScanner(file)
	for sc.Scan() {
		m := recordLine.FindStringSubmatch(sc.Text())
		if m == nil {
			tt.t.Errorf("hook record %q is not whole", sc.Text())
			continue
		}
		n, _ := strconv.Atoi(m[1])
		k := hookKey{id: m[4], hook: m[2]}
		if f.hooks[k] == nil {
			f.hooks[k] = map[int]*hookRun{}
		}
		run := f.hooks[k][n]
		switch {
		case m[3] == "start" && run != nil:
			tt.t.Errorf("R%d ran %s for event %s twice", n, k.hook, k.id)
		case m[3] == "start":
			f.hooks[k][n] = &hookRun{started: true}
			f.starts, f.startRuns = append(f.starts, k), append(f.startRuns, n)
			if first, ok := f.firstSeen[k.id]; !ok || n < first {
				f.firstSeen[k.id] = n
			}
		case run == nil || run.ended:
			tt.t.Errorf("R%d recorded the end of %s for event %s without a start", n, k.hook, k.id)
		default:
			run.ended = true
		}
	}
	if err := sc.Err(); err != nil {
		tt.t.Fatal(err)
	}
}

// cutShort reports whether run n of hook k was under way when lc died:
// the journal after run n holds its event without the hook noted done.
func (f *crashFacts) cutShort(k hookKey, n int) bool {
	return f.held[n][k.id] && !f.pending[n][k.id+" "+k.hook]
}

// endRuns are the runs in which hook k ran to the end, in order.
func (f *crashFacts) endRuns(k hookKey) []int {
	var ends []int
	for n, run := range f.hooks[k] {
		if run.ended {
			ends = append(ends, n)
		}
	}
	slices.Sort(ends)
	return ends
}

// check checks what the runs left and logs the torture's figures.
func (tt *torture) check() {
	f := tt.facts()
	tt.checkHooksRan(f)
	tt.checkReruns(f)
	cut := tt.checkCutShort(f)
	dups, unnoted := tt.checkDuplicates(f)
	fig := tt.checkInterrupted(f)
	pcaps := tt.checkPcaps()
	tt.logFigures(f, figures{cut: cut, dups: dups, unnoted: unnoted, pcaps: pcaps, interrupted: fig})
}

// checkHooksRan checks that every event known to any run had each of its
// hooks run to the end at least once, and that every hook that started
// for an event ran to the end at least once.
func (tt *torture) checkHooksRan(f *crashFacts) {
	for _, id := range slices.Sorted(maps.Keys(f.events)) {
		ev := f.events[id]
		for _, hook := range ev.hooks() {
			if len(f.endRuns(hookKey{id, hook})) == 0 {
				tt.t.Errorf("%s %s (%s; known since R%d): %s never ran to the end; its runs: %s",
					ev.Event, id, ev.Path+ev.Dirname, f.firstSeen[id], hook, f.runsText(hookKey{id, hook}))
			}
		}
	}
	for k := range f.hooks {
		if ev, ok := f.events[k.id]; ok && !slices.Contains(ev.hooks(), k.hook) {
			tt.t.Errorf("%s ran for %s %s", k.hook, ev.Event, k.id)
		}
		if len(f.endRuns(k)) == 0 {
			tt.t.Errorf("%s started for event %s and never ran to the end; its runs: %s", k.hook, k.id, f.runsText(k))
		}
	}
}

// checkReruns checks that a hook runs again for an event that an earlier
// run knew only when the journal that run left held the event without
// that hook noted done: lc skips the hooks that finished.
func (tt *torture) checkReruns(f *crashFacts) {
	for i, k := range f.starts {
		n := f.startRuns[i]
		if f.firstSeen[k.id] >= n || f.cutShort(k, n-1) {
			continue
		}
		why := "no longer held the event"
		if f.held[n-1][k.id] {
			why = "had noted the hook done"
		}
		tt.t.Errorf("%s ran %s again for event %s (known since R%d), though the journal after %s %s",
			tt.runs[n-1], k.hook, k.id, f.firstSeen[k.id], tt.runs[n-2], why)
	}
}

// checkCutShort checks that only killed runs left hooks unended, that
// the journal they left had not noted those, and that no more hook runs
// were under way at a kill than the workers can run. It returns how many
// hook runs were cut short.
func (tt *torture) checkCutShort(f *crashFacts) int {
	cut := 0
	underWay := map[int][]hookKey{}
	for k, runs := range f.hooks {
		for n, run := range runs {
			r := tt.runs[n-1]
			if f.cutShort(k, n) {
				underWay[n] = append(underWay[n], k)
			}
			if run.ended {
				continue
			}
			cut++
			switch {
			case !r.killed:
				tt.t.Errorf("%s finished, yet %s for event %s started and did not end", r, k.hook, k.id)
			case !f.cutShort(k, n):
				tt.t.Errorf("%s: %s for event %s was cut short by the kill, yet the journal noted it done", r, k.hook, k.id)
			}
		}
	}
	for n, keys := range underWay {
		if len(keys) > crashConcurrency {
			tt.t.Errorf("%s: %d hook runs were under way at the kill (not noted done), more than the %d workers run: %v",
				tt.runs[n-1], len(keys), crashConcurrency, keys)
		}
	}
	return cut
}

// checkDuplicates checks that a hook ran to the end twice for an event
// only when the first run was under way at a kill: its end was recorded
// but lc died before noting it. It returns the events with a hook run to
// the end twice, and the hook runs that ended before a kill unnoted.
func (tt *torture) checkDuplicates(f *crashFacts) (dups, unnoted int) {
	seen := map[string]bool{}
	for k := range f.hooks {
		ends := f.endRuns(k)
		if len(ends) < 2 {
			continue
		}
		if !seen[k.id] {
			seen[k.id] = true
			dups++
		}
		for _, n := range ends[:len(ends)-1] {
			r := tt.runs[n-1]
			switch {
			case !r.killed:
				tt.t.Errorf("event %s: %s ran to the end in %s, which finished, and again: %s", k.id, k.hook, r, f.runsText(k))
			case !f.cutShort(k, n):
				tt.t.Errorf("event %s: %s ran to the end in %s, whose journal noted it, and again: %s", k.id, k.hook, r, f.runsText(k))
			default:
				unnoted++
			}
		}
	}
	return dups, unnoted
}

// runsText lists the runs of hook k: R3 (cut short), R5.
func (f *crashFacts) runsText(k hookKey) string {
	var parts []string
	for _, n := range slices.Sorted(maps.Keys(f.hooks[k])) {
		s := "R" + strconv.Itoa(n)
		if !f.hooks[k][n].ended {
			s += " (cut short)"
		}
		parts = append(parts, s)
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// interrupted are the figures of what lc closed after a crash.
type interrupted struct {
	calls, files   int // call_completed in state interrupted, file_closed with reason interrupted
	files2, calls2 int // files and calls reported by two events
}

// checkInterrupted checks that every file an interrupted call lists
// exists, and counts the interrupted calls and files, and the files and
// calls that two events report.
func (tt *torture) checkInterrupted(f *crashFacts) interrupted {
	var fig interrupted
	files, calls := map[string][]string{}, map[string][]string{}
	for _, id := range slices.Sorted(maps.Keys(f.events)) {
		ev := f.events[id]
		switch {
		case ev.Event == "file_closed":
			files[ev.Path] = append(files[ev.Path], ev.Reason)
			if ev.Reason == "interrupted" {
				fig.files++
			}
		case ev.Event == "call_completed":
			calls[ev.Dirname] = append(calls[ev.Dirname], ev.State)
			if ev.State != "interrupted" {
				continue
			}
			fig.calls++
			for _, path := range append(slices.Clip(ev.SIPFiles), ev.RTPFiles...) {
				if _, err := os.Stat(path); err != nil {
					tt.t.Errorf("interrupted call %s (event %s, known since R%d) lists a file that is not there: %v",
						ev.Dirname, id, f.firstSeen[id], err)
				}
			}
		}
	}
	for path, reasons := range files {
		if len(reasons) > 1 {
			fig.files2++
			tt.t.Logf("file reported closed %d times (%s): %s", len(reasons), strings.Join(reasons, ", "), path)
		}
	}
	for dir, states := range calls {
		if len(states) > 1 {
			fig.calls2++
			tt.t.Logf("call reported completed %d times (%s): %s", len(states), strings.Join(states, ", "), dir)
		}
	}
	return fig
}

// checkPcaps reads every pcap of the output directory with lc's reader,
// and with tshark when the plan says, and returns how many there are.
func (tt *torture) checkPcaps() int {
	var paths []string
	err := walkOutput(tt.out, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() && strings.HasSuffix(path, ".pcap") {
			paths = append(paths, path)
		}
		return err
	})
	if err != nil {
		tt.t.Fatal(err)
	}
	for _, path := range paths {
		if err := readWhole(path); err != nil {
			tt.t.Errorf("%s does not read cleanly: %v", path, err)
		}
		if tt.plan.tshark != "" {
			tt.checkTshark(path)
		}
	}
	return len(paths)
}

// readWhole reads the capture at path to its end.
func readWhole(path string) error {
	f, err := capture.OpenFile(path, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	for {
		if _, err := f.Next(); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
	}
}

// checkTshark has tshark read the pcap at path: it must exit 0 without
// saying the file was cut short.
func (tt *torture) checkTshark(path string) {
	var stderr bytes.Buffer
	cmd := exec.Command(tt.plan.tshark, "-n", "-r", path, "-q")
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil || strings.Contains(stderr.String(), "cut short") {
		tt.t.Errorf("tshark -r %s: %v\n%s", filepath.Base(path), err, stderr.String())
	}
}

// figures are the counts the checks return.
type figures struct {
	cut, dups, unnoted, pcaps int
	interrupted
}

// logFigures logs what the torture did.
func (tt *torture) logFigures(f *crashFacts, fig figures) {
	var kinds, finished []string
	unkilled := map[killKind]int{}
	for _, r := range tt.runs {
		if !r.killed {
			unkilled[r.kill]++
		}
	}
	for k := killEarly; k < killKinds; k++ {
		kinds = append(kinds, fmt.Sprintf("%s %d", k, tt.kills[k]))
		if unkilled[k] > 0 {
			finished = append(finished, fmt.Sprintf("%s %d", k, unkilled[k]))
		}
	}
	replays, replayed := 0, map[string]bool{}
	for i, k := range f.starts {
		n := f.startRuns[i]
		if first, ok := f.inEvents[k.id]; ok && first < n {
			replays++
		}
		if f.firstSeen[k.id] < n {
			replayed[k.id] = true
		}
	}
	types := map[string]int{}
	for _, ev := range f.events {
		types[ev.Event]++
	}
	tt.t.Logf("%d runs, %d killed (%s); meant to be killed but finished first: %s; not meant to be killed: %d",
		len(tt.runs), tt.killCount(), strings.Join(kinds, ", "), strings.Join(finished, ", "), unkilled[killNone])
	tt.t.Logf("%d events (%d file_closed, %d call_completed), %d hook runs started",
		len(f.events), types["file_closed"], types["call_completed"], len(f.starts))
	tt.t.Logf("replays: %d hook starts of events in an earlier run's events file; %d events run again in a later run than the first that knew them",
		replays, len(replayed))
	tt.t.Logf("%d hook runs cut short by a kill; %d events with a hook run to the end twice (%d hook runs ended just before a kill, not yet noted)",
		fig.cut, fig.dups, fig.unnoted)
	tt.t.Logf("%d calls and %d files closed as interrupted; %d files and %d calls reported by two events; %d pcaps read cleanly",
		fig.calls, fig.files, fig.files2, fig.calls2, fig.pcaps)
}
