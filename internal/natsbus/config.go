package natsbus

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/lc-voip/lc/internal/event"
	"github.com/nats-io/nats.go/jetstream"
)

// Defaults of Config.
const (
	DefaultStream     = "LC"
	DefaultDuplicates = 2 * time.Minute
	DefaultMaxAge     = 7 * 24 * time.Hour
	DefaultConsumer   = "lc-workers"
	DefaultMaxDeliver = 5
)

// Config says which broker to use and how. The zero values of Stream and
// Duplicates take the defaults; URL and Node are required.
type Config struct {
	URL   string // nats://host:port, several separated by commas
	Creds string // a .creds file (JWT and NKey seed); "" is none
	TLSCA string // a PEM file of CAs to verify the server with; "" is the system's
	// TLSCert and TLSKey are the PEM files of the client certificate and
	// its key, for a server that verifies its clients; both or neither.
	TLSCert, TLSKey string
	// Stream is the JetStream stream of lc's events (subjects lc.>),
	// created when missing.
	Stream string
	// Node names this lc in the subjects it publishes to: lc.<node>.call,
	// lc.<node>.pcap. It must be one subject token.
	Node string
	// Duplicates is the stream's duplicate window when lc creates it: a
	// message published again with the same event ID within it is stored
	// once.
	Duplicates time.Duration
	// MaxAge is how long the stream keeps a message, and the object store
	// a file, when lc creates them; 0 is for ever. A worker must take a
	// call before its file events and files are that old. A stream or
	// bucket that exists is left as its operator configured it.
	MaxAge time.Duration
	// Files is the JetStream object store bucket the pcap files travel
	// in, created when missing; "" is none: events carry the paths only.
	// The Publisher puts the file a FileClosed event names into it before
	// it publishes the event; a Worker fetches the files of what it runs
	// into a temporary directory and has the hooks see them there.
	Files string
	// Root is the directory the files are under (lc process's output
	// directory): a file's object name is <node>/<its path relative to
	// Root>. Publisher only; required with Files.
	Root string
}

// Validate reports every problem of c at once.
func (c Config) Validate() error {
	var errs []error
	if c.URL == "" {
		errs = append(errs, errors.New("no NATS server URL"))
	}
	if c.Node == "" || !validToken(c.Node) {
		errs = append(errs, fmt.Errorf("node name %q: must be one NATS subject token (no '.', '*', '>' or white space)", c.Node))
	}
	if c.Stream != "" && !validToken(c.Stream) {
		errs = append(errs, fmt.Errorf("stream name %q: must not contain '.', '*', '>' or white space", c.Stream))
	}
	if c.Files != "" && !validBucket(c.Files) {
		errs = append(errs, fmt.Errorf("object store bucket %q: only letters, digits, '-' and '_'", c.Files))
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		errs = append(errs, errors.New("a client certificate needs its key, and a key its certificate"))
	}
	if c.Duplicates < 0 {
		errs = append(errs, fmt.Errorf("duplicate window %s: must not be negative", c.Duplicates))
	}
	if err := CheckMaxAge(c.MaxAge, c.withDefaults().Duplicates); err != nil {
		errs = append(errs, fmt.Errorf("maximum age %s: %w", c.MaxAge, err))
	}
	return errors.Join(errs...)
}

// CheckMaxAge reports whether d is a valid Config.MaxAge with the
// duplicate window dup: not negative, and 0 or at least dup.
func CheckMaxAge(d, dup time.Duration) error {
	switch {
	case d < 0:
		return errors.New("must not be negative")
	case d > 0 && d < dup:
		return fmt.Errorf("must be 0 (for ever) or at least the duplicate window, %s", dup)
	}
	return nil
}

func validToken(s string) bool {
	return s != "" && !strings.ContainsAny(s, ".*> \t\r\n")
}

func (c Config) withDefaults() Config {
	if c.Stream == "" {
		c.Stream = DefaultStream
	}
	if c.Duplicates == 0 {
		c.Duplicates = DefaultDuplicates
	}
	return c
}

// Subjects. An lc publishes under lc.<node>.
const (
	subjectRoot   = "lc"
	callToken     = "call"
	pcapToken     = "pcap"
	deadToken     = "dead"
	streamSubject = subjectRoot + ".>"
)

// CallSubject is where node publishes its CallCompleted events.
func CallSubject(node string) string { return subjectRoot + "." + node + "." + callToken }

// PcapSubject is where node publishes the FileClosed events of files of
// no call ("other" files).
func PcapSubject(node string) string { return subjectRoot + "." + node + "." + pcapToken }

// CallFilesSubject is where node publishes the FileClosed events of the
// files of Call-ID callID: lc.<node>.pcap.<32 hex digits of the Call-ID's
// SHA-256>. A worker reads them from there when it takes the call's
// CallCompleted.
func CallFilesSubject(node, callID string) string {
	sum := sha256.Sum256([]byte(callID))
	return PcapSubject(node) + "." + hex.EncodeToString(sum[:16])
}

// DeadSubject is where workers put the messages of node that failed on
// every delivery.
func DeadSubject(node string) string { return subjectRoot + "." + node + "." + deadToken }

// subjectOf is where ev is published by node.
func subjectOf(node string, ev event.Event) string {
	switch e := ev.(type) {
	case event.CallCompleted:
		return CallSubject(node)
	case event.FileClosed:
		if e.CallID != "" {
			return CallFilesSubject(node, e.CallID)
		}
	}
	return PcapSubject(node)
}

// nodeOf returns the node token of a subject lc.<node>.<...>.
func nodeOf(subject string) string {
	parts := strings.SplitN(subject, ".", 3)
	if len(parts) < 3 {
		return ""
	}
	return parts[1]
}

// ensureStream returns the stream c.Stream, creating it (subjects lc.>,
// file storage, c.Duplicates, c.MaxAge) when missing. A stream that exists is left
// as its operator configured it.
func ensureStream(ctx context.Context, js jetstream.JetStream, c Config) (jetstream.Stream, error) {
	s, err := js.Stream(ctx, c.Stream)
	if err == nil {
		return s, nil
	}
	if !errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, fmt.Errorf("look up stream %s: %w", c.Stream, err)
	}
	s, err = js.CreateStream(ctx, jetstream.StreamConfig{
		Name:       c.Stream,
		Subjects:   []string{streamSubject},
		Storage:    jetstream.FileStorage,
		Duplicates: c.Duplicates,
		MaxAge:     c.MaxAge,
	})
	if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
		return js.Stream(ctx, c.Stream) // another lc made it first
	}
	if err != nil {
		return nil, fmt.Errorf("create stream %s: %w", c.Stream, err)
	}
	return s, nil
}

// backoff is the wait before retry n (0 first): 100ms doubling, at most
// max.
func backoff(n int, max time.Duration) time.Duration {
	d := 100 * time.Millisecond
	for range n {
		d *= 2
		if d >= max {
			return max
		}
	}
	return min(d, max)
}

// sleep waits d or until ctx is done, and reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
