package journal

import (
	"bytes"
	"cmp"
	"maps"
	"slices"
)

// Item is an item begun and not ended.
type Item struct {
	ID    string
	Data  []byte   // the Begin record's data; nil when empty
	Notes [][]byte // the data of its Note records, in order; nil when none
}

// item is an open item as the table holds it: its notes, and where its
// Begin record lies, not its data, which Journal.Data reads back from the
// file. The segment stays live while the item is open.
type item struct {
	id    string
	notes [][]byte // the data of its Note records, in order
	at    location // its Begin record
	seq   uint64   // its place in the order begun
}

// location is where a record lies: the segment, the offset of the record
// in the segment file, and its encoded length, checksummed header
// included, so that reading it back checks it whole.
type location struct {
	seg  uint64
	off  int64
	size uint32 // at most recordHeaderSize + MaxRecordSize
}

// segState is what the table knows of a live segment.
type segState struct {
	open int // items begun in it and not ended
	// refs are the older segments whose items it holds a note or end
	// for. It is kept while one of them is live: without it, reading
	// would find those items as they were before the note or end.
	refs map[uint64]struct{}
}

// table is the open items and live segments of a journal, built alike by
// reading the files and by appending. Its methods take no lock.
type table struct {
	items map[string]*item
	segs  map[uint64]*segState
	seq   uint64
}

func newTable() *table {
	return &table{items: make(map[string]*item), segs: make(map[uint64]*segState)}
}

// addSegment makes segment n live.
func (t *table) addSegment(n uint64) { t.segs[n] = &segState{} }

// begin opens item id, whose Begin record lies at at. It returns false,
// changing nothing, when id is open.
func (t *table) begin(id string, at location) bool {
	if _, ok := t.items[id]; ok {
		return false
	}
	t.items[id] = &item{id: id, at: at, seq: t.seq}
	t.seq++
	t.segs[at.seg].open++
	return true
}

// note adds a copy of data to the notes of item id, if it is open, for a
// record in segment seg.
func (t *table) note(seg uint64, id string, data []byte) {
	it, ok := t.items[id]
	if !ok {
		return
	}
	it.notes = append(it.notes, clone(data))
	t.refer(seg, it.at.seg)
}

// end closes item id, if it is open, for a record in segment seg. It
// returns whether that left no open item in a segment other than seg.
func (t *table) end(seg uint64, id string) bool {
	it, ok := t.items[id]
	if !ok {
		return false
	}
	delete(t.items, it.id)
	s := t.segs[it.at.seg]
	s.open--
	t.refer(seg, it.at.seg)
	return s.open == 0 && it.at.seg != seg
}

// refer notes that segment seg holds a record for an item of segment of.
func (t *table) refer(seg, of uint64) {
	if seg == of {
		return
	}
	s := t.segs[seg]
	if s.refs == nil {
		s.refs = make(map[uint64]struct{})
	}
	s.refs[of] = struct{}{}
}

// droppable reports whether segment n holds nothing reading still needs:
// no open item begun in it, no note or end for an item of a live older
// segment.
func (t *table) droppable(n uint64) bool {
	s := t.segs[n]
	if s.open > 0 {
		return false
	}
	for r := range s.refs {
		if _, live := t.segs[r]; live {
			return false
		}
		delete(s.refs, r)
	}
	return true
}

// live returns the numbers of the live segments, ascending.
func (t *table) live() []uint64 { return slices.Sorted(maps.Keys(t.segs)) }

// snapshot returns the open items in the order begun, each with the data
// that data gives for it. The notes share their bytes with the table,
// which never changes them.
func (t *table) snapshot(data func(*item) []byte) []Item {
	its := slices.SortedFunc(maps.Values(t.items), func(a, b *item) int { return cmp.Compare(a.seq, b.seq) })
	out := make([]Item, len(its))
	for i, it := range its {
		out[i] = Item{ID: it.id, Data: data(it), Notes: slices.Clone(it.notes)}
	}
	return out
}

// clone copies b; empty is nil.
func clone(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return bytes.Clone(b)
}
