package processor

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/lc-voip/lc/internal/capture"
)

// Compressions of output files (Config.Compress).
const (
	CompressGzip = "gzip"
	CompressZstd = "zstd"
)

// compressedExt is the name suffix of each compression's files.
var compressedExt = map[string]string{CompressGzip: ".gz", CompressZstd: ".zst"}

// rawPath is the path lc wrote a file under before compressing it: path
// without the suffix of a compression.
func rawPath(path string) string {
	for _, ext := range compressedExt {
		if p, ok := strings.CutSuffix(path, ".pcap"+ext); ok {
			return p + ".pcap"
		}
	}
	return path
}

// compressor compresses a closed pcap file: it writes the compressed copy
// under a temporary name beside it, renames it to the file's name with the
// compression's suffix, and removes the pcap. Readers of the directory
// never meet a compressed file that is not whole. It keeps one encoder and
// is used by the writer's goroutine alone.
type compressor struct {
	root *outDir
	ext  string
	enc  interface {
		io.WriteCloser
		Reset(io.Writer)
	}
}

// newCompressor returns the compressor for kind, nil for none.
func newCompressor(kind string, root *outDir) (*compressor, error) {
	switch kind {
	case "":
		return nil, nil
	case CompressGzip:
		enc, err := gzip.NewWriterLevel(nil, gzip.BestSpeed)
		return &compressor{root: root, ext: compressedExt[kind], enc: enc}, err
	case CompressZstd:
		enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
		return &compressor{root: root, ext: compressedExt[kind], enc: enc}, err
	}
	return nil, fmt.Errorf("compression %q: want gzip or zstd", kind)
}

// compress replaces the pcap at path by its compressed copy and returns
// the copy's path and size. When it fails, the pcap stays as it was and
// what was made of the copy is removed.
func (z *compressor) compress(path string) (string, int64, error) {
	final := path + z.ext
	tmp := final + ".tmp"
	size, err := z.copy(path, tmp)
	if err == nil {
		err = z.root.rename(tmp, final)
	}
	if err != nil {
		if rerr := z.root.remove(tmp); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
			err = fmt.Errorf("%w; removing %q failed: %w", err, tmp, rerr)
		}
		return path, 0, fmt.Errorf("compress pcap %q: %w", path, err)
	}
	if err := z.root.remove(path); err != nil {
		return final, size, fmt.Errorf("compress pcap %q: remove the uncompressed file: %w", path, err)
	}
	return final, size, nil
}

// copy writes the compressed copy of path to tmp, created beneath the
// output directory, and returns its size.
func (z *compressor) copy(path, tmp string) (int64, error) {
	in, err := z.root.openFile(path, os.O_RDONLY, 0)
	if err != nil {
		return 0, err
	}
	defer in.Close()
	out, err := z.root.openOutput(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return 0, err
	}
	cw := &countingWriter{w: out}
	z.enc.Reset(cw)
	_, err = io.Copy(z.enc, in)
	if cerr := z.enc.Close(); err == nil {
		err = cerr
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return cw.n, err
}

// countingWriter counts what it writes.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += int64(n)
	return n, err
}

// compressedCopy finds what a crash left of the compression of the pcap at
// raw, which is missing: its compressed copy, whole once renamed, whose
// path it returns, "" when there is none. A temporary copy is removed.
func (p *Processor) compressedCopy(raw string) string {
	found := ""
	for _, ext := range compressedExt {
		if rel, err := p.out.rel(raw + ext); err == nil {
			if ok, _ := p.out.lstat(rel); ok {
				found = raw + ext
			}
		}
		p.out.remove(raw + ext + ".tmp")
	}
	return found
}

// readWhole reads the whole compressed capture at path, which lc renamed
// into place once complete, for what it holds.
func (p *Processor) readWhole(path string) (repairResult, error) {
	f, err := p.out.openFile(path, os.O_RDONLY, 0)
	if err != nil {
		return repairResult{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return repairResult{}, err
	}
	cf, err := capture.OpenReader(path, f, 0)
	if err != nil {
		return repairResult{}, err
	}
	res := repairResult{Path: path, Bytes: fi.Size()}
	for {
		pkt, err := cf.Next()
		if errors.Is(err, io.EOF) {
			return res, nil
		}
		if err != nil {
			return res, err
		}
		if res.Packets == 0 {
			res.First = pkt.Info.Timestamp
		}
		res.Last = pkt.Info.Timestamp
		res.Packets++
	}
}
