package journal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// MaxRecordSize bounds a record's length field: its type byte, id length,
// id and data. Begin and Note refuse larger records with ErrTooLarge;
// reading takes a larger length for damage.
const MaxRecordSize = 16 << 20

// recordHeaderSize is the length and checksum before every record body.
const recordHeaderSize = 8

// recType is a record's type byte.
type recType byte

const (
	recBegin recType = 1 + iota // an item begins: id, the item's data
	recNote                     // a note on an item: id, the note's data
	recEnd                      // an item ends: id, no data
	// recSegments opens every segment: no id; data is the segment's own
	// number, then how many segments were live when it was created and
	// their numbers, ascending.
	recSegments
	// recDrop says a segment was removed: no id; data is its number.
	recDrop
	// recSeal ends a segment that the next one follows: no id, no data.
	recSeal
)

// sealSize is the encoded length of a recSeal record.
const sealSize = recordHeaderSize + 2

// String names t in errors.
func (t recType) String() string {
	switch t {
	case recBegin:
		return "begin"
	case recNote:
		return "note"
	case recEnd:
		return "end"
	case recSegments:
		return "segment list"
	case recDrop:
		return "drop"
	case recSeal:
		return "seal"
	}
	return fmt.Sprintf("record type %d", byte(t))
}

// castagnoli is the CRC-32C table; it is never written after init.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Reading errors. errTorn is what a write cut short leaves: too few bytes,
// an impossible length, a bad checksum. errMalformed is a record whose
// checksum holds but whose contents make no sense: damage or a bug, never
// a torn write.
var (
	errTorn      = errors.New("bad record")
	errMalformed = errors.New("malformed record")
)

// record is a decoded record. Its id and data alias the bytes it was read
// from.
type record struct {
	typ  recType
	id   []byte
	data []byte
	// Once read from a segment file: where it starts in it, and its
	// encoded length.
	off  int64
	size int
}

// bodySize is the length field of a record with this id and data.
func bodySize(id string, data []byte) int {
	return 1 + uvarintLen(uint64(len(id))) + len(id) + len(data)
}

// appendRecord appends the encoded record to dst.
func appendRecord(dst []byte, t recType, id string, data []byte) []byte {
	start := len(dst)
	dst = append(dst, make([]byte, recordHeaderSize)...)
	dst = append(dst, byte(t))
	dst = binary.AppendUvarint(dst, uint64(len(id)))
	dst = append(dst, id...)
	dst = append(dst, data...)
	body := dst[start+recordHeaderSize:]
	binary.LittleEndian.PutUint32(dst[start:], uint32(len(body)))
	binary.LittleEndian.PutUint32(dst[start+4:], crc32.Checksum(body, castagnoli))
	return dst
}

// parseRecord decodes the record at the start of b and returns it with
// its encoded length. It never reads past b.
func parseRecord(b []byte) (record, int, error) {
	if len(b) < recordHeaderSize {
		return record{}, 0, fmt.Errorf("%w: %d bytes left, a record header takes %d", errTorn, len(b), recordHeaderSize)
	}
	n := binary.LittleEndian.Uint32(b)
	if n < 2 || n > MaxRecordSize {
		return record{}, 0, fmt.Errorf("%w: length %d", errTorn, n)
	}
	if uint64(len(b)-recordHeaderSize) < uint64(n) {
		return record{}, 0, fmt.Errorf("%w: %d bytes left, the record takes %d", errTorn, len(b)-recordHeaderSize, n)
	}
	body := b[recordHeaderSize : recordHeaderSize+int(n)]
	if crc32.Checksum(body, castagnoli) != binary.LittleEndian.Uint32(b[4:]) {
		return record{}, 0, fmt.Errorf("%w: bad checksum", errTorn)
	}
	t := recType(body[0])
	if t < recBegin || t > recSeal {
		return record{}, 0, fmt.Errorf("%w: type %d", errMalformed, t)
	}
	idLen, k := binary.Uvarint(body[1:])
	if k <= 0 || idLen > uint64(len(body)-1-k) {
		return record{}, 0, fmt.Errorf("%w: bad id length", errMalformed)
	}
	idEnd := 1 + k + int(idLen)
	r := record{typ: t, id: body[1+k : idEnd], data: body[idEnd:]}
	if t >= recSegments && len(r.id) != 0 {
		return record{}, 0, fmt.Errorf("%w: %s with an id", errMalformed, t)
	}
	if t == recSeal && len(r.data) != 0 {
		return record{}, 0, fmt.Errorf("%w: seal with data", errMalformed)
	}
	return r, recordHeaderSize + int(n), nil
}

// segmentsData encodes the data of a recSegments record.
func segmentsData(self uint64, live []uint64) []byte {
	b := binary.AppendUvarint(nil, self)
	b = binary.AppendUvarint(b, uint64(len(live)))
	for _, n := range live {
		b = binary.AppendUvarint(b, n)
	}
	return b
}

// parseSegments decodes the data of a recSegments record. The live
// segments must be ascending and older than self.
func parseSegments(b []byte) (self uint64, live []uint64, err error) {
	bad := fmt.Errorf("%w: bad segment list", errMalformed)
	self, k := binary.Uvarint(b)
	if k <= 0 {
		return 0, nil, bad
	}
	b = b[k:]
	count, k := binary.Uvarint(b)
	if k <= 0 || count > uint64(len(b)) { // each number takes a byte at least
		return 0, nil, bad
	}
	b = b[k:]
	live = make([]uint64, 0, count)
	for range count {
		n, k := binary.Uvarint(b)
		if k <= 0 || n >= self || (len(live) > 0 && n <= live[len(live)-1]) {
			return 0, nil, bad
		}
		live = append(live, n)
		b = b[k:]
	}
	if len(b) != 0 {
		return 0, nil, bad
	}
	return self, live, nil
}

// parseDrop decodes the data of a recDrop record.
func parseDrop(b []byte) (uint64, error) {
	n, k := binary.Uvarint(b)
	if k <= 0 || k != len(b) {
		return 0, fmt.Errorf("%w: bad dropped segment", errMalformed)
	}
	return n, nil
}

// uvarintLen is the encoded length of v.
func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}
