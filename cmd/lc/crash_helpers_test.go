package main

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/lc-voip/lc/internal/capture"
	"github.com/lc-voip/lc/internal/journal"
	"github.com/lc-voip/lc/internal/script"
)

// What the crash torture reads back of its runs, and the checks on it.

// recordsSize is the size of the hook records file: where the records of
// the next run start (every record is written whole, with one write).
func (tt *torture) recordsSize() int64 {
	fi, err := os.Stat(tt.rec)
	if err != nil {
		tt.t.Fatal(err)
	}
	return fi.Size()
}

// recordsSince counts the hook records of run n written past offset.
func (tt *torture) recordsSince(offset int64, n int) int {
	f, err := os.Open(tt.rec)
	if err != nil {
		tt.t.Fatal(err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.NewSectionReader(f, offset, 1<<40))
	if err != nil {
		tt.t.Fatal(err)
	}
	return bytes.Count(append([]byte{'\n'}, data...), []byte("\nR"+strconv.Itoa(n)+" "))
}

// eventLines counts the lines of run r's --events file.
func (r *crashRun) eventLines() int {
	data, _ := os.ReadFile(r.events) // a run killed early may have none
	return bytes.Count(data, []byte("\n"))
}

// journalText lists what a journal holds, as lc hooks pending does.
func journalText(rec journal.Recovery) string {
	var b strings.Builder
	printPending(&b, rec)
	return b.String()
}

// crashEvent is what the checks read of an event, from an --events line
// or from the journal.
type crashEvent struct {
	Event      string   `json:"event"`
	ID         string   `json:"event_id"`
	Path       string   `json:"path"`
	Reason     string   `json:"reason"`
	Error      string   `json:"error"`
	Dirname    string   `json:"dirname"`
	State      string   `json:"state"`
	SIPFiles   []string `json:"sip_files"`
	RTPFiles   []string `json:"rtp_files"`
	Incomplete bool     `json:"incomplete"`
	Errors     []string `json:"errors"`
}

// hooks are the names of the hooks that run for the event.
func (e crashEvent) hooks() []string {
	if e.Event == "call_completed" {
		return []string{"voip-command", "lua:on_call_complete"}
	}
	return []string{"pcap-command", "lua:on_pcap_close"}
}

// subject is what the event reports on: a file's path, a call's
// directory.
func (e crashEvent) subject() string {
	if e.Event == "call_completed" {
		return e.Dirname
	}
	return e.Path
}

// crashHook names the runs of one hook for one event.
type crashHook struct{ id, hook string }

// crashHookRuns is what the records say of one hook for one event in one
// run of lc: how often it started, and ran to the end.
type crashHookRuns struct {
	starts, ends int
}

// crashFacts is what the runs left: the events (from the --events files
// and the journals) and the hook runs (from the records).
type crashFacts struct {
	events    map[string]crashEvent
	firstSeen map[string]int    // event ID → the first run that knew it
	inEvents  map[string]int    // event ID → the first run whose --events has it
	held      []map[string]bool // per run: the event IDs its journal holds after it
	done      []map[string]bool // per run: "ID hook" for the hooks noted done then
	hooks     map[crashHook]map[int]*crashHookRuns
	starts    []crashHook // every start, in record order, with its run in startRuns
	startRuns []int
}

var crashRecordLine = regexp.MustCompile(`^R(\d+) (\S+) (start|end) ([0-9a-f]{32})$`)

// facts reads the events files, the journals after each run and the
// hook records. Every events line must be whole JSON and every record
// well formed.
func (tt *torture) facts() *crashFacts {
	f := &crashFacts{events: map[string]crashEvent{}, firstSeen: map[string]int{}, inEvents: map[string]int{},
		hooks: map[crashHook]map[int]*crashHookRuns{}}
	f.held = make([]map[string]bool, len(tt.runs)+1)
	f.done = make([]map[string]bool, len(tt.runs)+1)
	for _, r := range tt.runs {
		tt.readEvents(f, r)
		f.held[r.n], f.done[r.n] = map[string]bool{}, map[string]bool{}
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
			f.know(ev, r.n)
			f.held[r.n][id] = true
			for _, note := range it.Notes {
				f.done[r.n][id+" "+string(note)] = true
			}
		}
	}
	tt.readRecords(f)
	return f
}

// know records that run n knew event ev.
func (f *crashFacts) know(ev crashEvent, n int) {
	if _, ok := f.events[ev.ID]; !ok {
		f.events[ev.ID] = ev
	}
	f.see(ev.ID, n)
}

// see records that run n knew event id.
func (f *crashFacts) see(id string, n int) {
	if first, ok := f.firstSeen[id]; !ok || n < first {
		f.firstSeen[id] = n
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
		f.know(ev, r.n)
		if _, ok := f.inEvents[ev.ID]; !ok {
			f.inEvents[ev.ID] = r.n
		}
	}
}

// readRecords reads the hook records: per event, hook and run, one
// start, then at most one end.
func (tt *torture) readRecords(f *crashFacts) {
	file, err := os.Open(tt.rec)
	if err != nil {
		tt.t.Fatal(err)
	}
	defer file.Close()
	sc := bufio.NewScanner(file)
	for sc.Scan() {
		m := crashRecordLine.FindStringSubmatch(sc.Text())
		if m == nil {
			tt.t.Errorf("hook record %q is not whole", sc.Text())
			continue
		}
		n, _ := strconv.Atoi(m[1])
		k := crashHook{id: m[4], hook: m[2]}
		if f.hooks[k] == nil {
			f.hooks[k] = map[int]*crashHookRuns{}
		}
		runs := f.hooks[k][n]
		switch {
		case m[3] == "start":
			if runs == nil {
				runs = &crashHookRuns{}
				f.hooks[k][n] = runs
			}
			if runs.starts++; runs.starts == 2 {
				tt.t.Errorf("%s started %s for event %s twice, though a run runs an event's hooks once", tt.runs[n-1], k.hook, k.id)
			}
			f.starts, f.startRuns = append(f.starts, k), append(f.startRuns, n)
			f.see(k.id, n)
		case runs == nil || runs.ends == runs.starts:
			tt.t.Errorf("R%d recorded the end of %s for event %s without a start", n, k.hook, k.id)
		default:
			runs.ends++
		}
	}
	if err := sc.Err(); err != nil {
		tt.t.Fatal(err)
	}
}

// cutShort reports whether the run of hook k in run n was under way when
// lc died: the journal after run n holds its event without the hook
// noted done.
func (f *crashFacts) cutShort(k crashHook, n int) bool {
	return f.held[n][k.id] && !f.done[n][k.id+" "+k.hook]
}

// endRuns are the runs in which hook k ran to the end, in order, once
// per end.
func (f *crashFacts) endRuns(k crashHook) []int {
	var ends []int
	for n, runs := range f.hooks[k] {
		for range runs.ends {
			ends = append(ends, n)
		}
	}
	slices.Sort(ends)
	return ends
}

// hookKeys are the hooks that started, in a fixed order.
func (f *crashFacts) hookKeys() []crashHook {
	return slices.SortedFunc(maps.Keys(f.hooks), func(a, b crashHook) int {
		return cmp.Or(strings.Compare(a.id, b.id), strings.Compare(a.hook, b.hook))
	})
}

// runsText lists the runs of hook k: R3 (cut short), R5.
func (f *crashFacts) runsText(k crashHook) string {
	var parts []string
	for _, n := range slices.Sorted(maps.Keys(f.hooks[k])) {
		s, runs := "R"+strconv.Itoa(n), f.hooks[k][n]
		if runs.starts > 1 {
			s += fmt.Sprintf(" (%d times)", runs.starts)
		}
		if runs.ends < runs.starts {
			s += " (cut short)"
		}
		parts = append(parts, s)
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// origin says which run first knew event id and how the run before it
// ended: "event ID, emitted by R5, after R4 (chunk 3, ...)".
func (f *crashFacts) origin(tt *torture, id string) string {
	n := f.firstSeen[id]
	s := fmt.Sprintf("event %s, emitted by R%d", id, n)
	if n >= 2 {
		s += ", after " + tt.runs[n-2].String()
	}
	return s
}

// crashFigures are what the checks count, for the log.
type crashFigures struct {
	cutShort     int // hook runs a kill cut short
	twice        int // events with a hook run to the end twice
	unnoted      int // hook runs that ended just before a kill, not yet noted
	interrupted  int // call_completed in state interrupted
	repaired     int // file_closed with reason interrupted
	neverWritten int // files interrupted events report as never written
	reportsTwice int // files and calls that two events report
	pcaps        int
}

// check checks what the runs left and logs the torture's figures.
func (tt *torture) check() {
	f := tt.facts()
	var fig crashFigures
	tt.checkHooksRan(f)
	tt.checkReruns(f)
	tt.checkCutShort(f, &fig)
	tt.checkTwice(f, &fig)
	tt.checkInterrupted(f, &fig)
	tt.checkReports(f, &fig)
	tt.checkPcaps(&fig)
	tt.logFigures(f, fig)
}

// checkHooksRan checks that every event known to any run had each of its
// hooks run to the end at least once, and that every hook that started
// for an event ran to the end at least once.
func (tt *torture) checkHooksRan(f *crashFacts) {
	for _, id := range slices.Sorted(maps.Keys(f.events)) {
		ev := f.events[id]
		for _, hook := range ev.hooks() {
			if k := (crashHook{id, hook}); len(f.endRuns(k)) == 0 {
				tt.t.Errorf("%s %s (%s): %s never ran to the end; its runs: %s",
					ev.Event, ev.subject(), f.origin(tt, id), hook, f.runsText(k))
			}
		}
	}
	for _, k := range f.hookKeys() {
		if ev, ok := f.events[k.id]; ok && !slices.Contains(ev.hooks(), k.hook) {
			tt.t.Errorf("%s ran for %s %s", k.hook, ev.Event, k.id)
		}
		if len(f.endRuns(k)) == 0 {
			tt.t.Errorf("%s started for event %s and never ran to the end; its runs: %s", k.hook, k.id, f.runsText(k))
		}
	}
}

// checkReruns checks that a hook ran for an event that an earlier run
// knew only when the journal that run left held the event without that
// hook noted done: lc skips the hooks that finished.
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
		tt.t.Errorf("%s ran %s again for %s, though the journal after R%d %s",
			tt.runs[n-1], k.hook, f.origin(tt, k.id), n-1, why)
	}
}

// checkCutShort checks that only killed runs left hook runs unended,
// that the journal they left had not noted those done, and that no more
// hook runs were under way at a kill than the workers run at once.
func (tt *torture) checkCutShort(f *crashFacts, fig *crashFigures) {
	underWay := map[int][]crashHook{}
	for _, k := range f.hookKeys() {
		for n, runs := range f.hooks[k] {
			r := tt.runs[n-1]
			if f.cutShort(k, n) {
				underWay[n] = append(underWay[n], k)
			}
			if runs.ends == runs.starts {
				continue
			}
			fig.cutShort++
			switch {
			case !r.killed:
				tt.t.Errorf("%s finished, yet %s for event %s started and did not end", r, k.hook, k.id)
			case !f.cutShort(k, n):
				tt.t.Errorf("%s: %s for event %s was cut short by the kill, yet the journal noted it done", r, k.hook, k.id)
			}
		}
	}
	for _, n := range slices.Sorted(maps.Keys(underWay)) {
		if keys := underWay[n]; len(keys) > crashConcurrency {
			tt.t.Errorf("%s: %d hook runs under way at the kill (started, not noted done), more than the %d workers run: %v",
				tt.runs[n-1], len(keys), crashConcurrency, keys)
		}
	}
}

// checkTwice checks that a hook ran to the end twice for an event only
// when the first run was under way at a kill: it had ended, but lc died
// before noting it in the journal.
func (tt *torture) checkTwice(f *crashFacts, fig *crashFigures) {
	twice := map[string]bool{}
	for _, k := range f.hookKeys() {
		ends := f.endRuns(k)
		if len(ends) < 2 {
			continue
		}
		twice[k.id] = true
		for _, n := range ends[:len(ends)-1] {
			switch r := tt.runs[n-1]; {
			case !r.killed:
				tt.t.Errorf("%s ran to the end in %s, which finished, and again; its runs: %s", k.hook, r, f.runsText(k))
			case !f.cutShort(k, n):
				tt.t.Errorf("%s ran to the end in %s, whose journal noted it, and again; its runs: %s", k.hook, r, f.runsText(k))
			default:
				fig.unnoted++
			}
		}
	}
	fig.twice = len(twice)
}

// checkInterrupted checks that every file that an event of a call or file
// lc closed as interrupted reports is there, or is said in the event to
// be one lc never wrote. It counts the interrupted calls and files.
func (tt *torture) checkInterrupted(f *crashFacts, fig *crashFigures) {
	for _, id := range slices.Sorted(maps.Keys(f.events)) {
		ev := f.events[id]
		paths := []string{ev.Path}
		switch {
		case ev.Event == "file_closed" && ev.Reason == "interrupted":
			fig.repaired++
		case ev.Event == "call_completed" && ev.State == "interrupted":
			fig.interrupted++
			paths = append(slices.Clip(ev.SIPFiles), ev.RTPFiles...)
		default:
			continue
		}
		for _, path := range paths {
			_, err := os.Stat(path)
			switch {
			case err == nil:
			case ev.Error != "" || ev.Incomplete && slices.ContainsFunc(ev.Errors, func(e string) bool { return strings.HasPrefix(e, path+": ") }):
				fig.neverWritten++
			default:
				tt.t.Errorf("%s (%s) reports a file that is not there, and no error for it: %v", ev.Event, f.origin(tt, id), err)
			}
		}
	}
}

// checkReports checks that each file and each call is reported by one
// event: with two, its hooks run twice, though none was under way at a
// kill.
func (tt *torture) checkReports(f *crashFacts, fig *crashFigures) {
	reports := map[string][]string{} // file path or call directory → its events
	for _, id := range slices.Sorted(maps.Keys(f.events)) {
		ev := f.events[id]
		reports[ev.subject()] = append(reports[ev.subject()],
			fmt.Sprintf("%s %s (%s)", ev.Event, ev.Reason+ev.State, f.origin(tt, id)))
	}
	for _, subject := range slices.Sorted(maps.Keys(reports)) {
		if evs := reports[subject]; len(evs) > 1 {
			fig.reportsTwice++
			tt.t.Errorf("%s is reported by %d events, so its hooks ran %d times:\n\t%s",
				subject, len(evs), len(evs), strings.Join(evs, "\n\t"))
		}
	}
}

// checkPcaps reads every pcap of the output directory, compressed or
// not, with lc's reader, and with tshark when the plan says.
func (tt *torture) checkPcaps(fig *crashFigures) {
	var paths []string
	err := walkOutput(tt.out, func(path string, d fs.DirEntry, err error) error {
		switch {
		case err != nil || !d.Type().IsRegular():
		case strings.HasSuffix(path, ".tmp"):
			tt.t.Errorf("a temporary copy is left: %s", path)
		case strings.HasSuffix(path, ".pcap"), strings.HasSuffix(path, ".pcap.gz"), strings.HasSuffix(path, ".pcap.zst"):
			paths = append(paths, path)
		}
		return err
	})
	if err != nil {
		tt.t.Fatal(err)
	}
	fig.pcaps = len(paths)
	for _, path := range paths {
		if err := readWholeCapture(path); err != nil {
			tt.t.Errorf("%s does not read cleanly: %v", path, err)
		}
	}
	if tt.plan.tshark == "" {
		return
	}
	// tshark takes most of a second to start: one per CPU at a time.
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.NumCPU())
	for _, path := range paths {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			var stderr bytes.Buffer
			cmd := exec.Command(tt.plan.tshark, "-n", "-r", path, "-q")
			cmd.Stderr = &stderr
			if err := cmd.Run(); err != nil || strings.Contains(stderr.String(), "cut short") {
				tt.t.Errorf("tshark -r %s: %v\n%s", path, err, stderr.String())
			}
		})
	}
	wg.Wait()
}

// readWholeCapture reads the capture at path to its end.
func readWholeCapture(path string) error {
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

// logFigures logs what the torture did.
func (tt *torture) logFigures(f *crashFacts, fig crashFigures) {
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
	tt.t.Logf("runs: %d; killed: %d (%s); finished before their kill: %s; not to be killed: %d",
		len(tt.runs), tt.killCount(), strings.Join(kinds, ", "), cmp.Or(strings.Join(finished, ", "), "none"), unkilled[killNone])
	tt.t.Logf("events: %d (%d file_closed, %d call_completed); hook runs started: %d",
		len(f.events), types["file_closed"], types["call_completed"], len(f.starts))
	tt.t.Logf("replays: %d hook starts for events in an earlier run's events file; %d events had hooks run by a later run than the first that knew them",
		replays, len(replayed))
	tt.t.Logf("hook runs cut short by a kill: %d; events with a hook run to the end twice: %d (hook runs that had ended at a kill but were not yet noted: %d)",
		fig.cutShort, fig.twice, fig.unnoted)
	tt.t.Logf("interrupted: %d calls, %d files (%d files reported as never written); files or calls reported twice: %d; pcaps read: %d",
		fig.interrupted, fig.repaired, fig.neverWritten, fig.reportsTwice, fig.pcaps)
}
