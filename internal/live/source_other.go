//go:build !linux

package live

import (
	"context"
	"errors"

	"github.com/lc-voip/lc/internal/capture"
)

var errNotLinux = errors.New("live capture needs Linux")

// Source captures from live interfaces; only on Linux.
type Source struct{}

// Open fails: live capture needs Linux.
func Open(Config) (*Source, error) { return nil, errNotLinux }

func (*Source) Start(context.Context)         {}
func (*Source) Next() (capture.Packet, error) { return capture.Packet{}, errNotLinux }
func (*Source) LinkTypes() []uint16           { return nil }
func (*Source) Stats() []Stats                { return nil }
func (*Source) Close() error                  { return nil }
