package main

import "testing"

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		bad  bool
	}{
		{in: "4096", want: 4096},
		{in: "100M", want: 100 << 20},
		{in: "64k", want: 64 << 10},
		{in: "64KiB", want: 64 << 10},
		{in: "2GB", want: 2 << 30},
		{in: " 1G ", want: 1 << 30},
		{in: "2T", want: 2 << 40},
		{in: "", bad: true},
		{in: "-1M", bad: true},
		{in: "12Q", bad: true},
		{in: "1.5M", bad: true},
		{in: "99999999999G", bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseSize(tt.in)
			if tt.bad != (err != nil) || got != tt.want {
				t.Fatalf("parseSize(%q) = %d, %v; want %d (error %v)", tt.in, got, err, tt.want, tt.bad)
			}
		})
	}
	if s := formatSize(100 << 20); s != "100M" {
		t.Fatalf("formatSize = %q", s)
	}
}
