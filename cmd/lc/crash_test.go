package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/lc-voip/lc/internal/journal"
	"github.com/lc-voip/lc/internal/testenv"
	"github.com/lc-voip/lc/internal/testpcap"
)

// The crash torture feeds a capture, in chunks, to lc process runs on one
// output directory with slow hooks, kills most runs with SIGKILL at
// varied points (while it reads, while hooks run, between any two journal
// records, while it replays what an earlier run left) and checks, after
// a last run that finishes, that nothing was lost, that only the hook
// runs a kill cut short ran again, and that every pcap reads cleanly.

// crashSeedEnv names the environment variable that sets the torture's
// seed, to repeat a run whose seed the log gave.
const crashSeedEnv = "LC_TEST_CRASH_SEED"

// crashConcurrency is the --command-concurrency of the runs: at most this
// many hook runs are under way when a kill lands.
const crashConcurrency = 4

// crashPlan is the size of a torture: the calls of the capture, the
// chunks it is cut into and the kills it needs at least.
type crashPlan struct {
	calls, chunks, kills int
	tshark               string   // tshark's path, to read every pcap with it too; "" not
	args                 []string // more arguments of every run
}

// TestCrashTorture is the crash torture at a size for every test run:
// 40 calls in 8 chunks, at least 6 kills.
func TestCrashTorture(t *testing.T) {
	runCrashTorture(t, crashPlan{calls: 40, chunks: 8, kills: 6})
}

// TestCrashTortureCompressed is the crash torture with --compress: kills
// land while closed files are compressed too, and every file the events
// name, compressed or not, reads cleanly; no temporary copy is left.
func TestCrashTortureCompressed(t *testing.T) {
	runCrashTorture(t, crashPlan{calls: 24, chunks: 6, kills: 4, args: []string{"--compress", "zstd"}})
}

// TestCrashTortureLong is the crash torture at scale, in the long suite:
// 240 calls in 30 chunks, at least 20 kills, and tshark reads every pcap.
func TestCrashTortureLong(t *testing.T) {
	testenv.Long(t)
	runCrashTorture(t, crashPlan{calls: 240, chunks: 30, kills: 20, tshark: testenv.Command(t, "tshark")})
}

// killKind is how a run of the torture ends.
type killKind int

const (
	killNone    killKind = iota // it finishes
	killEarly                   // SIGKILL after a short random delay: starting, recovering, reading
	killLate                    // SIGKILL after a longer random delay: mostly while hooks run
	killInHook                  // SIGKILL once the run's hooks have written n records
	killJournal                 // lc kills itself after its k-th journal record
	killKinds
)

func (k killKind) String() string {
	return [...]string{"none", "early", "late", "in-hook", "journal"}[k]
}

// crashRun is one lc process run of the torture.
type crashRun struct {
	n       int      // the run's tag in the hook records: R<n>
	input   string   // what it read, for messages
	kill    killKind // how it was to be killed
	arg     int      // the kill's parameter: ms, hook records or journal records
	killed  bool     // it died of SIGKILL
	events  string   // its --events file
	stderr  string
	took    time.Duration
	pending journal.Recovery // the journal once it ended
}

func (r *crashRun) String() string {
	s := fmt.Sprintf("R%d (%s, ", r.n, r.input)
	switch r.kill {
	case killNone:
		s += "not killed"
	case killEarly, killLate:
		s += fmt.Sprintf("SIGKILL after %dms", r.arg)
	case killInHook:
		s += fmt.Sprintf("SIGKILL after %d hook records", r.arg)
	case killJournal:
		s += fmt.Sprintf("%s=%d", killAfterEnv, r.arg)
	}
	if r.kill != killNone && !r.killed {
		s += ", finished first"
	}
	return s + ")"
}

// outcome says how run r ended.
func (r *crashRun) outcome() string {
	if r.killed {
		return "killed"
	}
	return "exited"
}

// torture is the state of one crash torture.
type torture struct {
	t      *testing.T
	plan   crashPlan
	rng    *rand.Rand
	bin    string
	dir    string // captures, events files, scripts, records
	out    string // the output directory every run shares
	rec    string // the hook records: R<n> <hook> start|end <event id>
	hook   string // the shell script of the pcap command and the Lua hooks
	config string // an empty config file, so that no other one is read
	env    []string
	runs   []*crashRun
	kills  [killKinds]int
	made   int // calls put in chunks so far
}

// newTorture prepares a torture of the size plan says: its seed, the lc
// binary, its directory, the hook script and the runs' environment.
func newTorture(t *testing.T, plan crashPlan) *torture {
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv(crashSeedEnv); v != "" {
		s, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q: %v", crashSeedEnv, v, err)
		}
		seed = s
	}
	t.Logf("seed %d (%s=%d repeats the choices)", seed, crashSeedEnv, seed)
	dir := t.TempDir()
	tt := &torture{
		t: t, plan: plan, rng: rand.New(rand.NewPCG(seed, seed)), bin: buildLC(t), dir: dir,
		out: filepath.Join(dir, "out"), rec: filepath.Join(dir, "hooks.rec"),
		hook: filepath.Join(dir, "hook.sh"), config: filepath.Join(dir, "config.yaml"),
	}
	tt.writeFile(tt.hook, hookScript)
	tt.writeFile(tt.config, "# no settings: the flags say everything\n")
	tt.writeFile(tt.rec, "")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, processorSection.envPrefix()) && !strings.HasPrefix(kv, killAfterEnv+"=") {
			tt.env = append(tt.env, kv)
		}
	}
	return tt
}

// runCrashTorture runs the crash torture of the size plan says: every
// chunk once, each run killed or not, until the chunks are done and the
// plan's kills happened; then a last run that finishes, and the checks.
func runCrashTorture(t *testing.T, plan crashPlan) {
	tt := newTorture(t, plan)
	start := time.Now() // the build is done
	empty := tt.writeCapture("empty.pcap", nil)
	chunks := tt.chunks()
	for i := 0; i < len(chunks) || tt.killCount() < plan.kills; i++ {
		if i >= len(chunks) {
			if i >= 3*plan.chunks {
				t.Fatalf("%d runs and only %d kills of %d", len(tt.runs), tt.killCount(), plan.kills)
			}
			chunks = append(chunks, tt.extraChunk(i))
		}
		kill, arg := tt.chunkKill(len(chunks) - i)
		last := tt.run(fmt.Sprintf("chunk %d", i+1), chunks[i], kill, arg)
		// After a kill, now and then a run on an empty capture: it only
		// replays, and may be killed while doing so.
		if last.killed && len(last.pending.Items) > 0 && tt.rng.IntN(2) == 0 {
			kill, arg := tt.replayKill(len(last.pending.Items))
			tt.run("empty capture: replay", empty, kill, arg)
		}
	}
	tt.run("empty capture: last run", empty, killNone, 0)
	ran := time.Since(start)
	tt.checkPendingCommand()
	tt.check()
	t.Logf("took %s: %s running lc, %s checking", time.Since(start).Round(time.Millisecond),
		ran.Round(time.Millisecond), (time.Since(start) - ran).Round(time.Millisecond))
}

// chunkKill picks how the run of a chunk ends, and the kill's parameter;
// left counts the chunks still to run, this one included. When as many
// kills are still needed, the run is killed for sure: a few journal
// records or hook records in.
func (tt *torture) chunkKill(left int) (killKind, int) {
	perChunk := max(1, tt.plan.calls/tt.plan.chunks)
	if tt.plan.kills-tt.killCount() >= left {
		if tt.rng.IntN(2) == 0 {
			return killJournal, 1 + tt.rng.IntN(10)
		}
		return killInHook, 1 + tt.rng.IntN(3)
	}
	switch p := tt.rng.IntN(100); {
	case p < 15:
		return killNone, 0
	case p < 30:
		return killEarly, tt.rng.IntN(25)
	case p < 50:
		return killLate, 25 + tt.rng.IntN(500)
	case p < 75:
		// A chunk's calls have three events each, two hooks each.
		return killInHook, 1 + tt.rng.IntN(12*perChunk)
	default:
		// About twenty journal records per call.
		return killJournal, 1 + tt.rng.IntN(25*perChunk)
	}
}

// replayKill picks how a run that only replays ends, and the kill's
// parameter; items is what the journal holds (events, calls and files).
func (tt *torture) replayKill(items int) (killKind, int) {
	switch p := tt.rng.IntN(100); {
	case p < 30:
		return killNone, 0
	case p < 50:
		return killLate, 10 + tt.rng.IntN(200)
	case p < 75:
		return killInHook, 1 + tt.rng.IntN(2*items)
	default:
		return killJournal, 1 + tt.rng.IntN(3*items)
	}
}

func (tt *torture) killCount() int {
	n := 0
	for k := killEarly; k < killKinds; k++ {
		n += tt.kills[k]
	}
	return n
}

// run runs lc process on capture as run R<n>, killed as kill and arg say,
// waits for it to end, and reads the journal it left.
func (tt *torture) run(input, capture string, kill killKind, arg int) *crashRun {
	t := tt.t
	t.Helper()
	r := &crashRun{n: len(tt.runs) + 1, input: input, kill: kill, arg: arg}
	r.events = filepath.Join(tt.dir, fmt.Sprintf("events-R%d.jsonl", r.n))
	cmd := exec.Command(tt.bin, tt.args(r, capture)...)
	cmd.Env = tt.env
	if kill == killJournal {
		cmd.Env = append(cmd.Env, fmt.Sprintf("%s=%d", killAfterEnv, arg))
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	recStart := tt.recordsSize()
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	err := tt.await(r, cmd, exited, recStart)
	r.took, r.stderr = time.Since(start), stderr.String()
	ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
	r.killed = ws.Signaled() && ws.Signal() == syscall.SIGKILL
	tt.runs = append(tt.runs, r)
	if r.killed {
		tt.kills[kill]++
	} else if err != nil {
		t.Fatalf("%s: %v\n%s", r, err, r.stderr)
	}
	if r.pending, err = readPending(tt.out); err != nil {
		t.Fatalf("after %s: read the journal: %v", r, err)
	}
	t.Logf("%s: %s after %s; %d events written; the journal holds %d items",
		r, r.outcome(), r.took.Round(time.Millisecond), r.eventLines(), len(r.pending.Items))
	if !r.killed && len(r.pending.Items) > 0 {
		t.Errorf("%s finished, yet the journal holds %d items:\n%s", r, len(r.pending.Items), journalText(r.pending))
	}
	return r
}

// args are the arguments of run r on capture.
func (tt *torture) args(r *crashRun, capture string) []string {
	tag := "R" + strconv.Itoa(r.n)
	script := filepath.Join(tt.dir, fmt.Sprintf("hooks-%s.lua", tag))
	tt.writeFile(script, fmt.Sprintf(luaHooks, tag, tt.hook, tt.rec))
	// The call command is a shell template (the event ID reaches the
	// shell as "$1") doing what hookScript does; the file command is an
	// argv template.
	rec := shellQuote(tt.rec)
	voip := fmt.Sprintf("echo %[1]s voip-command start %%event_id%% >> %[2]s; sleep 0.02; "+
		"kill -0 $PPID 2>/dev/null || exit 0; echo %[1]s voip-command end %%event_id%% >> %[2]s", tag, rec)
	pcap := fmt.Sprintf("sh %s %s pcap-command %%event_id%% %s", shellQuote(tt.hook), tag, rec)
	args := []string{"process", "-r", capture, "-o", tt.out, "--events", r.events, "--config", tt.config,
		"--progress", "never", "--log-level", "warn", "--status-interval", "0", "--call-grace-period", "100ms",
		"--command-concurrency", strconv.Itoa(crashConcurrency),
		"--voip-command", voip, "--pcap-command", pcap, "--hook-script", script}
	return append(args, tt.plan.args...)
}

// await waits for run r to exit, killing it as r says; recStart is the
// size of the hook records when it started. It returns Wait's error.
func (tt *torture) await(r *crashRun, cmd *exec.Cmd, exited <-chan error, recStart int64) error {
	const limit = 2 * time.Minute // hooks that never end would hang the test
	deadline := time.After(limit)
	var timer <-chan time.Time
	switch r.kill {
	case killEarly, killLate:
		timer = time.After(time.Duration(r.arg) * time.Millisecond)
	case killInHook:
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case err := <-exited:
				return err
			case <-deadline:
				cmd.Process.Kill()
				tt.t.Fatalf("%s still running after %s", r, limit)
			case <-tick.C:
			}
			if tt.recordsSince(recStart, r.n) >= r.arg {
				cmd.Process.Kill()
				return <-exited
			}
		}
	}
	select {
	case err := <-exited:
		return err
	case <-timer:
		cmd.Process.Kill()
		return <-exited
	case <-deadline:
		cmd.Process.Kill()
		tt.t.Fatalf("%s still running after %s", r, limit)
		return nil
	}
}

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

// writeCapture writes pkts as the pcap name in the torture's directory
// and returns its path.
func (tt *torture) writeCapture(name string, pkts []testpcap.Packet) string {
	var b bytes.Buffer
	if err := testpcap.Write(&b, layers.LinkTypeEthernet, pkts); err != nil {
		tt.t.Fatal(err)
	}
	path := filepath.Join(tt.dir, name)
	tt.writeFile(path, b.String())
	return path
}

func (tt *torture) writeFile(path, content string) {
	tt.t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		tt.t.Fatal(err)
	}
}

// checkPendingCommand runs lc hooks pending on the output directory: after
// the last run it must hold nothing.
func (tt *torture) checkPendingCommand() {
	out, err := exec.Command(tt.bin, "hooks", "pending", tt.out).CombinedOutput()
	if err != nil {
		tt.t.Fatalf("lc hooks pending: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "0 events wait for their hooks\n") ||
		!strings.Contains(string(out), "0 calls and files were open\n") {
		tt.t.Errorf("after the last run, lc hooks pending %s says:\n%s", tt.out, out)
	}
}

// hookScript is what the pcap command and the Lua hooks run: hook.sh
// RUN HOOK EVENT-ID RECORDS. It records its start, takes a while, and
// records its end, unless lc died meanwhile: lc has the kernel kill its
// hooks when it dies (the shell, not the sleep it started), and the look
// at lc ($PPID) before the end makes sure of it. So a start without an
// end marks a hook run cut short by a kill.
const hookScript = `echo "$1 $2 start $3" >> "$4"
sleep 0.02
kill -0 "$PPID" 2>/dev/null || exit 0
echo "$1 $2 end $3" >> "$4"
`

// luaHooks is the hook script of a run: the run's tag, the path of
// hookScript and that of the records, each hook run through exec() with
// an argv, no shell parsing the values.
const luaHooks = `local TAG, HOOK, REC = %q, %q, %q

function on_call_complete(call)
  exec({"sh", HOOK, TAG, "lua:on_call_complete", call.event_id, REC})
end

function on_pcap_close(path, file)
  exec({"sh", HOOK, TAG, "lua:on_pcap_close", file.event_id, REC})
end
`
