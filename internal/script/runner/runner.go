package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"syscall"
	"time"
)

// Defaults for the zero fields of a Runner.
const (
	DefaultTimeout     = 30 * time.Second
	DefaultKillGrace   = 2 * time.Second
	DefaultOutputLimit = 64 << 10
)

const (
	// pipeDrainDelay is how long Run keeps reading stdout and stderr after
	// the direct child has exited, for processes it left running in the
	// background that still hold the pipes.
	pipeDrainDelay = 100 * time.Millisecond
	// Between SIGTERM and SIGKILL, Run checks whether the process group
	// is gone first after minGroupPoll, then at doubling intervals up to
	// maxGroupPoll.
	minGroupPoll = 2 * time.Millisecond
	maxGroupPoll = 100 * time.Millisecond
	// readChunk is the size of each read from stdout and stderr.
	readChunk = 4 << 10
)

// errRunTimeout is the cause of a run's context when Runner.Timeout
// elapsed, as opposed to the caller's context ending.
var errRunTimeout = errors.New("runner timeout")

// Runner executes the commands of hooks: one process per Run, without a
// shell (argv goes to execve as is), in its own process group, with a
// deadline, capped output and no zombies left behind.
//
// A Runner is safe for concurrent use by any number of goroutines once its
// fields are set; the fields must not change while a Run is in progress.
// Every zero field takes the documented default, so the zero Runner runs
// commands with the defaults.
type Runner struct {
	// Timeout bounds a run from start to exit; zero or negative means
	// DefaultTimeout. When it elapses the whole process group gets
	// SIGTERM, then SIGKILL after KillGrace.
	Timeout time.Duration
	// KillGrace is how long the process group has between SIGTERM and
	// SIGKILL; zero or negative means DefaultKillGrace.
	KillGrace time.Duration
	// OutputLimit is how many bytes of stdout, and of stderr, are kept;
	// zero or negative means DefaultOutputLimit. The rest is read and
	// discarded, so a talkative child never blocks on a full pipe.
	OutputLimit int
	// DryRun makes Run execute nothing and return a Result with DryRun
	// set, Code 0 and the argv that would have run.
	DryRun bool
	// Env is the child's environment, "KEY=value" entries. Nil means lc's
	// own environment; an empty non-nil slice means an empty one.
	Env []string
	// Dir is the child's working directory; "" means lc's.
	Dir string
}

// Result is the outcome of one Run. It owns its slices.
type Result struct {
	// Argv is a copy of the argv Run was given.
	Argv []string
	// DryRun is set when nothing was executed because Runner.DryRun is set.
	DryRun bool
	// Code is the exit status. It is -1, not the shell's 128+n, when the
	// process was ended by a signal (Signal names it), and -1 when it never
	// started (Err says why).
	Code int
	// Signal is the name of the signal that ended the process, such as
	// "SIGKILL"; "" when it exited or never started.
	Signal string
	// TimedOut is set when Run killed the process group because
	// Runner.Timeout elapsed or the caller's context was done.
	TimedOut bool
	// Stdout and Stderr are the first Runner.OutputLimit bytes the process
	// group wrote to each.
	Stdout, Stderr []byte
	// StdoutTruncated and StderrTruncated are set when more was written
	// than was kept.
	StdoutTruncated, StderrTruncated bool
	// StartDelay is the time from Run being called to the child running:
	// fork and exec done.
	StartDelay time.Duration
	// Duration is the time from the child running to its exit, output
	// collected and, after a timeout, its process group ended.
	Duration time.Duration
	// Err is why the command could not start (empty argv, program not
	// found, permission denied, context already done), a wait error, or,
	// together with TimedOut, the cause of the caller's context when that
	// ended the run. It is nil for a process that ran and exited, whatever
	// its status, and for one ended by Runner.Timeout.
	Err error
}

// Run runs argv and waits for it. argv[0] is looked up in lc's PATH unless
// it contains a slash; no shell is involved.
//
// The child runs in a process group of its own whose id is its pid, with
// stdin on /dev/null, stdout and stderr on pipes, and no descriptor of lc
// other than 0, 1 and 2: on Linux, descriptors lc itself inherited without
// close-on-exec are marked close-on-exec before the child starts.
//
// When Timeout elapses, or ctx is done, before the child exits, Run sends
// SIGTERM to the whole group, then SIGKILL to it after KillGrace unless
// the group is gone by then, and sets TimedOut. Processes that left the
// group (setsid, setpgid) are not signalled.
//
// Once the child has exited, its deadline no longer applies: Run reads
// what is left on the pipes for at most a short delay (100ms) and returns.
// Processes the command left running in the background are not killed;
// they may keep running but should not keep the pipes, since writing to
// them after Run has returned fails with EPIPE or SIGPIPE.
//
// The child is always waited for, so no zombie is left, and Run returns
// only after that (a process stuck in uninterruptible sleep can delay it
// past the deadline). Run may be called from any goroutine.
func (r *Runner) Run(ctx context.Context, argv []string) Result {
	called := time.Now()
	res := Result{Argv: slices.Clone(argv), Code: -1}
	if len(argv) == 0 {
		res.Err = errors.New("run command: empty argv")
		return res
	}
	if r.DryRun {
		res.DryRun = true
		res.Code = 0
		return res
	}
	if err := context.Cause(ctx); err != nil {
		res.Err = fmt.Errorf("start command: %w", err)
		return res
	}

	p, err := openPipes()
	if err != nil {
		res.Err = err
		return res
	}
	cmd := r.command(argv, p)

	runCtx, cancel := context.WithTimeoutCause(ctx, r.timeout(), errRunTimeout)
	defer cancel()
	if err := startCommand(cmd, p); err != nil {
		res.Err = err
		return res
	}
	started := time.Now()
	res.StartDelay = started.Sub(called)
	r.supervise(runCtx, cmd, p, started, &res)
	return res
}

// pipes are the child's stdout and stderr pipes: lc reads the read ends,
// the child writes to the write ends.
type pipes struct {
	outR, outW *os.File
	errR, errW *os.File
}

// openPipes opens the stdout and stderr pipes of a child. On error it
// leaves nothing open.
func openPipes() (pipes, error) {
	var p pipes
	var err error
	p.outR, p.outW, err = os.Pipe()
	if err != nil {
		return pipes{}, fmt.Errorf("start command: stdout pipe: %w", err)
	}
	p.errR, p.errW, err = os.Pipe()
	if err != nil {
		closeAll(p.outR, p.outW)
		return pipes{}, fmt.Errorf("start command: stderr pipe: %w", err)
	}
	return p, nil
}

// command returns the unstarted command for argv: no shell, r's
// environment and directory, stdout and stderr on the write ends of p, in
// a process group of its own (see processAttr).
func (r *Runner) command(argv []string, p pipes) *exec.Cmd {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = r.Env
	cmd.Dir = r.Dir
	cmd.Stdout = p.outW
	cmd.Stderr = p.errW
	cmd.SysProcAttr = processAttr()
	return cmd
}

// startCommand starts cmd, with lc's inherited descriptors marked
// close-on-exec, and closes the write ends of p, which only the child
// needs. When the start fails it closes the read ends too.
func startCommand(cmd *exec.Cmd, p pipes) error {
	closeOnExecInherited()
	err := cmd.Start()
	closeAll(p.outW, p.errW)
	if err != nil {
		closeAll(p.outR, p.errR)
		return fmt.Errorf("start command: %w", err)
	}
	return nil
}

// supervise follows the started cmd to its end: it collects its output
// from the read ends of p, which it closes, ends its process group if
// runCtx is done first, waits for it and fills in the rest of res.
// started is when the child started running.
func (r *Runner) supervise(runCtx context.Context, cmd *exec.Cmd, p pipes, started time.Time, res *Result) {
	pgid := cmd.Process.Pid

	limit := r.outputLimit()
	stdout := outputBuffer{limit: limit}
	stderr := outputBuffer{limit: limit}
	readersDone := make(chan struct{}, 2)
	go stdout.readFrom(p.outR, readersDone)
	go stderr.readFrom(p.errR, readersDone)

	exited := make(chan struct{})
	killed := make(chan bool, 1)
	go func() { killed <- r.watch(runCtx, pgid, exited) }()

	waitErr := cmd.Wait()
	close(exited)
	awaitReaders(readersDone, 2, pipeDrainDelay, p.outR, p.errR)
	closeAll(p.outR, p.errR)
	res.TimedOut = <-killed
	res.Duration = time.Since(started)

	res.Stdout, res.StdoutTruncated = stdout.buf, stdout.truncated
	res.Stderr, res.StderrTruncated = stderr.buf, stderr.truncated
	setOutcome(runCtx, res, waitErr, cmd.ProcessState)
}

// setOutcome sets Err, Code and Signal of res, whose TimedOut is set, from
// the cause of runCtx, the error of waiting for the child and its state
// st (nil when it could not be waited for).
func setOutcome(runCtx context.Context, res *Result, waitErr error, st *os.ProcessState) {
	if res.TimedOut && !errors.Is(context.Cause(runCtx), errRunTimeout) {
		res.Err = fmt.Errorf("command stopped: %w", context.Cause(runCtx))
	}
	var exitErr *exec.ExitError
	if waitErr != nil && !errors.As(waitErr, &exitErr) {
		res.Err = fmt.Errorf("wait for command: %w", waitErr)
	}
	if st != nil {
		if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			res.Signal = signalName(ws.Signal())
		} else {
			res.Code = st.ExitCode()
		}
	}
}

// watch waits for the child to exit or ctx to be done, whichever comes
// first. In the second case it ends the process group (SIGTERM, SIGKILL
// after the grace period unless the group is gone) and reports true.
func (r *Runner) watch(ctx context.Context, pgid int, exited <-chan struct{}) bool {
	select {
	case <-exited:
		return false
	case <-ctx.Done():
	}
	select {
	case <-exited:
		return false // both ready: the child won
	default:
	}
	_ = signalGroup(pgid, syscall.SIGTERM)
	grace := time.NewTimer(r.killGrace())
	defer grace.Stop()
	interval := minGroupPoll
	poll := time.NewTimer(interval)
	defer poll.Stop()
	for {
		select {
		case <-grace.C:
			if groupAlive(pgid) {
				_ = signalGroup(pgid, syscall.SIGKILL)
			}
			return true
		case <-poll.C:
			// Until the child is reaped the group is alive by definition
			// and its id cannot be reused.
			select {
			case <-exited:
				if !groupAlive(pgid) {
					return true
				}
			default:
			}
			interval = min(2*interval, maxGroupPoll)
			poll.Reset(interval)
		}
	}
}

// signalGroup sends sig to every process of the group pgid. A group that
// no longer exists is not an error.
func signalGroup(pgid int, sig syscall.Signal) error {
	err := syscall.Kill(-pgid, sig)
	if errors.Is(err, syscall.ESRCH) {
		return nil
	}
	return err
}

// groupAlive reports whether a process that is not a zombie is left in
// the group pgid. Zombies count as gone: orphans wait in that state until
// whoever adopted them reaps them, which some container inits do late.
func groupAlive(pgid int) bool {
	if errors.Is(syscall.Kill(-pgid, 0), syscall.ESRCH) {
		return false
	}
	return groupHasLiveMember(pgid)
}

// awaitReaders waits for n reports on done. If they have not all arrived
// delay after the call, it makes the pending reads of files return at once
// and waits for the rest.
func awaitReaders(done <-chan struct{}, n int, delay time.Duration, files ...*os.File) {
	timer := time.NewTimer(delay)
	defer timer.Stop()
	for n > 0 {
		select {
		case <-done:
			n--
		case <-timer.C:
			for _, f := range files {
				_ = f.SetReadDeadline(time.Now())
			}
		}
	}
}

func closeAll(files ...*os.File) {
	for _, f := range files {
		_ = f.Close()
	}
}

func (r *Runner) timeout() time.Duration {
	if r.Timeout <= 0 {
		return DefaultTimeout
	}
	return r.Timeout
}

func (r *Runner) killGrace() time.Duration {
	if r.KillGrace <= 0 {
		return DefaultKillGrace
	}
	return r.KillGrace
}

func (r *Runner) outputLimit() int {
	if r.OutputLimit <= 0 {
		return DefaultOutputLimit
	}
	return r.OutputLimit
}

// outputBuffer keeps the first limit bytes read from a pipe and discards
// the rest. It is filled by one goroutine and read after that goroutine
// has reported done.
type outputBuffer struct {
	buf       []byte
	limit     int
	truncated bool
}

// write keeps what of p fits under the limit.
func (b *outputBuffer) write(p []byte) {
	room := b.limit - len(b.buf)
	if len(p) > room {
		b.truncated = true
		p = p[:max(room, 0)]
	}
	b.buf = append(b.buf, p...)
}

// readFrom reads f to its end, or until reading fails (a read deadline
// set by awaitReaders included), then reports on done.
func (b *outputBuffer) readFrom(f *os.File, done chan<- struct{}) {
	defer func() { done <- struct{}{} }()
	chunk := make([]byte, readChunk)
	for {
		n, err := f.Read(chunk)
		b.write(chunk[:n])
		if err != nil {
			return
		}
	}
}

// signalName returns the conventional name of sig, such as "SIGTERM".
func signalName(sig syscall.Signal) string {
	switch sig {
	case syscall.SIGHUP:
		return "SIGHUP"
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGQUIT:
		return "SIGQUIT"
	case syscall.SIGILL:
		return "SIGILL"
	case syscall.SIGTRAP:
		return "SIGTRAP"
	case syscall.SIGABRT:
		return "SIGABRT"
	case syscall.SIGBUS:
		return "SIGBUS"
	case syscall.SIGFPE:
		return "SIGFPE"
	case syscall.SIGKILL:
		return "SIGKILL"
	case syscall.SIGUSR1:
		return "SIGUSR1"
	case syscall.SIGSEGV:
		return "SIGSEGV"
	case syscall.SIGUSR2:
		return "SIGUSR2"
	case syscall.SIGPIPE:
		return "SIGPIPE"
	case syscall.SIGALRM:
		return "SIGALRM"
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGXCPU:
		return "SIGXCPU"
	case syscall.SIGXFSZ:
		return "SIGXFSZ"
	case syscall.SIGSYS:
		return "SIGSYS"
	}
	return "signal " + strconv.Itoa(int(sig))
}
