package natsbus

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
)

// Connect connects to c.URL as name. It returns at once even when no
// server answers: the connection keeps trying, for ever, and the
// publisher and workers wait for it. log, nil to discard, is told when
// the connection is made, lost and made again, and why attempts fail (a
// wrong password, a certificate the server refuses).
func Connect(c Config, name string, log *slog.Logger) (*nats.Conn, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	l := &connLog{log: log.With("component", "nats")}
	opts := []nats.Option{
		nats.Name(name),
		nats.MaxReconnects(-1),
		nats.RetryOnFailedConnect(true),
		nats.ReconnectWait(time.Second),
		nats.ConnectHandler(func(nc *nats.Conn) { l.connected(nc, "connected to NATS") }),
		nats.ReconnectHandler(func(nc *nats.Conn) { l.connected(nc, "reconnected to NATS") }),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) { l.failed("lost the connection to NATS; reconnecting", err, true) }),
		nats.ReconnectErrHandler(func(_ *nats.Conn, err error) { l.failed("cannot connect to NATS; trying again", err, true) }),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { l.failed("NATS", err, false) }),
	}
	if c.Creds != "" {
		opts = append(opts, nats.UserCredentials(c.Creds))
	}
	if c.TLSCA != "" {
		opts = append(opts, nats.RootCAs(c.TLSCA))
	}
	if c.TLSCert != "" {
		opts = append(opts, nats.ClientCert(c.TLSCert, c.TLSKey))
	}
	nc, err := nats.Connect(c.URL, opts...)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", c.URL, err)
	}
	if nc.IsConnected() {
		l.connected(nc, "connected to NATS")
	}
	return nc, nil
}

// connLog logs a connection's changes. Failures are logged at Warn
// once, then again at most every repeatFailure while they go on (each at
// Debug), so that a refused password is one line a minute, not one a
// second.
type connLog struct {
	log *slog.Logger

	mu       sync.Mutex
	up       bool      // connected, and said so
	failures int       // since the connection was last made
	said     time.Time // when a failure was last logged at Warn; zero: none since connected
}

// repeatFailure is how often failures that go on are logged at Warn.
const repeatFailure = time.Minute

// connected logs that nc is connected, unless it was already, and
// starts counting failures again.
func (l *connLog) connected(nc *nats.Conn, msg string) {
	l.mu.Lock()
	was := l.up
	l.up, l.failures, l.said = true, 0, time.Time{}
	l.mu.Unlock()
	if !was {
		l.log.Info(msg, "server", nc.ConnectedUrlRedacted())
	}
}

// failed logs err with msg, unless it is nil (a connection closed on
// purpose); down says that the connection is not made.
func (l *connLog) failed(msg string, err error, down bool) {
	if err == nil {
		return
	}
	l.mu.Lock()
	if down {
		l.up = false
	}
	l.failures++
	n := l.failures
	loud := l.said.IsZero() || time.Since(l.said) >= repeatFailure
	if loud {
		l.said = time.Now()
	}
	l.mu.Unlock()
	level := slog.LevelDebug
	if loud {
		level = slog.LevelWarn
	}
	l.log.Log(context.Background(), level, msg, "error", err, "failures", n)
}
