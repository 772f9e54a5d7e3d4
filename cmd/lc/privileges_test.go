package main

import (
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// TestUserSwitch runs the lc binary as root with --user nobody: the output
// files and the hooks' processes belong to nobody. Switching user changes
// the whole process, so it runs in a child process.
func TestUserSwitch(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("switching user needs root")
	}
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Skip("no user nobody:", err)
	}
	uid, _ := strconv.Atoi(nobody.Uid)
	bin := buildLC(t)
	base := t.TempDir()
	for d := base; d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
		os.Chmod(d, 0o755) // nobody must reach the output directory
	}
	shared := filepath.Join(base, "shared")
	os.Mkdir(shared, 0o777)
	os.Chmod(shared, 0o777)
	out := filepath.Join(base, "out")
	cmd := exec.Command(bin, "process", "-r", samplePath, "-o", out, "--user", "nobody",
		"--voip-command", "sh -c 'id -u >> "+shared+"/uids'")
	stderr, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	uids, _ := os.ReadFile(filepath.Join(shared, "uids"))
	if want := strings.Repeat(nobody.Uid+"\n", 3); string(uids) != want {
		t.Errorf("hooks ran as %q, want %q", uids, want)
	}
	filepath.Walk(out, func(p string, fi os.FileInfo, err error) error {
		if err == nil && int(fi.Sys().(*syscall.Stat_t).Uid) != uid {
			t.Errorf("%s belongs to uid %d", p, fi.Sys().(*syscall.Stat_t).Uid)
		}
		return err
	})
}

func TestUserErrors(t *testing.T) {
	code, _, stderr := run(t, nil, "process", "-r", samplePath, "-o", t.TempDir(), "--user", "no-such-user-here")
	if code != exitUsage || !strings.Contains(stderr, `user = "no-such-user-here"`) || !strings.Contains(stderr, "from flag --user") {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
}
