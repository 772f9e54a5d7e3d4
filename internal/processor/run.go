package processor

import (
	"context"
	"errors"
	"io"

	"github.com/lc-voip/lc/internal/capture"
)

// Source is where packets come from: a capture.Merger over files, or a
// live interface. Next returns io.EOF when there is no more input.
//
// A Packet with nil Data is a clock tick, not a packet: a live source
// returns one now and then so that time moves on when no traffic arrives.
// Run hands it to Tick.
type Source interface {
	Next() (capture.Packet, error)
}

// cancelCheckEvery is how many packets Run processes between looks at its
// context.
const cancelCheckEvery = 256

// Run feeds every packet of src to p until src is exhausted, ctx is done
// (returning ctx's error) or writing fails. It does not Close p.
func (p *Processor) Run(ctx context.Context, src Source) error {
	for n := 0; ; n++ {
		if n%cancelCheckEvery == 0 && ctx.Err() != nil {
			return context.Cause(ctx)
		}
		pkt, err := src.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if pkt.Data == nil {
			p.Tick(pkt.Info.Timestamp)
			if ctx.Err() != nil {
				return context.Cause(ctx)
			}
			continue
		}
		if err := p.Packet(&pkt); err != nil {
			return err
		}
	}
}
