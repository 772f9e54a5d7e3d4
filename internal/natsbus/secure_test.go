package natsbus

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lc-voip/lc/internal/event"
	"github.com/lc-voip/lc/internal/natsbus/natstest"
)

// TestSecureConnections: a call goes from a publisher to a worker
// through a server that wants a client certificate, and through one that
// wants a user's credentials.
func TestSecureConnections(t *testing.T) {
	tlsSrv, files := natstest.StartTLS(t)
	credsSrv, creds := natstest.StartCreds(t)
	tests := []struct {
		name string
		url  string
		bus  Config
	}{
		{"client certificate", tlsSrv.URL(), Config{TLSCA: files.CA, TLSCert: files.Cert, TLSKey: files.Key}},
		{"credentials", credsSrv.URL(), Config{Creds: creds}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			call := testCall(1)
			cfg := tt.bus
			cfg.URL, cfg.Node = tt.url, "n1"
			if st := publishWith(t, cfg, call); st.Published != int64(len(call)) {
				t.Fatalf("published %+v, want %d events", st, len(call))
			}
			rec := newRecorder()
			w := startWorker(t, tt.url, rec, WorkerConfig{Bus: tt.bus})
			rec.waitRuns(t, len(call))
			w.stop(t)
			rec.check(t, [][]event.Event{call})
		})
	}
}

// TestConnectRefusedLogged: a client the server refuses (no
// certificate, no credentials) keeps trying, and says why once, not at
// every attempt (again after a minute).
func TestConnectRefusedLogged(t *testing.T) {
	tlsSrv, files := natstest.StartTLS(t)
	credsSrv, _ := natstest.StartCreds(t)
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no client certificate", Config{URL: tlsSrv.URL(), TLSCA: files.CA}, "tls"},
		{"no credentials", Config{URL: credsSrv.URL()}, "authorization violation"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out syncBuffer
			nc, err := Connect(tt.cfg, "refused", slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug})))
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			time.Sleep(2500 * time.Millisecond) // three attempts, a second apart
			if nc.IsConnected() {
				t.Fatal("connected")
			}
			logged := out.String()
			warned, quiet := strings.Count(logged, "level=WARN"), strings.Count(logged, "level=DEBUG")
			if warned != 1 || quiet == 0 || !strings.Contains(strings.ToLower(logged), tt.want) {
				t.Errorf("logged\n%s\nwant one warning that says %q, then the next attempts at debug level", logged, tt.want)
			}
		})
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
