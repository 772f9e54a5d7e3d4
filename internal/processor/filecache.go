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
// limit × writeBufferSize whatever the number of files.
//
// Files are created and reopened beneath the output directory's
// descriptor (root). A record the cache accepted is counted as Written by
// the caller; when a failed write loses it, the cache moves it from
// Written to Failed, and counts the file in FileErrors.
type fileCache struct {
	limit int
	open  int
	root  *outDir
	stats *Stats
	head  pcapFile // sentinel of the LRU list: head.next is the most recent
	spare [][]byte

	evictions int64

	// wrap, when set, stands in for every file opened: tests make writes
	// fail with it.
	wrap func(f *os.File) fileHandle
}

// newFileCache returns a cache of at most limit open files beneath root
// that counts in stats, or in a Stats of its own when stats is nil.
func newFileCache(limit int, root *outDir, stats *Stats) *fileCache {
	if stats == nil {
		stats = &Stats{}
	}
	if stats.Written == nil {
		stats.Written = make(map[event.FileKind]int64)
	}
	c := &fileCache{limit: limit, root: root, stats: stats}
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
		if err := c.flush(pf); err != nil {
			return err
		}
	}
	if size > cap(pf.buf) {
		return c.writeLarge(pf, p)
	}
	pf.buf = append(pf.appendRecordHeader(pf.buf, p), p.Data...)
	pf.accept(p)
	return nil
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

// flush writes pf's buffered records. When the write fails, the records
// that reached the file whole stay, the file is cut back after the last of
// them and fails, and the others are counted as failed, not written.
func (c *fileCache) flush(pf *pcapFile) error {
	if len(pf.buf) == 0 {
		return nil
	}
	pending := pf.packets - pf.disk.packets
	n, err := pf.f.Write(pf.buf)
	if err == nil {
		pf.buf = pf.buf[:0]
		pf.disk = pf.extent
		return nil
	}
	records, cut := pf.written(pf.buf, n)
	pf.buf = pf.buf[:0]
	c.stats.Written[pf.kind] -= pending - records
	c.stats.Failed += pending - records
	return c.fail(pf, pf.cutBack(cut, err))
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
	f, err := c.root.openFile(path, flag, perm)
	if err != nil {
		return nil, err
	}
	if c.wrap != nil {
		return c.wrap(f), nil
	}
	return f, nil
}

// close flushes and closes pf if it is open. The file stays valid on disk.
func (c *fileCache) close(pf *pcapFile) error {
	if pf.f == nil {
		return nil
	}
	c.unlink(pf)
	return c.release(pf)
}

// flushAll writes the buffered records of every open file.
func (c *fileCache) flushAll() error {
	var errs []error
	for pf := c.head.next; pf != &c.head; pf = pf.next {
		errs = append(errs, c.flush(pf))
	}
	return errors.Join(errs...)
}

// closeAll closes every open file, most recent first.
func (c *fileCache) closeAll() error {
	var errs []error
	for c.head.next != &c.head {
		errs = append(errs, c.close(c.head.next))
	}
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
