package processor

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/lc-voip/lc/internal/decode"
	"github.com/lc-voip/lc/internal/event"
)

// Defaults for Config.
const (
	DefaultOutputDir       = "./lc-out"
	DefaultGrace           = 5 * time.Second
	DefaultIdleTimeout     = 5 * time.Minute
	DefaultMaxCallDuration = 4 * time.Hour
	DefaultAuthWait        = 32 * time.Second
	DefaultRotateMaxSize   = 100 << 20
	DefaultRotateMaxAge    = time.Hour
	DefaultRotateIdle      = 30 * time.Second
	DefaultPerCallMaxSize  = 100 << 20
	DefaultMaxOpenFiles    = 256
	DefaultMaxCalls        = 100000
	DefaultReassemblyBytes = decode.DefaultMaxBufferedBytes
	minReassemblyBytes     = 1 << 20
	minRotateSize          = 64 << 10
)

// Config is the processor's configuration. Durations are packet time.
// The zero value of a field is not a default: use DefaultConfig and change
// what you need, then Validate.
type Config struct {
	OutputDir       string        // root of the output tree; made absolute by New
	PerCallPcap     bool          // write per-call SIP and RTP files; when false, call packets are counted as filtered
	OtherPcap       bool          // write the rotating "other" files; when false, other packets are counted as filtered
	Grace           time.Duration // how long an ended call waits for retransmissions and late media
	IdleTimeout     time.Duration // a call with no packet for this long ends as "timeout"
	MaxCallDuration time.Duration // a call older than this ends as "max-duration"
	AuthWait        time.Duration // after a 401/407, how long to wait for the new INVITE
	RotateMaxSize   int64         // bytes per "other" file
	RotateMaxAge    time.Duration // age of an "other" file, from its first packet
	RotateIdle      time.Duration // an "other" file with no packet for this long is closed
	PerCallMaxSize  int64         // bytes per call file part
	MaxOpenFiles    int           // open output files at most
	MaxCalls        int           // calls followed at once at most (see Processor)
	ReassemblyBytes int64         // bytes TCP reassembly and defragmentation hold at most, together (see decode.Config.MaxBufferedBytes)
	Compress        string        // "" or CompressGzip or CompressZstd: files closed for good are compressed (see compressor)

	// CallsLayout is the Go time layout of the directories between calls/
	// and a call's directory, "/" between levels (see Layout and
	// DefaultCallsLayout).
	CallsLayout string
	// Location is the time zone of the dated directory and file names;
	// nil is UTC. Event times are UTC whatever it is.
	Location *time.Location

	// Emit receives every event on the processing goroutine; nil drops them.
	Emit func(event.Event)
	// Ledger, when set, is told of every call and file opened and
	// closed, for Recover after a crash; nil keeps no such record.
	Ledger Ledger
	// Logger is used for warnings and debug output; nil discards.
	Logger *slog.Logger
}

// DefaultConfig returns the documented defaults.
func DefaultConfig() Config {
	return Config{
		OutputDir:       DefaultOutputDir,
		PerCallPcap:     true,
		OtherPcap:       true,
		CallsLayout:     DefaultCallsLayout,
		Grace:           DefaultGrace,
		IdleTimeout:     DefaultIdleTimeout,
		MaxCallDuration: DefaultMaxCallDuration,
		AuthWait:        DefaultAuthWait,
		RotateMaxSize:   DefaultRotateMaxSize,
		RotateMaxAge:    DefaultRotateMaxAge,
		RotateIdle:      DefaultRotateIdle,
		PerCallMaxSize:  DefaultPerCallMaxSize,
		MaxOpenFiles:    DefaultMaxOpenFiles,
		MaxCalls:        DefaultMaxCalls,
		ReassemblyBytes: DefaultReassemblyBytes,
	}
}

// Validate reports every problem in c at once.
func (c Config) Validate() error {
	var errs []error
	bad := func(field string, v any, why string) {
		errs = append(errs, &FieldError{Field: field, Value: fmt.Sprint(v), Reason: why})
	}
	if c.OutputDir == "" {
		bad("OutputDir", "", "must not be empty")
	}
	if err := checkCallsLayout(c.CallsLayout); err != nil {
		bad("CallsLayout", c.CallsLayout, err.Error())
	}
	for _, d := range []struct {
		field string
		v     time.Duration
	}{
		{"Grace", c.Grace},
		{"IdleTimeout", c.IdleTimeout},
		{"MaxCallDuration", c.MaxCallDuration},
		{"AuthWait", c.AuthWait},
		{"RotateMaxAge", c.RotateMaxAge},
		{"RotateIdle", c.RotateIdle},
	} {
		if d.v <= 0 {
			bad(d.field, d.v, "must be positive")
		}
	}
	for _, s := range []struct {
		field string
		v     int64
	}{
		{"RotateMaxSize", c.RotateMaxSize},
		{"PerCallMaxSize", c.PerCallMaxSize},
	} {
		if s.v < minRotateSize {
			bad(s.field, s.v, fmt.Sprintf("must be at least %d bytes", minRotateSize))
		}
	}
	if c.MaxOpenFiles < 2 {
		bad("MaxOpenFiles", c.MaxOpenFiles, "must be at least 2")
	}
	if c.MaxCalls < 1 {
		bad("MaxCalls", c.MaxCalls, "must be at least 1")
	}
	if _, ok := compressedExt[c.Compress]; !ok && c.Compress != "" {
		bad("Compress", c.Compress, "must be gzip or zstd")
	}
	if c.ReassemblyBytes < minReassemblyBytes {
		bad("ReassemblyBytes", c.ReassemblyBytes, fmt.Sprintf("must be at least %d bytes", minReassemblyBytes))
	}
	return errors.Join(errs...)
}

// FieldError is one invalid configuration value. Field is the name of
// the Config field that holds it, such as "Grace"; the command line maps
// it to the flag that sets it.
type FieldError struct {
	Field  string
	Value  string
	Reason string
}

func (e *FieldError) Error() string { return fmt.Sprintf("%s = %q: %s", e.Field, e.Value, e.Reason) }
