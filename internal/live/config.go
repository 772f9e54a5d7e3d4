package live

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/lc-voip/lc/internal/filter"
)

// Defaults of Config.
const (
	DefaultSnaplen = 262144   // bytes kept of each packet, as tcpdump
	DefaultBuffer  = 32 << 20 // ring bytes per socket: about 1.5 s of 100k packets/s of VoIP
	DefaultTick    = time.Second
)

// Config says what to capture and how.
type Config struct {
	// Interfaces to capture on, by name; "any" alone for all of them.
	Interfaces []string
	Snaplen    int  // bytes kept of each packet
	Promisc    bool // put the interfaces in promiscuous mode
	Buffer     int  // ring size per socket in bytes

	// Filter, when not nil, runs in the kernel: only matching packets are
	// captured (and counted).
	Filter *filter.Filter

	// Logger receives what happens to the interfaces while capturing (one
	// goes down, comes back, disappears). Nil discards.
	Logger *slog.Logger

	// Ticks delivers the wall-clock times that Next hands out as clock
	// ticks. Nil means a ticker of DefaultTick. Tests inject their own.
	Ticks <-chan time.Time
}

// DefaultConfig returns a Config with the defaults and no interface.
func DefaultConfig() Config {
	return Config{Snaplen: DefaultSnaplen, Promisc: true, Buffer: DefaultBuffer}
}

// Limits of Config values.
const (
	MinSnaplen = 64
	MaxSnaplen = DefaultSnaplen
	MinBuffer  = 1 << 20
	MaxBuffer  = 1 << 31
)

// check reports every bad field at once.
func (c *Config) check() error {
	var errs []error
	if len(c.Interfaces) == 0 {
		errs = append(errs, errors.New("no interface to capture on"))
	}
	if slices.Contains(c.Interfaces, "any") && len(c.Interfaces) > 1 {
		errs = append(errs, errors.New(`interface "any" captures on every interface: give it alone`))
	}
	if c.Snaplen < MinSnaplen || c.Snaplen > MaxSnaplen {
		errs = append(errs, fmt.Errorf("snaplen %d: must be from %d to %d", c.Snaplen, MinSnaplen, MaxSnaplen))
	}
	if c.Buffer < MinBuffer || c.Buffer > MaxBuffer {
		errs = append(errs, fmt.Errorf("capture buffer %d bytes: must be from 1 MiB to 2 GiB", c.Buffer))
	}
	return errors.Join(errs...)
}
