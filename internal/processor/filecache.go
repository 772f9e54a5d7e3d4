package processor

import (
	"errors"
	"fmt"
	"os"

	"github.com/lc-voip/lc/internal/capture"
	"github.com/lc-voip/lc/internal/event"
)

// fileCache bounds the number of open output files. Every write goes
// through it: a file that is not open is (re)opened first, evicting the
// least recently written open file, which is flushed and closed but keeps
// its metadata so that it can be reopened for append later. Eviction is not
// a close in the sense of the events: it fires nothing.
//
// Buffers are recycled between files, so memory is bounded by
// (limit + maxInflight) × writeBufferSize whatever the number of files.
//
// Files are created and reopened beneath the output directory's
// descriptor (root). A record the cache accepted is counted as Written by
// the caller; when a failed write loses it, the cache moves it from
// Written to Failed, and counts the file in FileErrors.
//
// Buffers of records, and files closed for good, go to the writer (see
// writer.go), which writes and closes them on another goroutine; what
// must follow a close (the file's event, the call's) is queued behind it
// and runs here once it is settled, so events come in the order of the
// closes, with the files' final extents and errors. A file closed to make
// room waits for its last buffer, and is closed here; a record too large
// for a buffer is written here once the writer holds none of the file's
// buffers. A write the writer saw fail
// reaches the file when the cache settles it: the file takes no more
// records, and its error is also kept for the processor (takeErr), which
// stops the run on it as on any write error, a few buffers later than a
// failure seen here.
type fileCache struct {
	limit int
	open  int
	root  *outDir
	stats *Stats
	head  pcapFile // sentinel of the LRU list: head.next is the most recent
	spare [][]byte

	w        *writer
	freeOps  []*writeOp // settled, for reuse
	inflight int        // operations submitted and not settled
	err      error      // a failure the writer reported, not taken yet

	evictions int64

	// wrap, when set, stands in for every file opened: tests make writes
	// fail with it.
	wrap func(path string, f fileHandle) fileHandle
	// inStep makes every buffer submitted wait for its write: tests see
	// a failure at the record that met it.
	inStep bool
}

// newFileCache returns a cache of at most limit open files beneath root
// that counts in stats, or in a Stats of its own when stats is nil, and
// compresses the files it closes for good with z, when not nil.
func newFileCache(limit int, root *outDir, stats *Stats, z *compressor) *fileCache {
	if stats == nil {
		stats = &Stats{}
	}
	if stats.Written == nil {
		stats.Written = make(map[event.FileKind]int64)
	}
	c := &fileCache{limit: limit, root: root, stats: stats, w: newWriter(z)}
	c.head.next, c.head.prev = &c.head, &c.head
	return c
}

// write appends p to pf, creating the file when it has none yet. An error
// means that p is not in the file: a file that failed before takes no
// more records.
func (c *fileCache) write(pf *pcapFile, p *capture.Packet) error {
	if pf.err != nil {
		return pf.err
	}
	if pf.f == nil {
		if err := c.acquire(pf); err != nil {
			return err
		}
	} else {
		c.unlink(pf)
	}
	c.pushFront(pf)
	size := int(recordSize(p))
	if len(pf.buf)+size > cap(pf.buf) {
		c.submit(pf)
	}
	if size > cap(pf.buf) {
		c.await(pf)
		if pf.err == nil {
			return c.writeLarge(pf, p)
		}
	}
	if pf.err != nil { // seen settling what the writer did
		return pf.err
	}
	pf.buf = append(pf.appendRecordHeader(pf.buf, p), p.Data...)
	pf.buffered++
	pf.accept(p)
	return nil
}

// submit hands pf's buffered records to the writer and gives pf an empty
// buffer; with maxInflight buffers in the writer, it first waits for one
// to be done.
func (c *fileCache) submit(pf *pcapFile) {
	if len(pf.buf) == 0 {
		return
	}
	c.enqueue(c.writeOf(pf))
	pf.buf, pf.buffered = c.buffer(), 0
}

// writeOf is the operation writing pf's buffered records.
func (c *fileCache) writeOf(pf *pcapFile) *writeOp {
	op := c.newOp()
	*op = writeOp{pf: pf, f: pf.f, buf: pf.buf, records: pf.buffered, base: pf.bytes - int64(len(pf.buf)), ext: pf.extent}
	return op
}

// newOp returns an operation settled before, or a new one.
func (c *fileCache) newOp() *writeOp {
	if n := len(c.freeOps); n > 0 {
		op := c.freeOps[n-1]
		c.freeOps = c.freeOps[:n-1]
		return op
	}
	return new(writeOp)
}

// enqueue hands op to the writer, first waiting for room when
// maxInflight operations are in it.
func (c *fileCache) enqueue(op *writeOp) {
	if c.inflight == maxInflight {
		c.settle(<-c.w.done)
	}
	if op.pf != nil {
		op.pf.inflight++
	}
	c.inflight++
	c.w.ops <- op
	if c.inStep {
		c.drain()
	} else {
		c.collect()
	}
}

// closeFile closes pf for good through the writer and runs then once pf's
// extent and error are final, after what was asked for before.
func (c *fileCache) closeFile(pf *pcapFile, then func()) {
	if pf.f == nil {
		c.after(then)
		return
	}
	c.unlink(pf)
	op := c.writeOf(pf)
	op.close, op.then = true, then
	pf.f, pf.buf, pf.buffered = nil, nil, 0
	c.open--
	c.enqueue(op)
}

// after runs then once everything asked of the writer so far is settled:
// at once when nothing is.
func (c *fileCache) after(then func()) {
	if c.inflight == 0 {
		then()
		return
	}
	op := c.newOp()
	*op = writeOp{then: then}
	c.enqueue(op)
}

// settle takes in what the writer did with op: the records it put in the
// file, those it lost and why.
func (c *fileCache) settle(op *writeOp) {
	c.inflight--
	pf := op.pf
	if pf != nil {
		c.settleFile(op)
	}
	if op.then != nil {
		op.then()
	}
	*op = writeOp{}
	c.freeOps = append(c.freeOps, op)
}

// settleFile takes in what the writer did with op's file.
func (c *fileCache) settleFile(op *writeOp) {
	pf := op.pf
	pf.inflight--
	switch {
	case len(op.buf) == 0:
	case op.skipped:
		c.lose(pf, op.records)
	case op.err == nil:
		pf.disk = op.ext
	default:
		records, cut := pf.written(op.buf, op.n)
		c.lose(pf, op.records-records)
		err := c.fail(pf, pf.writeError(cut, op.err, op.truncErr))
		c.report(err)
	}
	if op.close && op.closeErr != nil {
		c.report(c.fail(pf, fmt.Errorf("close pcap %q: %w", pf.path, pathless(op.closeErr))))
	}
	if op.zErr != nil {
		c.report(c.fail(pf, op.zErr))
	}
	if op.compressed != "" && op.zErr == nil {
		pf.path, pf.disk.bytes = op.compressed, op.size
	}
	if op.buf != nil {
		c.spare = append(c.spare, op.buf[:0])
	}
}

// report keeps err for takeErr unless a failure is kept already.
func (c *fileCache) report(err error) {
	if c.err == nil {
		c.err = err
	}
}

// await settles the writer's operations until none of pf's is left.
func (c *fileCache) await(pf *pcapFile) {
	for pf.inflight > 0 {
		c.settle(<-c.w.done)
	}
}

// collect settles the operations the writer has done, without waiting.
func (c *fileCache) collect() {
	for {
		select {
		case op := <-c.w.done:
			c.settle(op)
		default:
			return
		}
	}
}

// takeErr returns, once, the first failure the writer reported since the
// last call.
func (c *fileCache) takeErr() error {
	err := c.err
	c.err = nil
	return err
}

// lose moves n records of pf that were counted as written to failed.
func (c *fileCache) lose(pf *pcapFile, n int64) {
	c.stats.Written[pf.kind] -= n
	c.stats.Failed += n
}

// writeLarge writes p, whose record does not fit in a buffer, on its own:
// the record header from pf's buffer, which is empty, then p.Data, with
// no copy of it.
func (c *fileCache) writeLarge(pf *pcapFile, p *capture.Packet) error {
	n, err := pf.f.Write(pf.appendRecordHeader(pf.buf, p))
	if err == nil {
		var m int
		m, err = pf.f.Write(p.Data)
		n += m
	}
	if err != nil {
		return c.fail(pf, pf.cutBack(n, err))
	}
	pf.accept(p)
	pf.disk = pf.extent
	return nil
}

// flush writes pf's buffered records through the writer and waits for
// them. When the write fails, the records that reached the file whole
// stay, the file is cut back after the last of them and fails, and the
// others are counted as failed, not written (see settle); so are records
// buffered after a failure the writer saw.
func (c *fileCache) flush(pf *pcapFile) error {
	c.await(pf)
	if len(pf.buf) == 0 {
		return nil
	}
	c.submit(pf)
	c.await(pf)
	return pf.err
}

// fail records err as pf's error unless pf failed before, and returns err.
func (c *fileCache) fail(pf *pcapFile, err error) error {
	if pf.err == nil {
		pf.err = err
		c.stats.FileErrors++
	}
	return err
}

// acquire opens pf, evicting the least recently used file when at the
// limit. When pf cannot be opened, or the evicted file cannot be written,
// pf fails.
func (c *fileCache) acquire(pf *pcapFile) error {
	if c.open >= c.limit {
		lru := c.head.prev
		c.unlink(lru)
		c.evictions++
		if err := c.release(lru); err != nil {
			return c.fail(pf, fmt.Errorf("make room for %q: %w", pf.path, err))
		}
	}
	open := c.reopen
	if pf.bytes == 0 {
		open = c.create
	}
	f, err := open(pf)
	if err != nil {
		return c.fail(pf, err)
	}
	pf.f, pf.buf = f, c.buffer()
	c.open++
	return nil
}

// create makes pf's file and writes its header. It fails if the path
// exists, even as a symlink, and when a directory on the way is a symlink.
// A file whose header cannot be written is removed.
func (c *fileCache) create(pf *pcapFile) (fileHandle, error) {
	f, err := c.openFile(pf.path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("create pcap %q: %w", pf.path, err)
	}
	if _, err := f.Write(pf.header()); err != nil {
		err = fmt.Errorf("create pcap %q: write header: %w", pf.path, pathless(err))
		f.Truncate(0) // what is left if it cannot be removed is empty
		f.Close()
		if rerr := c.root.remove(pf.path); rerr != nil {
			return nil, fmt.Errorf("%w; removing the file without a header failed: %w", err, rerr)
		}
		return nil, fmt.Errorf("%w (file removed)", err)
	}
	pf.bytes, pf.disk.bytes = pcapHeaderLen, pcapHeaderLen
	return f, nil
}

// reopen opens an evicted file again for append. A file swapped for a
// symlink since it was created fails, as does a directory on the way: the
// write never goes where the symlink points.
func (c *fileCache) reopen(pf *pcapFile) (fileHandle, error) {
	f, err := c.openFile(pf.path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return nil, fmt.Errorf("reopen pcap %q: %w", pf.path, err)
	}
	return f, nil
}

// openFile opens path beneath the output directory.
func (c *fileCache) openFile(path string, flag int, perm os.FileMode) (fileHandle, error) {
	f, err := c.root.openOutput(path, flag, perm)
	if err != nil {
		return nil, err
	}
	if c.wrap != nil {
		return c.wrap(path, f), nil
	}
	return f, nil
}

// close flushes and closes pf here if it is open. The file stays valid on
// disk.
func (c *fileCache) close(pf *pcapFile) error {
	if pf.f == nil {
		return nil
	}
	c.unlink(pf)
	return c.release(pf)
}

// flushAll writes the buffered records of every open file, through the
// writer, waits until they are written and returns a failure the writer
// reported since the last look.
func (c *fileCache) flushAll() error {
	for pf := c.head.next; pf != &c.head; pf = pf.next {
		c.submit(pf)
	}
	c.drain()
	return c.takeErr()
}

// drain settles every operation submitted.
func (c *fileCache) drain() {
	for c.inflight > 0 {
		c.settle(<-c.w.done)
	}
}

// closeAll closes every open file, most recent first, and stops the
// writer: the cache takes no more writes.
func (c *fileCache) closeAll() error {
	var errs []error
	for c.head.next != &c.head {
		errs = append(errs, c.close(c.head.next))
	}
	c.drain()
	c.w.stop()
	return errors.Join(errs...)
}

// release flushes pf and closes its descriptor, keeping the metadata.
func (c *fileCache) release(pf *pcapFile) error {
	err := c.flush(pf)
	if cerr := pf.f.Close(); cerr != nil {
		cerr = c.fail(pf, fmt.Errorf("close pcap %q: %w", pf.path, pathless(cerr)))
		if err == nil {
			err = cerr
		}
	}
	c.spare = append(c.spare, pf.buf[:0])
	pf.f, pf.buf = nil, nil
	c.open--
	return err
}

func (c *fileCache) buffer() []byte {
	if n := len(c.spare); n > 0 {
		b := c.spare[n-1]
		c.spare = c.spare[:n-1]
		return b
	}
	return make([]byte, 0, writeBufferSize)
}

func (c *fileCache) pushFront(pf *pcapFile) {
	pf.prev, pf.next = &c.head, c.head.next
	c.head.next.prev = pf
	c.head.next = pf
}

func (c *fileCache) unlink(pf *pcapFile) {
	pf.prev.next = pf.next
	pf.next.prev = pf.prev
	pf.prev, pf.next = nil, nil
}
