//go:build linux

package live

import (
	"context"
	"io"
	"sync"
	"time"

	"github.com/google/gopacket"
	"github.com/lc-voip/lc/internal/capture"
	"golang.org/x/sys/unix"
)

// batchQueue is how many ring blocks' worth of packets may wait for Next.
const batchQueue = 16

// tickLag is how far behind the wall clock a tick's time is: a packet that
// waits in a block the kernel has not handed over yet is never older than
// that, so ticks do not run ahead of the packets still to come.
const tickLag = 2 * retireTimeout

// Source captures from live interfaces. See the package documentation.
type Source struct {
	socks   []*socket
	batches chan []capture.Packet
	cur     []capture.Packet
	ticks   <-chan time.Time
	ticker  *time.Ticker
	quit    chan struct{} // closed by Close: readers return at once
	readers sync.WaitGroup
	closing sync.Once
}

// Open makes one socket per interface of cfg; it needs CAP_NET_RAW. No
// packet is read before Start.
func Open(cfg Config) (*Source, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	s := &Source{batches: make(chan []capture.Packet, batchQueue), quit: make(chan struct{}), ticks: cfg.Ticks}
	for i, name := range cfg.Interfaces {
		ifc, err := lookup(name, hardwareType)
		var sock *socket
		if err == nil {
			sock, err = openSocket(ifc, i, &cfg)
		}
		if err != nil {
			s.Close()
			return nil, err
		}
		s.socks = append(s.socks, sock)
	}
	return s, nil
}

// hardwareType asks the kernel for an interface's ARPHRD_ type.
func hardwareType(name string) (uint16, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0, err
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return 0, err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFHWADDR, ifr); err != nil {
		return 0, err
	}
	return ifr.Uint16(), nil // ifr_hwaddr.sa_family
}

// LinkTypes returns the LINKTYPE_ value of each interface's packets.
func (s *Source) LinkTypes() []uint16 {
	types := make([]uint16, len(s.socks))
	for i, sock := range s.socks {
		types[i] = sock.iface.view.linkType()
	}
	return types
}

// Start begins reading. When ctx is done, the readers take what the rings
// hold (at most one ring's worth more), then Next returns io.EOF.
func (s *Source) Start(ctx context.Context) {
	if s.ticks == nil {
		s.ticker = time.NewTicker(DefaultTick)
		s.ticks = s.ticker.C
	}
	for _, sock := range s.socks {
		s.readers.Add(1)
		go func() {
			defer s.readers.Done()
			s.read(ctx, sock)
		}()
	}
	go func() {
		s.readers.Wait()
		close(s.batches)
	}()
}

// read hands sock's blocks to Next until ctx is done and the ring is
// drained, or Close.
func (s *Source) read(ctx context.Context, sock *socket) {
	left := -1 // blocks still to take after ctx is done; -1 while running
	for left != 0 {
		if left < 0 && ctx.Err() != nil {
			left = sock.blocks
		}
		wait := pollTimeout
		if left > 0 {
			wait = 2 * retireTimeout // long enough for a partly filled block to be handed over
		}
		if !sock.ready(wait) {
			if left > 0 {
				return
			}
			continue
		}
		batch := sock.take()
		if left > 0 {
			left--
		}
		select {
		case s.batches <- batch:
		case <-s.quit:
			return
		}
	}
}

// Next returns the next packet, or a clock tick (nil Data, Timestamp set)
// when the tick interval has passed, or io.EOF after Start's context is
// done and the rings are drained.
func (s *Source) Next() (capture.Packet, error) {
	for len(s.cur) == 0 {
		select {
		case b, ok := <-s.batches:
			if !ok {
				return capture.Packet{}, io.EOF
			}
			s.cur = b
		case now := <-s.ticks:
			return capture.Packet{Info: gopacket.CaptureInfo{Timestamp: now.Add(-tickLag)}}, nil
		}
	}
	p := s.cur[0]
	s.cur[0] = capture.Packet{}
	s.cur = s.cur[1:]
	return p, nil
}

// Stats returns the counters of every interface, in Config order. Safe
// from any goroutine, also after Close.
func (s *Source) Stats() []Stats {
	out := make([]Stats, len(s.socks))
	for i, sock := range s.socks {
		out[i] = sock.stats()
	}
	return out
}

// Close stops the readers and releases the sockets.
func (s *Source) Close() error {
	s.closing.Do(func() {
		close(s.quit)
		s.readers.Wait()
		if s.ticker != nil {
			s.ticker.Stop()
		}
		for _, sock := range s.socks {
			sock.release()
		}
	})
	return nil
}
