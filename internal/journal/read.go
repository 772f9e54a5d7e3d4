package journal

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
)

// Recovery is what reading a journal found.
type Recovery struct {
	// Items are the items begun and not ended, in the order begun, with
	// their data, read while reading the journal. From Open, the bytes of
	// their notes are shared with the Journal and must not be modified;
	// the data is the caller's.
	Items   []Item
	Records int64 // records read, the journal's own bookkeeping included
	// TornBytes counts the bytes of torn tails, cut off by Open, left by
	// Read: of the last segment, and of earlier ones whose last writes
	// had not reached the disk when the power went.
	TornBytes int64
	// SetAside is, when Open could not read the journal, the new name of
	// its directory, kept for inspection and never deleted; "" otherwise.
	SetAside string
	// Cause is why the journal was set aside; it wraps ErrUnreadable.
	Cause error
}

// readRetries bounds how often Read starts again when a segment file
// goes away under it: the journal's owner removed it meanwhile.
const readRetries = 3

// Read reads the journal in dir without changing anything: a torn tail is
// counted, not cut; an unreadable journal is reported with an error
// wrapping ErrUnreadable, not set aside. It takes no lock, so it may run
// while a Journal has dir open: it then sees the journal as it was at
// some moment while it read, and counts a record being written as torn.
func Read(dir string) (Recovery, error) {
	for attempt := 0; ; attempt++ {
		c, err := readDir(dir)
		if errors.Is(err, fs.ErrNotExist) && attempt < readRetries {
			continue
		}
		if err != nil {
			return Recovery{}, err
		}
		return c.recovery(), nil
	}
}

// contents is what reading a journal directory found.
type contents struct {
	t *table
	// data is a copy of the data of every item open in t, read with its
	// Begin record, for Recovery.Items: the table keeps only where it lies.
	data    map[string][]byte
	records int64
	last    uint64          // the last segment; 0 when there is none
	lastC   segmentContents // what the last segment holds
	stale   []uint64        // segment files the journal had dropped
	torn    int64           // bytes of torn tails, all segments
	// unsealed are the earlier segments that do not end with their seal,
	// and the length of their whole records.
	unsealed map[uint64]int64
}

// newContents returns the contents of an empty journal.
func newContents() *contents {
	return &contents{t: newTable(), data: make(map[string][]byte), unsealed: make(map[uint64]int64)}
}

// recovery reports c.
func (c *contents) recovery() Recovery {
	items := c.t.snapshot(func(it *item) []byte { return c.data[it.id] })
	return Recovery{Items: items, Records: c.records, TornBytes: c.torn}
}

// readDir reads the journal in dir: which segments it should hold, from
// the segment list and drops of its last segment, then those segments in
// order. The error wraps ErrUnreadable when the journal is damaged.
func readDir(dir string) (*contents, error) {
	nums, err := listSegments(dir)
	if err != nil {
		return nil, err
	}
	c := newContents()
	if len(nums) == 0 {
		return c, nil
	}
	c.last = nums[len(nums)-1]
	if c.lastC, err = readSegment(dir, c.last, true); err != nil {
		return nil, err
	}
	want, err := expected(dir, nums, c.last, c.lastC)
	if err != nil {
		return nil, err
	}
	for _, n := range nums {
		if !slices.Contains(want, n) {
			c.stale = append(c.stale, n)
		}
	}
	for _, n := range want {
		if !slices.Contains(nums, n) {
			return nil, fmt.Errorf("%w: %s missing", ErrUnreadable, segmentName(n))
		}
		if err := c.replay(dir, n); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// expected returns the segments the journal should hold, ascending: those
// live when its last segment was created, less those it dropped since,
// and the last. When the last segment was torn before its segment list,
// no segment was dropped since it was created: its predecessor then says.
func expected(dir string, nums []uint64, last uint64, lastC segmentContents) ([]uint64, error) {
	from := lastC
	want := []uint64{last}
	if !lastC.hasLive && last > 1 {
		if !slices.Contains(nums, last-1) {
			return nil, fmt.Errorf("%w: %s missing", ErrUnreadable, segmentName(last-1))
		}
		prev, err := readSegment(dir, last-1, false)
		if err != nil {
			return nil, err
		}
		from = prev
		want = append(want, last-1)
	}
	for _, n := range from.live {
		if !slices.Contains(from.drops, n) {
			want = append(want, n)
		}
	}
	slices.Sort(want)
	return want, nil
}

// replay applies the records of segment n to c's table.
func (c *contents) replay(dir string, n uint64) error {
	seg := c.lastC
	if n != c.last {
		var err error
		if seg, err = readSegment(dir, n, false); err != nil {
			return err
		}
	}
	if n != c.last && !seg.sealed {
		c.unsealed[n] = seg.valid
	}
	c.records += int64(len(seg.recs))
	c.torn += seg.torn
	return c.apply(n, seg.recs)
}

// apply makes segment n live and applies its records to the table, and
// to the data of the items open.
func (c *contents) apply(n uint64, recs []record) error {
	c.t.addSegment(n)
	for _, r := range recs {
		switch id := string(r.id); r.typ {
		case recBegin:
			if !c.t.begin(id, location{seg: n, off: r.off, size: uint32(r.size)}) {
				return unreadable(n, r.off, fmt.Errorf("%w: item %q begun twice", errMalformed, r.id))
			}
			c.data[id] = clone(r.data)
		case recNote:
			c.t.note(n, id, r.data)
		case recEnd:
			c.t.end(n, id)
			delete(c.data, id)
		}
	}
	return nil
}

// readSegment reads and parses segment n of dir. A segment before the last
// must hold its segment list.
func readSegment(dir string, n uint64, last bool) (segmentContents, error) {
	b, err := os.ReadFile(filepath.Join(dir, segmentName(n)))
	if err != nil {
		return segmentContents{}, fmt.Errorf("read journal segment: %w", err)
	}
	c, err := parseSegment(n, b, last)
	if err == nil && !last && !c.hasLive {
		err = unreadable(n, c.valid, fmt.Errorf("%w: no segment list", errMalformed))
	}
	return c, err
}
