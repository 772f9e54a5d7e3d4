package natsbus

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/lc-voip/lc/internal/event"
	"github.com/lc-voip/lc/internal/natsbus/natstest"
	"github.com/lc-voip/lc/internal/testenv"
)

// TestSecureConnections: a call goes from a publisher to a worker
// through a server that wants a client certificate, and through one that
// wants a user's credentials.
func TestSecureConnections(t *testing.T) {
	for _, srv := range natstest.StartSecured(t) {
		t.Run(srv.Name, func(t *testing.T) {
			call := testCall(1)
			bus := Config{Creds: srv.Creds, TLSCA: srv.TLS.CA, TLSCert: srv.TLS.Cert, TLSKey: srv.TLS.Key}
			cfg := bus
			cfg.URL, cfg.Node = srv.URL, "n1"
			if st := publishWith(t, cfg, call); st.Published != int64(len(call)) {
				t.Fatalf("published %+v, want %d events", st, len(call))
			}
			rec := newRecorder()
			w := startWorker(t, srv.URL, rec, WorkerConfig{Bus: bus})
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
	refusal := map[string]string{"client certificate": "tls", "credentials": "authorization violation"}
	for _, srv := range natstest.StartSecured(t) {
		t.Run(srv.Name, func(t *testing.T) {
			t.Parallel()
			var out testenv.Buffer
			cfg := Config{URL: srv.URL, TLSCA: srv.TLS.CA} // trusts the server, and says nothing of itself
			nc, err := Connect(cfg, "refused", slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug})))
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			time.Sleep(2500 * time.Millisecond) // three attempts, a second apart
			if nc.IsConnected() {
				t.Fatal("connected")
			}
			logged, want := out.String(), refusal[srv.Name]
			warned, quiet := strings.Count(logged, "level=WARN"), strings.Count(logged, "level=DEBUG")
			if warned != 1 || quiet == 0 || !strings.Contains(strings.ToLower(logged), want) {
				t.Errorf("logged\n%s\nwant one warning that says %q, then the next attempts at debug level", logged, want)
			}
		})
	}
}
