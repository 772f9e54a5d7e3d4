package runner

import (
	"os"
	"syscall"
	"testing"
)

func TestRunnerCloseOnExec(t *testing.T) {
	tests := []struct {
		name string
		mark func()
	}{
		{name: "close_range", mark: closeOnExecInherited},
		{name: "listed", mark: closeOnExecListed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fd, err := syscall.Open(os.DevNull, syscall.O_RDONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { syscall.Close(fd) })
			if fdFlags(t, fd)&syscall.FD_CLOEXEC != 0 {
				t.Fatalf("descriptor %d opened close-on-exec", fd)
			}
			tt.mark()
			if fdFlags(t, fd)&syscall.FD_CLOEXEC == 0 {
				t.Errorf("descriptor %d not marked close-on-exec", fd)
			}
			for std := range 3 {
				if fdFlags(t, std)&syscall.FD_CLOEXEC != 0 {
					t.Errorf("descriptor %d marked close-on-exec", std)
				}
			}
		})
	}
}

func fdFlags(tb testing.TB, fd int) int {
	tb.Helper()
	flags, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_GETFD, 0)
	if errno != 0 {
		tb.Fatalf("fcntl(%d, F_GETFD): %v", fd, errno)
	}
	return int(flags)
}
