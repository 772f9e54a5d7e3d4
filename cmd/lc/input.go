package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"

	"github.com/lc-voip/lc/internal/capture"
	"github.com/lc-voip/lc/internal/filter"
	"github.com/lc-voip/lc/internal/live"
	"github.com/lc-voip/lc/internal/processor"
)

// captureOptions are the flags of lc process that say where packets come
// from: files (-r) or interfaces (-i), and which of them to keep (-f).
type captureOptions struct {
	files      []string
	interfaces []string
	filter     string
	snaplen    int
	promisc    bool
	buffer     int64
}

// validate reports bad values, naming the flag.
func (o *captureOptions) validate() []error {
	var errs []error
	switch {
	case len(o.files) == 0 && len(o.interfaces) == 0:
		errs = append(errs, errors.New("no input: give -r FILE or -i INTERFACE"))
	case len(o.files) > 0 && len(o.interfaces) > 0:
		errs = append(errs, errors.New("give capture files (-r) or interfaces (-i), not both"))
	}
	if o.snaplen < live.MinSnaplen || o.snaplen > live.MaxSnaplen {
		errs = append(errs, &flagError{Flag: "snaplen", Value: fmt.Sprint(o.snaplen),
			Reason: fmt.Sprintf("must be from %d to %d", live.MinSnaplen, live.MaxSnaplen)})
	}
	if o.buffer < live.MinBuffer || o.buffer > live.MaxBuffer {
		errs = append(errs, &flagError{Flag: "capture-buffer", Value: formatSize(o.buffer),
			Reason: "must be from 1M to 2G"})
	}
	return errs
}

// packetInput is what lc process reads: capture files merged in time
// order, or live interfaces; in either case only what the filter keeps.
type packetInput struct {
	files   *trackedInput // file mode
	live    *live.Source  // live mode
	kept    *filteredInput
	snaplen int // file mode: bytes kept of each packet, as the kernel keeps them in live mode
	closed  bool
}

// openInput opens the files or the capture sockets. A filter that does
// not parse is a usage error.
func openInput(o captureOptions, stdin io.Reader, log *slog.Logger) (*packetInput, error) {
	f, err := filter.Parse(o.filter)
	if err != nil {
		return nil, usageError{err}
	}
	if len(o.interfaces) > 0 {
		cfg := live.DefaultConfig()
		cfg.Interfaces, cfg.Snaplen, cfg.Promisc, cfg.Buffer = o.interfaces, o.snaplen, o.promisc, int(o.buffer)
		cfg.Logger = log
		if o.filter != "" {
			cfg.Filter = f
		}
		src, err := live.Open(cfg)
		if err != nil {
			var fe *filter.Error
			if errors.As(err, &fe) {
				return nil, usageError{err}
			}
			return nil, err
		}
		return &packetInput{live: src}, nil
	}
	merger, err := openFiles(o.files, stdin)
	if err != nil {
		return nil, err
	}
	in := &packetInput{files: &trackedInput{Merger: merger}, snaplen: o.snaplen}
	if o.filter != "" {
		in.kept = &filteredInput{src: in.files, filter: f, match: map[uint16]func([]byte) bool{}}
	}
	return in, nil
}

// start begins capturing and returns the source to run and the context to
// run it under. A live source stops by itself when ctx is done and hands
// over what the kernel still holds, so its run is not cut short by ctx.
func (in *packetInput) start(ctx context.Context) (processor.Source, context.Context) {
	if in.live != nil {
		in.live.Start(ctx)
		return in.live, context.Background()
	}
	var src processor.Source = in.files
	if in.kept != nil {
		src = in.kept
	}
	return snapped{src, in.snaplen}, ctx
}

// snapped cuts the packets of a file source to snaplen bytes, after the
// filter has seen them whole, as tcpdump -s and live capture do; a cut
// packet keeps its wire length.
type snapped struct {
	src     processor.Source
	snaplen int
}

func (s snapped) Next() (capture.Packet, error) {
	p, err := s.src.Next()
	if err == nil && len(p.Data) > s.snaplen {
		p.Data = p.Data[:s.snaplen]
		p.Info.CaptureLength = s.snaplen
	}
	return p, err
}

// totalDrops sums the counters of every interface; unknown interface
// drops count as none.
func totalDrops(st []live.Stats) (received, kernel, iface int64) {
	for _, s := range st {
		received += s.Received
		kernel += s.KernelDrops
		iface += max(s.InterfaceDrops, 0)
	}
	return received, kernel, iface
}

// captureStats returns the interfaces' counters; nil when reading files.
func (in *packetInput) captureStats() []live.Stats {
	if in.live == nil {
		return nil
	}
	return in.live.Stats()
}

// problems returns the inputs that ended early; none in live mode.
func (in *packetInput) problems() []capture.Problem {
	if in.files == nil {
		return nil
	}
	return in.files.Problems()
}

// unmatched is how many packets read from files the filter left out.
func (in *packetInput) unmatched() int64 {
	if in.kept == nil {
		return 0
	}
	return in.kept.rejected.Load()
}

// Close stops capturing, which freezes the capture counters, or closes
// the files. Calls after the first do nothing.
func (in *packetInput) Close() error {
	if in.closed {
		return nil
	}
	in.closed = true
	if in.live != nil {
		return in.live.Close()
	}
	return in.files.Close()
}

// filteredInput passes on the packets of a file source that match the
// filter, compiled for each link type as it appears.
type filteredInput struct {
	src      processor.Source
	filter   *filter.Filter
	match    map[uint16]func([]byte) bool
	rejected atomic.Int64
}

func (k *filteredInput) Next() (capture.Packet, error) {
	for {
		p, err := k.src.Next()
		if err != nil {
			return p, err
		}
		m, ok := k.match[p.LinkType]
		if !ok {
			m, err = k.matcher(p.LinkType)
			if err != nil {
				return capture.Packet{}, err
			}
			k.match[p.LinkType] = m
		}
		if m(p.Data) {
			return p, nil
		}
		k.rejected.Add(1)
	}
}

func (k *filteredInput) matcher(linkType uint16) (func([]byte) bool, error) {
	link, ok := filter.LinkOf(linkType)
	if !ok {
		return nil, fmt.Errorf("filter %q: cannot be applied to packets of link type %d", k.filter.String(), linkType)
	}
	return k.filter.Matcher(link)
}

// openFiles opens every capture and merges them in time order.
func openFiles(paths []string, stdin io.Reader) (*capture.Merger, error) {
	files := make([]*capture.File, 0, len(paths))
	for i, path := range paths {
		var (
			f   *capture.File
			err error
		)
		if path == "-" {
			f, err = capture.OpenReader("-", stdin, i)
		} else {
			f, err = capture.OpenFile(path, i)
		}
		if err != nil {
			for _, f := range files {
				f.Close()
			}
			return nil, err
		}
		files = append(files, f)
	}
	return capture.NewMerger(files), nil
}
