package processor

import "encoding/binary"

// maxInflight is how many operations may wait for the writer or be under
// way: at most 16 buffers of writeBufferSize, 512 KiB ahead of the disk.
const maxInflight = 16

// writer makes the write(2)s of full buffers and of files being closed,
// and their close(2)s, on a goroutine of its own, one after another in the
// order they were asked for, so that copying records into the page cache
// runs on the second core while the processing goroutine goes on. It
// decides nothing: the file cache submits, and settles what each operation
// did when it comes back (see fileCache.settle), on the processing
// goroutine, in the same order; what is to follow a close, the file's
// event, runs then.
//
// A file whose write failed was cut back to its last complete record by
// the writer, which then skips the file's later buffers.
type writer struct {
	ops  chan *writeOp // to the writer
	done chan *writeOp // back, with results; as large as ops, so neither blocks the other
	z    *compressor   // compresses files closed for good; nil for none
}

// writeOp is one buffer to write to a file and then, when close is set,
// the close of its descriptor; then, when set, runs on the processing
// goroutine once the operation is settled. An operation without a file
// only carries then, to keep its place in the order.
type writeOp struct {
	pf      *pcapFile
	f       fileHandle
	buf     []byte // whole records; empty for a close alone
	records int64  // how many
	base    int64  // the file's size before buf: where to cut back to at most
	ext     extent // the file's accepted extent once buf is in it
	close   bool
	then    func()

	// Results.
	n          int    // bytes of buf written
	err        error  // the write's error
	truncErr   error  // cutting the file back after err failed
	skipped    bool   // an earlier write to the file failed: nothing was tried
	closeErr   error  // closing the file failed
	compressed string // the compressed file that replaced the closed one
	size       int64  // its size
	zErr       error  // compressing it failed: the file stays as written
}

// newWriter starts a writer that compresses the files it closes with z,
// when not nil.
func newWriter(z *compressor) *writer {
	w := &writer{ops: make(chan *writeOp, maxInflight), done: make(chan *writeOp, maxInflight), z: z}
	go w.run()
	return w
}

// run does the operations until ops is closed, then closes done.
func (w *writer) run() {
	for op := range w.ops {
		op.do()
		if op.close && op.closeErr == nil && w.z != nil && !op.pf.writeFailed {
			op.compressed, op.size, op.zErr = w.z.compress(op.pf.path)
		}
		w.done <- op
	}
	close(w.done)
}

// do writes op's buffer unless the file failed before, cutting the file
// back to its last complete record when the write fails part way, and
// closes the file when asked. pf.writeFailed is the writer's own.
func (op *writeOp) do() {
	pf := op.pf
	if pf == nil {
		return
	}
	if len(op.buf) > 0 {
		if pf.writeFailed {
			op.skipped = true
		} else if op.n, op.err = op.f.Write(op.buf); op.err != nil {
			pf.writeFailed = true
			if off := wholeRecords(op.buf, op.n); off < op.n {
				op.truncErr = op.f.Truncate(op.base + int64(off))
			}
		}
	}
	if op.close {
		op.closeErr = op.f.Close()
	}
}

// wholeRecords returns how many bytes of the records in buf the complete
// ones among its first n bytes take.
func wholeRecords(buf []byte, n int) int {
	off := 0
	for off+pcapRecordLen <= n {
		end := off + pcapRecordLen + int(binary.LittleEndian.Uint32(buf[off+8:]))
		if end > n {
			break
		}
		off = end
	}
	return off
}

// stop waits for every operation submitted to be done and ends the
// writer. The results left in done are the caller's to settle.
func (w *writer) stop() { close(w.ops) }
