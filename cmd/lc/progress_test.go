package main

import (
	"testing"
	"time"
)

// TestProgressLine: the progress line for files (share read, time left)
// and for live capture (drops), from fixed figures.
func TestProgressLine(t *testing.T) {
	tests := []struct {
		name string
		p    progress
		want string
	}{
		{name: "file, a quarter read",
			p:    progress{elapsed: 10*time.Second + 400*time.Millisecond, packets: 120000, bytes: 3 << 20, rate: 11500.4, openCalls: 12, done: 25 << 20, total: 100 << 20},
			want: "10s · 25% read, ETA 31s · 120000 packets (3 MiB) · 11500 packets/s · 12 calls open"},
		{name: "file, nothing read yet",
			p:    progress{elapsed: 300 * time.Millisecond, total: 1 << 30},
			want: "0s · 0% read · 0 packets (0 B) · 0 packets/s · 0 calls open"},
		{name: "file, all read",
			p:    progress{elapsed: 75 * time.Second, packets: 5, bytes: 1536, rate: 2, done: 4096, total: 4096},
			want: "1m15s · 100% read · 5 packets (1.5 KiB) · 2 packets/s · 0 calls open"},
		{name: "standard input",
			p:    progress{elapsed: 2 * time.Second, packets: 10, bytes: 900, rate: 5, done: 2048},
			want: "2s · ?% read · 10 packets (900 B) · 5 packets/s · 0 calls open"},
		{name: "live",
			p:    progress{elapsed: time.Hour + 2*time.Second, packets: 1 << 20, bytes: 5 << 30, rate: 98000, openCalls: 212, live: true, kernelDrops: 3},
			want: "1h0m2s · live · 1048576 packets (5 GiB) · 98000 packets/s · 212 calls open · drops: 3 kernel, 0 interface"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.String(); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}
