package natsbus

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lc-voip/lc/internal/event"
	"github.com/lc-voip/lc/internal/natsbus/natstest"
	"github.com/lc-voip/lc/internal/script"
	"github.com/nats-io/nats.go/jetstream"
)

// fileCall writes the files of call i under root, size bytes each, and
// returns its events and the SHA-256 of each file by its path relative
// to root.
func fileCall(tb testing.TB, root string, i, size int) ([]event.Event, map[string]string) {
	tb.Helper()
	callID := fmt.Sprintf("call-%d@lc.test", i)
	dir := filepath.Join(root, "calls", callID)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	sums := map[string]string{}
	var evs []event.Event
	var sip, rtp []string
	for _, name := range []string{"sip.pcap", "rtp.pcap.zst"} {
		data := make([]byte, size)
		rand.Read(data)
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			tb.Fatal(err)
		}
		sum := sha256.Sum256(data)
		sums["calls/"+callID+"/"+name] = hex.EncodeToString(sum[:])
		kind := event.KindSIP
		if strings.HasPrefix(name, "rtp") {
			kind, rtp = event.KindRTP, append(rtp, p)
		} else {
			sip = append(sip, p)
		}
		evs = append(evs, event.Identified(event.FileClosed{Path: p, Kind: kind, CallID: callID, Reason: event.ReasonCallEnd, Bytes: int64(size)}))
	}
	evs = append(evs, event.Identified(event.CallCompleted{CallID: callID, Dirname: dir, State: event.StateCompleted, SIPFiles: sip, RTPFiles: rtp}))
	return evs, sums
}

// fileSums is a hook that records the SHA-256 of every file its events
// name, by the path relative to the call's or the file's directory's
// parent, and the directories they were in.
type fileSums struct {
	mu   sync.Mutex
	sums map[string]string // "<call directory base>/<file>" → SHA-256
	dirs map[string]bool
	errs []error
	runs int
}

func (h *fileSums) Name() string          { return "sums" }
func (h *fileSums) Wants(event.Type) bool { return true }

func (h *fileSums) Run(_ context.Context, ev event.Event) error {
	var paths []string
	dirname := ""
	switch e := ev.(type) {
	case event.FileClosed:
		paths = []string{e.Path}
	case event.CallCompleted:
		paths, dirname = e.Files(), e.Dirname
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.runs++
	if dirname != "" {
		if st, err := os.Stat(dirname); err != nil || !st.IsDir() {
			h.errs = append(h.errs, fmt.Errorf("call directory %s: %v", dirname, err))
		}
	}
	for _, p := range paths {
		if dirname != "" && filepath.Dir(p) != dirname {
			h.errs = append(h.errs, fmt.Errorf("%s is not in the call's directory %s", p, dirname))
		}
		data, err := os.ReadFile(p)
		if err != nil {
			h.errs = append(h.errs, err)
			continue
		}
		sum := sha256.Sum256(data)
		h.sums[filepath.Base(filepath.Dir(p))+"/"+filepath.Base(p)] = hex.EncodeToString(sum[:])
		h.dirs[filepath.Dir(p)] = true
	}
	return nil
}

func (h *fileSums) waitRuns(tb testing.TB, n int) {
	tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		h.mu.Lock()
		runs := h.runs
		h.mu.Unlock()
		if runs >= n {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%d hook runs, want %d", runs, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestFilesTravel: with an object store, the files of calls and of an
// "other" file reach the worker's hooks byte for byte, in a temporary
// directory of their own that is gone once the hooks ran; publishing the
// same events again puts no file again.
func TestFilesTravel(t *testing.T) {
	srv := natstest.Start(t)
	root := t.TempDir()
	const calls = 5
	var all []event.Event
	want := map[string]string{}
	for i := range calls {
		evs, sums := fileCall(t, root, i, 100_000+i)
		all = append(all, evs...)
		for rel, sum := range sums {
			want[filepath.Base(filepath.Dir(rel))+"/"+filepath.Base(rel)] = sum
		}
	}
	other := filepath.Join(root, "other", "x.pcap.gz")
	if err := os.MkdirAll(filepath.Dir(other), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(other, []byte("other file"), 0o644); err != nil {
		t.Fatal(err)
	}
	all = append(all, event.Identified(event.FileClosed{Path: other, Kind: event.KindOther, Reason: event.ReasonRotateSize}))
	sum := sha256.Sum256([]byte("other file"))
	want["other/x.pcap.gz"] = hex.EncodeToString(sum[:])

	cfg := Config{URL: srv.URL(), Node: "n1", Files: "pcaps", Root: root}
	st := publishWith(t, cfg, all)
	if st.FilesPut != 2*calls+1 || st.FilesGone != 0 {
		t.Errorf("publisher %+v, want %d files put", st, 2*calls+1)
	}
	if st := publishWith(t, cfg, all); st.FilesPut != 0 || st.Duplicates != int64(len(all)) {
		t.Errorf("published again: %+v, want no file put and every event a duplicate", st)
	}
	checkObject(t, srv.URL(), "pcaps", "n1/calls/call-0@lc.test/sip.pcap", filepath.Join(root, "calls", "call-0@lc.test", "sip.pcap"))

	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	h := &fileSums{sums: map[string]string{}, dirs: map[string]bool{}}
	w := startWorker(t, srv.URL(), h, WorkerConfig{Bus: Config{Files: "pcaps"}})
	h.waitRuns(t, len(all))
	w.stop(t)
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, err := range h.errs {
		t.Error(err)
	}
	if fmt.Sprint(h.sums) != fmt.Sprint(want) {
		t.Errorf("the hooks saw\n%v\nwant\n%v", h.sums, want)
	}
	for d := range h.dirs {
		if !strings.HasPrefix(d, tmp+string(filepath.Separator)) {
			t.Errorf("the hooks read %s, not a temporary copy", d)
		}
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
	if ws := w.w.Stats(); ws.Fetched != 2*calls+1 || ws.Acked != calls+1 {
		t.Errorf("worker %+v, want %d files fetched, %d messages acked", ws, 2*calls+1, calls+1)
	}
}

// TestFilesMissing: a file gone before it was published is left out:
// its event is published, and the worker runs its hooks without the
// file, and removes its directory after a hook failure too.
func TestFilesMissing(t *testing.T) {
	srv := natstest.Start(t)
	root := t.TempDir()
	evs, _ := fileCall(t, root, 1, 10)
	gone := evs[0].(event.FileClosed).Path
	if err := os.Remove(gone); err != nil {
		t.Fatal(err)
	}
	st := publishWith(t, Config{URL: srv.URL(), Node: "n1", Files: "pcaps", Root: root}, evs)
	if st.FilesPut != 1 || st.FilesGone != 1 || st.Published != 3 {
		t.Errorf("publisher %+v, want 3 published, 1 file put and 1 gone", st)
	}
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	rec := newRecorder()
	rec.fail = true
	w := startWorker(t, srv.URL(), rec, WorkerConfig{Bus: Config{Files: "pcaps"}, MaxDeliver: 2})
	deadline := time.Now().Add(20 * time.Second)
	for w.w.Stats().Dead == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	w.stop(t)
	if ws := w.w.Stats(); ws.Dead != 1 || ws.Fetched != 2 {
		t.Errorf("worker %+v, want 1 dead letter after 2 deliveries of 1 file each", ws)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// publishWith publishes evs through a Publisher configured by cfg, as
// publishAll does.
func publishWith(tb testing.TB, cfg Config, evs []event.Event) PublisherStats {
	tb.Helper()
	pub, err := NewPublisher(connectWith(tb, cfg), cfg, nil)
	if err != nil {
		tb.Fatal(err)
	}
	eng := script.NewEngine(script.EngineConfig{Concurrency: 8}, script.Set{Hooks: []script.Hook{pub}})
	for _, ev := range evs {
		pub.Expect(ev)
		eng.Submit(ev)
	}
	if st := eng.Close(tb.Context()); st.Failed != 0 {
		tb.Fatalf("%d publishes failed", st.Failed)
	}
	return pub.Stats()
}

// checkObject checks that bucket holds the file at path as name.
func checkObject(tb testing.TB, url, bucket, name, path string) {
	tb.Helper()
	obs, err := jsFor(tb, url).ObjectStore(tb.Context(), bucket)
	if err != nil {
		tb.Fatal(err)
	}
	got, err := obs.GetBytes(tb.Context(), name)
	if err != nil {
		tb.Fatalf("object %s: %v", name, err)
	}
	want, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	if string(got) != string(want) {
		tb.Errorf("object %s differs from %s", name, path)
	}
}

func TestObjectName(t *testing.T) {
	tests := []struct {
		name, root, path, want string
		ok                     bool
	}{
		{"call file", "/out", "/out/calls/a/sip.pcap", "n/calls/a/sip.pcap", true},
		{"other file", "/out/", "/out/other/1.pcap.zst", "n/other/1.pcap.zst", true},
		{"outside", "/out", "/elsewhere/x.pcap", "", false},
		{"the root itself", "/out", "/out", "", false},
		{"relative path", "/out", "calls/x.pcap", "", false},
		{"no root", "", "/out/x.pcap", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := objectName("n", tt.root, tt.path)
			if got != tt.want || ok != tt.ok {
				t.Errorf("objectName = %q, %v; want %q, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestMultipleFilters(t *testing.T) {
	for v, want := range map[string]bool{"2.9.10": false, "2.10.0": true, "2.12.1": true, "3.0.0": true, "": true, "2.6.5": false} {
		if got := multipleFilters(v); got != want {
			t.Errorf("multipleFilters(%q) = %v", v, got)
		}
	}
}

// TestMaxAge: the stream and the object store that lc creates keep
// events and files for Config.MaxAge, and then they are gone.
func TestMaxAge(t *testing.T) {
	srv := natstest.Start(t)
	root := t.TempDir()
	evs, _ := fileCall(t, root, 1, 1000)
	cfg := Config{URL: srv.URL(), Node: "n1", Files: "pcaps", Root: root, MaxAge: time.Second, Duplicates: time.Second}
	if st := publishWith(t, cfg, evs); st.FilesPut != 2 {
		t.Fatalf("publisher %+v, want 2 files put", st)
	}
	stream := lcStream(t, srv.URL())
	obs, err := jsFor(t, srv.URL()).ObjectStore(t.Context(), "pcaps")
	if err != nil {
		t.Fatal(err)
	}
	status, err := obs.Status(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if got := stream.CachedInfo().Config.MaxAge; got != time.Second || status.TTL() != time.Second {
		t.Errorf("stream max age %s, object store TTL %s; want 1s", got, status.TTL())
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		info, err := stream.Info(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		objects, err := obs.List(t.Context())
		if err != nil && !errors.Is(err, jetstream.ErrNoObjectsFound) {
			t.Fatal(err)
		}
		if info.State.Msgs == 0 && len(objects) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 20s the stream still has %d messages, the object store %d files", info.State.Msgs, len(objects))
		}
		time.Sleep(100 * time.Millisecond)
	}
}
