//go:build linux

package live

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/lc-voip/lc/internal/capture"
	"golang.org/x/sys/unix"
)

// batchQueue is how many ring blocks' worth of packets may wait in the
// channel from the readers to Next.
const batchQueue = 16

// handoverLag is how far behind the wall clock a packet can be while its
// block is still in the kernel. The kernel retires a block on a timer of
// period retireTimeout, and retires the open block only when it was open
// at the timer's previous expiry: a block opened by a timeout is retired
// at most one period after its first packet, one opened because the
// previous block was full at most two. One more period covers the timer's
// latency and the packet's way from its timestamp into the ring. A reader
// that reads the wall clock, E, then finds no block ready has therefore
// taken every packet older than E less handoverLag: that is the watermark
// it publishes (see order).
const handoverLag = 3 * retireTimeout

// fallbackLag is how long a packet waits at most for the watermarks of the
// other interfaces, by the wall clock after its time, should a reader be
// stuck; see order. It is far longer than handoverLag and than any delay
// the scheduler of a busy machine causes, so in practice it never decides.
const fallbackLag = 2 * time.Second

// Source captures from live interfaces. See the package documentation.
type Source struct {
	socks   []*socket
	batches chan batch
	order   *order
	done    bool // batches is closed: every reader has ended
	ticks   <-chan time.Time
	ticker  *time.Ticker
	wait    *time.Timer
	now     func() time.Time
	log     *slog.Logger
	quit    chan struct{} // closed by Close: readers return at once
	readers sync.WaitGroup
	closing sync.Once

	stop    context.CancelFunc // ends every reader when one fails
	failure error              // the first reader's failure; read by Next after done
	failMu  sync.Mutex
}

// batch is what a reader sends Next: one ring block's packets, copied
// out, or a watermark (see order), with the position of the interface they
// come from. A watermark travels behind the batches it covers.
type batch struct {
	sock int
	pkts []capture.Packet
	upTo time.Time // not zero: a watermark, sock has delivered every packet older
}

// Open makes one socket per interface of cfg; it needs CAP_NET_RAW. No
// packet is read before Start.
func Open(cfg Config) (*Source, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	s := &Source{
		batches: make(chan batch, batchQueue),
		order:   newOrder(len(cfg.Interfaces), fallbackLag),
		ticks:   cfg.Ticks,
		now:     time.Now,
		log:     cmp.Or(cfg.Logger, slog.New(slog.DiscardHandler)),
		quit:    make(chan struct{}),
	}
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

// Start begins reading. When ctx is done, the readers take what the rings
// hold (at most one ring's worth more), then Next returns io.EOF. An
// interface that goes down is waited for; one that disappears ends the
// capture the same way, and Next then returns an error naming it.
func (s *Source) Start(ctx context.Context) {
	ctx, s.stop = context.WithCancel(ctx)
	if s.ticks == nil {
		s.ticker = time.NewTicker(DefaultTick)
		s.ticks = s.ticker.C
	}
	for i, sock := range s.socks {
		s.readers.Add(1)
		go func() {
			defer s.readers.Done()
			s.read(ctx, i, sock)
		}()
	}
	go func() {
		s.readers.Wait()
		close(s.batches)
	}()
}

// read hands the blocks of sock, interface i, to Next until ctx is done
// and the ring is drained, or Close. Whenever it finds no block ready, it
// publishes the interface's watermark: the wall time it read just before
// looking, less handoverLag.
func (s *Source) read(ctx context.Context, i int, sock *socket) {
	left := -1          // blocks still to take after ctx is done; -1 while running
	var until time.Time // the most a stopping reader waits for the last block
	down := false
	for left != 0 {
		if left < 0 && ctx.Err() != nil {
			left, until = sock.blocks, s.now().Add(drainLimit)
		}
		if at := s.now(); !sock.ready() {
			s.publish(i, at.Add(-handoverLag))
			wait := pollTimeout
			if left > 0 {
				wait = 2 * retireTimeout // long enough for a partly filled block to be handed over
			}
			ok, err := sock.wait(wait)
			switch {
			case err != nil && left >= 0:
				return // stopping anyway
			case err != nil:
				down = s.noteDown(sock, err, down)
				continue
			case !ok && left > 0 && !(sock.pending() && s.now().Before(until)):
				return // nothing left in the ring, or waited long enough
			case !ok:
				continue // look again, and publish a newer watermark
			}
		}
		if down {
			down = false
			s.log.Info("interface is up again: capturing", "interface", sock.iface.name)
		}
		b := batch{sock: i, pkts: sock.take()}
		if left > 0 {
			left--
		}
		select {
		case s.batches <- b:
		case <-s.quit:
			return
		}
	}
}

// publish sends Next the watermark of interface i, unless the channel is
// full: a newer one follows soon, and batches must not wait behind it.
func (s *Source) publish(i int, upTo time.Time) {
	select {
	case s.batches <- batch{sock: i, upTo: upTo}:
	default:
	}
}

// noteDown handles an error the kernel reported on sock: it ends the
// capture when the interface is gone, else logs once that it went down.
// It returns whether the interface is known down. A down interface
// delivers nothing, and its reader goes on looking at the ring, so its
// watermark keeps rising.
func (s *Source) noteDown(sock *socket, err error, down bool) bool {
	if err = s.interfaceDown(sock, err); err != nil {
		s.fail(err)
		return down
	}
	if !down {
		s.log.Warn("interface went down; capture goes on when it comes back up", "interface", sock.iface.name)
	}
	return true
}

// interfaceDown interprets an error the kernel reported on sock: nil when
// the interface is only down (the kernel resumes capture when it comes
// back), an error when it is gone or the error is another.
func (s *Source) interfaceDown(sock *socket, err error) error {
	if !errors.Is(err, unix.ENETDOWN) {
		return fmt.Errorf("capture on %s: %w", sock.iface.name, err)
	}
	if ni, lerr := net.InterfaceByIndex(sock.iface.index); lerr != nil || ni.Name != sock.iface.name {
		return fmt.Errorf("capture on %s: the interface is gone", sock.iface.name)
	}
	return nil
}

// fail records the first reader failure and ends every reader; Next
// returns the failure once their last packets are out.
func (s *Source) fail(err error) {
	s.failMu.Lock()
	defer s.failMu.Unlock()
	if s.failure == nil {
		s.failure = err
		s.log.Error("capture stopped", "error", err)
	}
	s.stop()
}

// Next returns the next packet, or a clock tick (nil Data, Timestamp set)
// when the tick interval has passed and no packet is waiting, or io.EOF
// after Start's context is done and the rings are drained. Packets of
// several interfaces come out in timestamp order (see order). A tick's
// time is the lowest watermark of the interfaces (order.complete), so it
// runs ahead of no packet still in a ring.
func (s *Source) Next() (capture.Packet, error) {
	for {
		p, ok, due := s.order.next(s.done)
		if ok {
			return p, nil
		}
		if s.done {
			s.failMu.Lock()
			defer s.failMu.Unlock()
			if s.failure != nil {
				return capture.Packet{}, s.failure
			}
			return capture.Packet{}, io.EOF
		}
		var wait time.Duration // until the fallback; 0: nothing queued
		if !due.IsZero() {
			if wait = due.Sub(s.now()); wait <= 0 {
				if s.poll() {
					continue
				}
				// A reader is stuck: the fallback lets the packet out.
				p, _, _ = s.order.next(true)
				return p, nil
			}
		} else if s.poll() { // nothing queued: take what the readers have before any tick
			continue
		}
		var timeout <-chan time.Time
		if wait > 0 {
			if s.wait == nil {
				s.wait = time.NewTimer(wait)
			} else {
				s.wait.Reset(wait)
			}
			timeout = s.wait.C
		}
		select {
		case b, open := <-s.batches:
			s.receive(b, open)
		case now := <-s.ticks:
			if s.order.empty() {
				return capture.Packet{Info: gopacket.CaptureInfo{Timestamp: s.order.complete(now)}}, nil
			}
		case <-timeout:
		}
	}
}

// poll takes what the readers have sent, without waiting, and reports
// whether there was anything.
func (s *Source) poll() bool {
	select {
	case b, open := <-s.batches:
		s.receive(b, open)
		return true
	default:
		return false
	}
}

// receive queues a batch or records a watermark from the readers; !open
// means they have all ended.
func (s *Source) receive(b batch, open bool) {
	switch {
	case !open:
		s.done = true
	case !b.upTo.IsZero():
		s.order.mark(b.sock, b.upTo)
	default:
		s.order.add(b.sock, b.pkts)
	}
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
		if s.wait != nil {
			s.wait.Stop()
		}
		for _, sock := range s.socks {
			sock.release()
		}
	})
	return nil
}
