package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeScript(t *testing.T, src string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "hooks.lua")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestHooksTestCommand(t *testing.T) {
	tests := []struct {
		name   string
		src    string
		args   []string
		code   int
		output []string
	}{
		{"dry run prints the exact argv", `function on_call_complete(c) exec("rm -- %dirname%/x") log.info("done", {n = 1}) end`,
			[]string{"--dirname", "/calls/a b"}, exitOK,
			[]string{`lua:on_call_complete(`, `exec argv ["rm" "--" "/calls/a b/x"]: not run`, `log.info "done" n=1`, "ok in "}},
		{"pcap event", `function on_pcap_close(path, f) log.warn(f.kind .. " " .. path) end`,
			[]string{"--event", "pcap", "--pcap", "/p/x.pcap", "--kind", "rtp"}, exitOK, []string{`log.warn "rtp /p/x.pcap"`}},
		{"failing hook", `function on_call_complete(c) error("boom") end`, nil, exitError, []string{"FAILED after", "boom"}},
		{"endless loop ends at the limit", `function on_call_complete(c) while true do end end`,
			[]string{"--hook-timeout", "200ms"}, exitError, []string{"FAILED after", "timed out"}},
		{"memory bomb", `function on_call_complete(c) local t = {} for i = 1, 1e8 do t[i] = i end end`,
			[]string{"--hook-memory-limit", "4MiB"}, exitError, []string{"FAILED after", "memory"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := run(t, nil, append([]string{"hooks", "test", writeScript(t, tt.src)}, tt.args...)...)
			if code != tt.code {
				t.Errorf("exit %d, want %d\n%s%s", code, tt.code, stdout, stderr)
			}
			for _, want := range tt.output {
				if !strings.Contains(stdout+stderr, want) {
					t.Errorf("output lacks %q:\n%s%s", want, stdout, stderr)
				}
			}
		})
	}
}

func TestHooksReplay(t *testing.T) {
	script := writeScript(t, `function on_call_complete(c) log.info(c.callid .. " " .. c.state) end
function on_pcap_close(p, f) end`)
	code, stdout, stderr := run(t, nil, "hooks", "test", script, "--replay", samplePath)
	if code != exitOK {
		t.Fatalf("exit %d:\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{`"call-1@lc.test completed"`, `"call-2@lc.test failed"`, `"call-3@lc.test cancelled"`} {
		if !strings.Contains(stdout, want) {
			t.Errorf("replay output lacks %s:\n%s", want, stdout)
		}
	}
	if n := strings.Count(stdout, "lua:on_pcap_close("); n != 5 {
		t.Errorf("%d pcap hook runs, want 5:\n%s", n, stdout)
	}
}

func TestHooksCheckCommand(t *testing.T) {
	code, stdout, _ := run(t, nil, "hooks", "check", writeScript(t, "function on_pcap_close(p, f) end\n"))
	if code != exitOK || !strings.Contains(stdout, "defines on_pcap_close") {
		t.Fatalf("exit %d:\n%s", code, stdout)
	}
	bad := writeScript(t, "function on_call_complete(c)\n  io.write(c.callid)\n  os.execute('x')\nend\n")
	code, _, stderr := run(t, nil, "hooks", "check", bad)
	if code == exitOK || !strings.Contains(stderr, bad+":2: io is not available") {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	if !strings.Contains(stderr, bad+":3: os.execute is not available") {
		t.Errorf("os.execute not reported:\n%s", stderr)
	}
	code, _, stderr = run(t, nil, "hooks", "check", writeScript(t, "x = 1\n"))
	if code == exitOK || !strings.Contains(stderr, "defines no hook function") {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	code, _, stderr = run(t, nil, "hooks", "check", writeScript(t, "function on_call_complete(c)\n  if then\nend\n"))
	if code != exitUsage || !strings.Contains(stderr, ":2:") {
		t.Fatalf("a syntax error: exit %d, want %d:\n%s", code, exitUsage, stderr)
	}
}

// TestHooksTestSelectsCalls: with --replay, --callid keeps the events of
// the calls it names, and one the capture does not have is a usage error.
func TestHooksTestSelectsCalls(t *testing.T) {
	script := writeScript(t, `function on_call_complete(c) log.info(c.callid) end
function on_pcap_close(p, f) log.info(f.callid) end`)
	code, stdout, stderr := run(t, nil, "hooks", "test", script, "--replay", samplePath, "--callid", "call-2@lc.test", "--callid", "call-3@lc.test")
	if code != exitOK {
		t.Fatalf("exit %d:\n%s%s", code, stdout, stderr)
	}
	if strings.Contains(stdout, "call-1@lc.test") || !strings.Contains(stdout, `log.info "call-2@lc.test"`) || !strings.Contains(stdout, `log.info "call-3@lc.test"`) {
		t.Errorf("--callid call-2, call-3:\n%s", stdout)
	}
	code, _, stderr = run(t, nil, "hooks", "test", script, "--replay", samplePath, "--callid", "nosuch@lc.test")
	if code != exitUsage || !strings.Contains(stderr, `callid = "nosuch@lc.test": no such call in the capture`) {
		t.Errorf("an unknown --callid: exit %d:\n%s", code, stderr)
	}
}

// TestHooksTestCommands: lc hooks test shows what the command templates
// would run for each event, argv or shell script and parameters, and runs
// them with --exec.
func TestHooksTestCommands(t *testing.T) {
	code, stdout, stderr := run(t, nil, "hooks", "test", "--replay", samplePath, "--callid", "call-1@lc.test",
		"--voip-command", "archive %callid% %dirname%", "--pcap-command", "echo %pcap% >> /dev/null")
	if code != exitOK {
		t.Fatalf("exit %d:\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{
		"voip-command({callid=\"call-1@lc.test\"",
		`exec argv ["archive" "call-1@lc.test" "`,
		`exec sh script "echo \"${1}\" >> /dev/null" params [`,
		"not run (dry run; --exec runs it)",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	code, stdout, _ = run(t, nil, "hooks", "test", "--voip-command", "echo %callid%", "--callid", "x@y", "--exec")
	if code != exitOK || !strings.Contains(stdout, `exec argv ["echo" "x@y"]: exit 0 in `) || !strings.Contains(stdout, `stdout "x@y\n"`) {
		t.Errorf("--exec: exit %d:\n%s", code, stdout)
	}
	if code, _, stderr := run(t, nil, "hooks", "test"); code != exitUsage || !strings.Contains(stderr, "give a hook script") {
		t.Errorf("nothing to test: exit %d:\n%s", code, stderr)
	}
}

// TestHookScriptSyntaxError checks that lc process refuses a script that
// does not compile, naming the file and line, before reading packets.
func TestHookScriptSyntaxError(t *testing.T) {
	script := writeScript(t, "function on_call_complete(c)\n  if then\nend\n")
	code, _, stderr := run(t, nil, "process", "-r", samplePath, "-o", t.TempDir(), "--hook-script", script)
	if code != exitUsage || !strings.Contains(stderr, "hooks.lua") || !strings.Contains(stderr, ":2") {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
}
