package journal

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
)

// header opens every segment file: the magic "LCJ1" and the format
// version, 1.
const header = "LCJ1\x01"

// segmentSuffix ends the name of every segment file.
const segmentSuffix = ".seg"

// segmentName is the file name of segment n: 16 hex digits and ".seg".
func segmentName(n uint64) string { return fmt.Sprintf("%016x%s", n, segmentSuffix) }

// parseSegmentName returns the number of the segment file name, or false
// when name is not one segmentName makes.
func parseSegmentName(name string) (uint64, bool) {
	hex, ok := strings.CutSuffix(name, segmentSuffix)
	if !ok || len(hex) != 16 {
		return 0, false
	}
	n, err := strconv.ParseUint(hex, 16, 64)
	if err != nil || segmentName(n) != name {
		return 0, false
	}
	return n, true
}

// listSegments returns the numbers of the segment files in dir, ascending.
// Other files are left alone.
func listSegments(dir string) ([]uint64, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list journal %q: %w", dir, err)
	}
	var nums []uint64
	for _, e := range entries {
		if n, ok := parseSegmentName(e.Name()); ok && e.Type().IsRegular() {
			nums = append(nums, n)
		}
	}
	slices.Sort(nums)
	return nums, nil
}

// segmentContents is what one segment file holds.
type segmentContents struct {
	recs    []record // the whole records, the segment list first
	valid   int64    // the length of the header and whole records
	torn    int64    // the bytes after valid (the last segment only)
	header  bool     // the file starts with a whole, good header
	hasLive bool     // recs starts with the segment list
	live    []uint64 // the segments live when this one was created
	drops   []uint64 // the segments its recDrop records name
	sealed  bool     // whole, and its last record is a seal
}

// parseSegment reads the segment file n held in b. A torn record ends
// the last segment, and an earlier one that does not end with its seal:
// one whose writes had not all reached the disk when the power went. The
// bytes from it on are torn. A last segment that holds only the start of
// a header, or only zeros, is torn whole. Anything else wrong, a torn
// record in a sealed segment or a malformed record anywhere, makes
// parseSegment return an error wrapping ErrUnreadable. Records alias b.
func parseSegment(n uint64, b []byte, last bool) (segmentContents, error) {
	var c segmentContents
	if len(b) < len(header) || string(b[:len(header)-1]) != header[:len(header)-1] {
		if last && (strings.HasPrefix(header, string(b)) || allZero(b)) {
			c.torn = int64(len(b))
			return c, nil
		}
		return c, unreadable(n, 0, errors.New("bad header"))
	}
	if v := b[len(header)-1]; v != header[len(header)-1] {
		return c, unreadable(n, 0, fmt.Errorf("format version %d, want %d", v, header[len(header)-1]))
	}
	c.header = true
	off := len(header)
	for off < len(b) {
		r, size, err := parseRecord(b[off:])
		r.off, r.size = int64(off), size
		if err == nil {
			err = c.add(n, r)
		}
		if err != nil {
			if errors.Is(err, errTorn) && (last || !endsWithSeal(b)) {
				c.torn = int64(len(b) - off)
				break
			}
			return c, unreadable(n, int64(off), err)
		}
		off += size
	}
	c.valid = int64(off)
	c.sealed = c.torn == 0 && len(c.recs) > 0 && c.recs[len(c.recs)-1].typ == recSeal
	return c, nil
}

// endsWithSeal reports whether the segment file held in b ends with a
// good seal record.
func endsWithSeal(b []byte) bool {
	if len(b) < len(header)+sealSize {
		return false
	}
	r, n, err := parseRecord(b[len(b)-sealSize:])
	return err == nil && n == sealSize && r.typ == recSeal
}

// add appends the record r of segment n, which must open with its
// segment list and hold no other.
func (c *segmentContents) add(n uint64, r record) error {
	first := len(c.recs) == 0
	switch {
	case first && r.typ != recSegments:
		return fmt.Errorf("%w: does not start with its segment list", errMalformed)
	case !first && r.typ == recSegments:
		return fmt.Errorf("%w: a second segment list", errMalformed)
	case r.typ == recSegments:
		self, live, err := parseSegments(r.data)
		if err != nil {
			return err
		}
		if self != n {
			return fmt.Errorf("%w: the segment list of segment %d", errMalformed, self)
		}
		c.hasLive, c.live = true, live
	case r.typ == recDrop:
		d, err := parseDrop(r.data)
		if err != nil {
			return err
		}
		c.drops = append(c.drops, d)
	}
	c.recs = append(c.recs, r)
	return nil
}

// unreadable wraps err, found at offset off of segment n, in ErrUnreadable.
func unreadable(n uint64, off int64, err error) error {
	return fmt.Errorf("%w: %s at offset %d: %w", ErrUnreadable, segmentName(n), off, err)
}

// allZero reports whether b holds only zero bytes.
func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
