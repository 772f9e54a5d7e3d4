package processor

import (
	"errors"
	"syscall"
	"testing"

	"github.com/lc-voip/lc/internal/event"
	"github.com/lc-voip/lc/internal/testenv"
	"github.com/lc-voip/lc/internal/testpcap"
	"golang.org/x/sys/unix"
)

// TestFullTmpfs writes calls to a real 64 KiB tmpfs until it is full:
// processing stops with ENOSPC, every event says what is on disk, and
// every file on disk reads cleanly.
func TestFullTmpfs(t *testing.T) {
	out := t.TempDir()
	if err := unix.Mount("tmpfs", out, "tmpfs", 0, "size=64k,mode=0755"); err != nil {
		testenv.MissingPrerequisite(t, "mount a tmpfs on %s (needs root): %v", out, err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(out, 0); err != nil {
			t.Errorf("unmount %s: %v", out, err)
		}
	})
	pkts := testpcap.Calls(20, 100, t0, 100*ms)
	r, st, fed := runOnDisk(t, out, pkts, nil, nil)
	if !errors.Is(r.err, syscall.ENOSPC) || fed == len(pkts) {
		t.Fatalf("run error %v after %d of %d packets, want ENOSPC stopping the run", r.err, fed, len(pkts))
	}
	checkTruthful(t, r, st)
	if st.FileErrors == 0 || st.Failed == 0 {
		t.Errorf("%d files failed, %d packets failed; want some of each", st.FileErrors, st.Failed)
	}
	for _, fc := range fileEvents(r) {
		if fc.Error != "" {
			t.Logf("%d packets, %d bytes: %s", fc.Packets, fc.Bytes, fc.Error)
		}
	}
	t.Logf("%d packets read, %d written, %d failed; %d files, %d failed", st.Packets,
		st.Written[event.KindSIP]+st.Written[event.KindRTP]+st.Written[event.KindOther], st.Failed, st.Files, st.FileErrors)
}
