package processor

import (
	"bufio"
	"errors"

	"github.com/lc-voip/lc/internal/capture"
)

// fileCache bounds the number of open output files. Every write goes
// through it: a file that is not open is (re)opened first, evicting the
// least recently written open file, which is flushed and closed but keeps
// its metadata so that it can be reopened for append later. Eviction is not
// a close in the sense of the events: it fires nothing.
//
// Buffers are recycled between files, so memory is bounded by
// limit × writeBufferSize whatever the number of files.
type fileCache struct {
	limit int
	open  int
	head  pcapFile // sentinel of the LRU list: head.next is the most recent
	spare []*bufio.Writer

	evictions int64
}

func newFileCache(limit int) *fileCache {
	c := &fileCache{limit: limit}
	c.head.next, c.head.prev = &c.head, &c.head
	return c
}

// write appends p to pf, creating the file when it has no packet yet.
func (c *fileCache) write(pf *pcapFile, p *capture.Packet) error {
	if pf.f == nil {
		if err := c.acquire(pf); err != nil {
			return err
		}
	} else {
		c.unlink(pf)
	}
	c.pushFront(pf)
	return pf.write(p)
}

// acquire opens pf, evicting the least recently used file when at the limit.
func (c *fileCache) acquire(pf *pcapFile) error {
	if c.open >= c.limit {
		lru := c.head.prev
		c.unlink(lru)
		c.evictions++
		if err := c.release(lru); err != nil {
			return err
		}
	}
	buf := c.buffer()
	var err error
	if pf.bytes == 0 {
		err = pf.create(buf)
	} else {
		err = pf.reopen(buf)
	}
	if err != nil {
		c.spare = append(c.spare, buf)
		return err
	}
	c.open++
	return nil
}

// close flushes and closes pf if it is open. The file stays valid on disk.
func (c *fileCache) close(pf *pcapFile) error {
	if pf.f == nil {
		return nil
	}
	c.unlink(pf)
	return c.release(pf)
}

// closeAll closes every open file, most recent first.
func (c *fileCache) closeAll() error {
	var errs []error
	for c.head.next != &c.head {
		errs = append(errs, c.close(c.head.next))
	}
	return errors.Join(errs...)
}

func (c *fileCache) release(pf *pcapFile) error {
	buf := pf.w
	err := pf.release()
	c.spare = append(c.spare, buf)
	c.open--
	return err
}

func (c *fileCache) buffer() *bufio.Writer {
	if n := len(c.spare); n > 0 {
		b := c.spare[n-1]
		c.spare = c.spare[:n-1]
		return b
	}
	return bufio.NewWriterSize(nil, writeBufferSize)
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
