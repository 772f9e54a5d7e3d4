package retention

import (
	"container/heap"
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// Stats counts what a Cleaner removed and what it watches. A Stats result
// owns its map.
type Stats struct {
	// Removed counts the units removed, by kind (Kind.Name), every kind
	// at 0 from the start; with Config.DryRun, the units that would have
	// been.
	Removed      map[string]int64
	RemovedBytes int64 // their bytes
	Tracked      int64 // units done (Add) and on disk: the ones a pass may remove
	TrackedBytes int64 // their bytes, as measured
	Held         int64 // units held (Hold) and not done yet: never removed
	HeldBytes    int64 // their bytes, as the caller said
	Errors       int64 // removals (and measurements) that failed
	Waits        int64 // WaitRoom calls that waited
	DryRun       bool  // Config.DryRun: nothing was removed
}

// Cleaner removes the units of an output tree, oldest first, while the
// tree is over its size limit, and those older than its age limit; see
// the package documentation for what it never removes.
//
// Its methods are safe from any goroutine. Its zero value is not usable:
// see New.
type Cleaner struct {
	cfg  Config
	log  *slog.Logger
	root *tree
	wake chan struct{} // a pass is wanted
	stop chan struct{} // closed by Close
	done chan struct{} // closed when the goroutine ends; nil before Start
	once sync.Once     // Close

	// Guarded by pass: one pass at a time.
	pass       sync.Mutex
	order      unitHeap            // units tracked, oldest first
	dryFreed   int64               // bytes a dry run pretended to remove (MaxUsedPercent)
	emptied    map[string]emptyDir // dated directories left empty that the clock had not passed, by path
	lastReport time.Time
	reported   Stats // as of the last report

	// Guarded by mu.
	mu            sync.Mutex
	room          *sync.Cond       // WaitRoom waits here
	known         map[string]bool  // units added and not removed (a dry run's stay), by path
	incoming      []added          // units added since the last pass
	held          map[string]int64 // units held and not added: their bytes, by path
	heldBytes     int64
	incomingBytes int64 // what the callers said of the units added and not measured yet
	fsExcess      int64 // MaxUsedPercent: bytes over the limit after the last pass
	stats         Stats
	closed        bool
}

// emptyDir is a dated directory left empty: the kind's directory, then
// one name per level.
type emptyDir struct {
	kind int
	dirs []string
}

// added is a unit done and not measured yet.
type added struct {
	u    unitPath
	when time.Time
	est  int64 // its bytes, as held
}

// New opens the output tree dir for cfg. It starts nothing: Start starts
// the goroutine, Sweep makes one pass.
func New(dir string, cfg Config) (*Cleaner, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	root, err := openTree(dir)
	if err != nil {
		return nil, err
	}
	c := &Cleaner{
		cfg:     cfg,
		log:     cfg.Logger.With("component", "retention"),
		root:    root,
		wake:    make(chan struct{}, 1),
		stop:    make(chan struct{}),
		known:   map[string]bool{},
		held:    map[string]int64{},
		emptied: map[string]emptyDir{},
		stats:   Stats{Removed: map[string]int64{}, DryRun: cfg.DryRun},
	}
	for _, k := range cfg.Kinds {
		c.stats.Removed[k.Name] = 0
	}
	c.room = sync.NewCond(&c.mu)
	return c, nil
}

// Scan returns the units on disk, slash-separated and relative to the
// root: the entries, directories or regular files, at a unit's depth
// under each kind's directory, whose dated directories and names parse
// with the kind's layouts; no symlink is followed or returned. What the
// caller knows to be done it passes to Add. The dated directories it
// finds empty go at a pass, once the clock has passed them. On an error
// it returns what it found before.
func (c *Cleaner) Scan() ([]string, error) {
	var out []string
	for i, k := range c.cfg.Kinds {
		found, err := c.root.list(k, i, c.cfg.Location)
		for _, u := range found.units {
			out = append(out, u.String())
		}
		c.pass.Lock()
		for _, dirs := range found.empty {
			c.emptied[strings.Join(dirs, "/")] = emptyDir{kind: i, dirs: dirs}
		}
		c.pass.Unlock()
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

// Hold counts bytes more of the unit rel, slash-separated and relative to
// the root, towards the size limit, until Add says it is done; until then
// it is never removed. A caller holds what it has finished writing and
// still uses.
func (c *Cleaner) Hold(rel string, bytes int64) error {
	if _, err := parseUnit(c.cfg.Kinds, rel); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.known[rel] {
		return nil
	}
	c.held[rel] += bytes
	c.heldBytes += bytes
	if c.excessLocked() > 0 {
		c.signal()
	}
	return nil
}

// Add says the caller is done with the unit rel, slash-separated and
// relative to the root: it may be removed from now on. when is its time
// (zero: the time its path names, else its modification time). Adding a
// unit twice is adding it once. The next pass measures it.
func (c *Cleaner) Add(rel string, when time.Time) error {
	u, err := parseUnit(c.cfg.Kinds, rel)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	est := c.held[rel]
	delete(c.held, rel)
	c.heldBytes -= est
	if !c.known[rel] {
		c.known[rel] = true
		c.incoming = append(c.incoming, added{u: u, when: when, est: est})
		c.incomingBytes += est
	}
	c.room.Broadcast()
	c.signal()
	return nil
}

// signal wakes the goroutine, if it is not awake already.
func (c *Cleaner) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// WaitRoom waits while the tree is over its size limit and the units
// done and held (their hooks still running, for lc) could bring it under:
// until a pass has removed enough of them (once their hooks finished, for
// those held), or ctx is done, or the Cleaner closed. So the units done
// and held stay within the limit and one unit, whatever the hooks' pace.
// A reader of files calls it to wait for its hooks rather than fill the
// disk; live capture never should.
func (c *Cleaner) WaitRoom(ctx context.Context) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.mustWaitLocked(ctx) {
		return
	}
	c.stats.Waits++
	stop := context.AfterFunc(ctx, func() {
		c.mu.Lock()
		c.room.Broadcast()
		c.mu.Unlock()
	})
	defer stop()
	for c.mustWaitLocked(ctx) {
		c.room.Wait()
	}
}

// mustWaitLocked reports whether WaitRoom must go on waiting: over the
// limit by no more than removing the units done and held would free, with
// units held (without any, nothing the caller waits for is to come).
func (c *Cleaner) mustWaitLocked(ctx context.Context) bool {
	if c.closed || ctx.Err() != nil || len(c.held) == 0 {
		return false
	}
	excess := c.excessLocked()
	return excess > 0 && excess <= c.stats.TrackedBytes+c.incomingBytes+c.heldBytes
}

// excessLocked is how many bytes the tree is over its size limit now, as
// far as the Cleaner knows between passes; 0 or less when under it.
func (c *Cleaner) excessLocked() int64 {
	switch {
	case c.cfg.MaxBytes > 0:
		return c.stats.TrackedBytes + c.incomingBytes + c.heldBytes - c.cfg.MaxBytes
	case c.cfg.MaxUsedPercent > 0:
		return c.fsExcess
	}
	return 0
}

// Start starts the goroutine that makes a pass whenever a unit is added,
// a Hold passes the size limit, and every Config.Interval, until Close.
// Call it once.
func (c *Cleaner) Start() {
	c.done = make(chan struct{})
	go func() {
		defer close(c.done)
		t := time.NewTicker(c.cfg.Interval)
		defer t.Stop()
		for {
			select {
			case <-c.stop:
				return
			case <-c.wake:
			case <-t.C:
			}
			c.Sweep()
		}
	}()
}

// Close stops the goroutine, makes a last pass, logs the last summary,
// and closes the tree. It returns the final figures. After Close, Add and
// Hold do nothing and WaitRoom does not wait.
func (c *Cleaner) Close() Stats {
	c.once.Do(func() {
		close(c.stop)
		if c.done != nil {
			<-c.done
		}
		c.Sweep()
		c.pass.Lock()
		c.report(true)
		c.pass.Unlock()
		c.mu.Lock()
		c.closed = true
		c.room.Broadcast()
		c.mu.Unlock()
		c.root.close()
	})
	return c.Stats()
}

// Stats returns the figures so far.
func (c *Cleaner) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.stats
	st.Removed = maps.Clone(c.stats.Removed)
	st.Held, st.HeldBytes = int64(len(c.held)), c.heldBytes
	return st
}

// Sweep makes one pass on the caller's goroutine: it measures the units
// added since the last pass, then removes, oldest first, every unit older
// than the age limit and as many as it takes to bring the tree under the
// size limit. Passes never overlap.
func (c *Cleaner) Sweep() {
	c.pass.Lock()
	defer c.pass.Unlock()
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed {
		return
	}
	c.measureAdded()
	var now time.Time
	if c.cfg.Now != nil {
		now = c.cfg.Now()
	}
	excess := c.excessNow()
	for c.order.Len() > 0 {
		u := c.order[0]
		old := c.cfg.MaxAge > 0 && !now.IsZero() && u.when.Before(now.Add(-c.cfg.MaxAge))
		if !old && excess <= 0 {
			break
		}
		heap.Pop(&c.order)
		c.removeUnit(u, now)
		excess -= u.size
	}
	c.removeEmptied(now)
	c.mu.Lock()
	if c.cfg.MaxUsedPercent > 0 {
		c.fsExcess = excess
	}
	c.room.Broadcast()
	c.mu.Unlock()
	c.report(false)
}

// excessNow is how many bytes the tree is over its size limit at the
// start of a pass: in bytes as counted, in percent as the filesystem
// says less what a dry run pretended to remove.
func (c *Cleaner) excessNow() int64 {
	if c.cfg.MaxUsedPercent <= 0 {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.excessLocked()
	}
	usage := c.cfg.Usage
	if usage == nil {
		usage = c.root.usage
	}
	total, used, err := usage()
	if err != nil {
		c.log.Warn("retention: cannot tell how full the filesystem is: nothing removed for size", "error", err)
		return 0
	}
	return used - int64(float64(total)*c.cfg.MaxUsedPercent/100) - c.dryFreed
}

// measureAdded measures the units added since the last pass and tracks
// them. A unit that is gone, or is no directory nor regular file, is
// forgotten.
func (c *Cleaner) measureAdded() {
	c.mu.Lock()
	in := c.incoming
	c.incoming = nil
	c.mu.Unlock()
	for _, a := range in {
		size, mtime, err := c.root.measure(a.u)
		when := a.when
		if when.IsZero() {
			var ok bool
			if when, ok = c.cfg.Kinds[a.u.kind].nameTime(a.u, c.cfg.Location); !ok {
				when = mtime
			}
		}
		c.mu.Lock()
		c.incomingBytes -= a.est
		if err == nil {
			c.stats.Tracked++
			c.stats.TrackedBytes += size
		} else {
			delete(c.known, a.u.String())
			if !errors.Is(err, fs.ErrNotExist) {
				c.stats.Errors++
			}
		}
		c.mu.Unlock()
		switch {
		case errors.Is(err, fs.ErrNotExist):
			c.log.Debug("retention: unit gone before it was measured", "path", c.root.abs(a.u))
		case err != nil:
			c.log.Warn("retention: cannot measure a unit: it is left alone", "path", c.root.abs(a.u), "error", err)
		default:
			heap.Push(&c.order, unit{path: a.u, when: when, size: size})
		}
	}
}

// removeUnit removes u, and the dated directories that leaves empty and
// the clock now has passed; with DryRun it only logs.
func (c *Cleaner) removeUnit(u unit, now time.Time) {
	kind := c.cfg.Kinds[u.path.kind]
	attrs := []any{"path", c.root.abs(u.path), "kind", kind.Name, "bytes", u.size}
	if !now.IsZero() {
		attrs = append(attrs, "age", now.Sub(u.when))
	}
	var err error
	if c.cfg.DryRun {
		c.dryFreed += u.size
		c.log.Info("retention: would remove (dry run)", attrs...)
	} else {
		err = c.root.remove(u.path)
	}
	c.mu.Lock()
	c.stats.Tracked--
	c.stats.TrackedBytes -= u.size
	if !c.cfg.DryRun {
		delete(c.known, u.path.String())
	}
	switch {
	case err == nil:
		c.stats.Removed[kind.Name]++
		c.stats.RemovedBytes += u.size
	case !errors.Is(err, fs.ErrNotExist):
		c.stats.Errors++
	}
	c.mu.Unlock()
	switch {
	case c.cfg.DryRun:
		return
	case errors.Is(err, fs.ErrNotExist):
		c.log.Debug("retention: unit gone already", attrs...)
	case err != nil:
		c.log.Warn("retention: cannot remove a unit", append(attrs, "error", err)...)
		return
	default:
		c.log.Debug("retention: removed", attrs...)
	}
	c.removeEmpty(emptyDir{kind: u.path.kind, dirs: u.path.parts[:len(u.path.parts)-1]}, now)
}

// removeEmpty removes the dated directory d if it is empty and the clock
// now has passed it, and its parents likewise; the first that the clock
// has not passed is tried again at the next passes (removeEmptied).
func (c *Cleaner) removeEmpty(d emptyDir, now time.Time) {
	kind := c.cfg.Kinds[d.kind]
	removed, kept, err := c.root.removeEmpty(d.dirs, func(levels []string) bool {
		return !kind.levelPassed(levels, now, c.cfg.Location)
	})
	for _, dir := range removed {
		c.log.Debug("retention: removed an empty directory", "path", filepath.Join(c.root.path, dir))
	}
	if kept != nil {
		c.emptied[strings.Join(kept, "/")] = emptyDir{kind: d.kind, dirs: kept}
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		c.log.Warn("retention: cannot remove an empty directory", "path", filepath.Join(c.root.path, filepath.Join(d.dirs...)), "error", err)
	}
}

// removeEmptied tries again the dated directories left empty that the
// clock had not passed.
func (c *Cleaner) removeEmptied(now time.Time) {
	if now.IsZero() || len(c.emptied) == 0 {
		return
	}
	for _, key := range slices.Sorted(maps.Keys(c.emptied)) {
		d := c.emptied[key]
		if !c.cfg.Kinds[d.kind].levelPassed(d.dirs[1:], now, c.cfg.Location) {
			continue
		}
		delete(c.emptied, key)
		if !c.cfg.DryRun {
			c.removeEmpty(d, now)
		}
	}
}

// report logs at Info what was removed since the last report, when
// anything was, at most once per Config.ReportInterval unless final.
func (c *Cleaner) report(final bool) {
	now := time.Now()
	if !final && now.Sub(c.lastReport) < c.cfg.ReportInterval {
		return
	}
	st := c.Stats()
	var attrs []any
	var units int64
	for _, k := range c.cfg.Kinds {
		n := st.Removed[k.Name] - c.reported.Removed[k.Name]
		units += n
		attrs = append(attrs, k.Name, n)
	}
	if units == 0 {
		return
	}
	msg := "retention: removed since the last report"
	if c.cfg.DryRun {
		msg = "retention: would have removed since the last report (dry run)"
	}
	attrs = append(attrs, "units", units, "bytes", st.RemovedBytes-c.reported.RemovedBytes,
		"tracked_units", st.Tracked, "tracked_bytes", st.TrackedBytes, "held_units", st.Held, "errors", st.Errors)
	c.log.Info(msg, attrs...)
	c.reported, c.lastReport = st, now
}

// unit is a unit tracked: done, measured, on disk.
type unit struct {
	path unitPath
	when time.Time
	size int64
}

// unitHeap orders units oldest first, then by path.
type unitHeap []unit

func (h unitHeap) Len() int { return len(h) }
func (h unitHeap) Less(i, j int) bool {
	if c := h[i].when.Compare(h[j].when); c != 0 {
		return c < 0
	}
	return h[i].path.String() < h[j].path.String()
}
func (h unitHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *unitHeap) Push(x any)   { *h = append(*h, x.(unit)) }
func (h *unitHeap) Pop() any {
	old := *h
	u := old[len(old)-1]
	*h = old[:len(old)-1]
	return u
}
