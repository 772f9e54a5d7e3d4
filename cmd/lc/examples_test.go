package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lc-voip/lc/internal/testpcap"
)

// example copies examples/hooks/name into a temporary directory with its
// settings replaced (old → new pairs) and returns the copy's path.
func example(t *testing.T, name string, replace ...string) string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("..", "..", "examples", "hooks", name))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(src), "-- "+name+":") {
		t.Errorf("%s does not start with a comment saying what it does", name)
	}
	text := string(src)
	for i := 0; i+1 < len(replace); i += 2 {
		if !strings.Contains(text, replace[i]) {
			t.Fatalf("%s has no %q to replace", name, replace[i])
		}
		text = strings.ReplaceAll(text, replace[i], replace[i+1])
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// hooksTest runs lc hooks test and fails on a non-zero exit.
func hooksTest(t *testing.T, args ...string) string {
	t.Helper()
	code, stdout, stderr := run(t, nil, append([]string{"hooks", "test"}, args...)...)
	if code != exitOK {
		t.Fatalf("lc hooks test %v: exit %d\n%s%s", args, code, stdout, stderr)
	}
	return stdout
}

func TestExampleCompressAndIndex(t *testing.T) {
	dir := t.TempDir()
	index := filepath.Join(dir, "calls.tsv")
	script := example(t, "compress-and-index.lua", "/var/log/lc/calls.tsv", index)

	pcap := filepath.Join(dir, "x_sip.pcap")
	os.WriteFile(pcap, []byte("pcap bytes"), 0o644)
	hooksTest(t, script, "--exec", "--event", "pcap", "--pcap", pcap)
	if _, err := os.Stat(pcap + ".gz"); err != nil {
		t.Fatalf("pcap not compressed: %v", err)
	}
	hooksTest(t, script, "--exec", "--callid", "a'b;$(c)", "--caller", `"x" y`)
	data, _ := os.ReadFile(index)
	want := "2026-01-02T03:04:05Z\tcompleted\t200\t42\t\"x\" y\tbob@b.example\ta'b;$(c)\t"
	if !strings.HasPrefix(string(data), want) || strings.Count(string(data), "\n") != 1 {
		t.Fatalf("index = %q, want one line starting %q", data, want)
	}

	// The same script through lc process on the sample capture.
	out := filepath.Join(dir, "out")
	os.Remove(index)
	code, _, stderr := run(t, nil, "process", "-r", samplePath, "-o", out, "--hook-script", script)
	if code != exitOK || !strings.Contains(stderr, "hooks: 8 ran, 0 failed") {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	pcaps, gz := countPcaps(out)
	lines, _ := os.ReadFile(index)
	if pcaps != 0 || gz != 5 || strings.Count(string(lines), "\n") != 3 {
		t.Fatalf("%d pcaps left, %d compressed, index:\n%s", pcaps, gz, lines)
	}
}

func TestExampleArchiveAnswered(t *testing.T) {
	archive := t.TempDir()
	script := example(t, "archive-answered.lua", "/srv/call-archive", archive)
	call := filepath.Join(t.TempDir(), "030405_c1")
	os.MkdirAll(call, 0o755)
	os.WriteFile(filepath.Join(call, "c1_sip.pcap"), []byte("x"), 0o644)

	hooksTest(t, script, "--exec", "--dirname", call, "--duration", "5s")
	hooksTest(t, script, "--exec", "--dirname", call, "--state", "failed", "--status", "486")
	if entries, _ := os.ReadDir(archive); len(entries) != 0 {
		t.Fatalf("a short or failed call was archived: %v", entries)
	}
	hooksTest(t, script, "--exec", "--dirname", call, "--duration", "30s")
	if _, err := os.Stat(filepath.Join(archive, "2026", "01", "02", "030405_c1", "c1_sip.pcap")); err != nil {
		t.Fatalf("answered call not archived: %v", err)
	}
}

func TestExamplePostFailed(t *testing.T) {
	got := make(chan map[string]any, 2)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("bad request %q: %v", body, err)
		}
		got <- m
	}))
	defer srv.Close()
	script := example(t, "post-failed.lua", "http://127.0.0.1:8080/lc/failed-calls", srv.URL)
	hooksTest(t, script, "--exec", "--state", "completed")
	hooksTest(t, script, "--exec", "--state", "failed", "--status", "503", "--callid", `q"uo'te`)
	select {
	case m := <-got:
		if m["callid"] != `q"uo'te` || m["status"] != float64(503) || m["caller"] != "alice@a.example" {
			t.Fatalf("posted %v", m)
		}
	default:
		t.Fatal("nothing was posted for the failed call")
	}
	if len(got) != 0 {
		t.Fatal("the completed call was posted too")
	}
}

func TestExampleClassicVoipCommand(t *testing.T) {
	dir := t.TempDir()
	args := filepath.Join(dir, "args")
	prog := filepath.Join(dir, "voip-hook")
	os.WriteFile(prog, []byte("#!/bin/sh\nfor a in \"$@\"; do printf '[%s]' \"$a\"; done > "+args+"\n"), 0o755)
	script := example(t, "classic-voip-command.lua", "/usr/local/bin/voip-hook", prog)
	hooksTest(t, script, "--exec", "--callid", "id with spaces;rm", "--caller", "$(x)@h", "--dirname", "/d")
	data, _ := os.ReadFile(args)
	want := "[id with spaces;rm][/d][$(x)@h][bob@b.example][2026-01-02T03:04:05Z]"
	if string(data) != want {
		t.Fatalf("program got %s, want %s", data, want)
	}
}

// TestExampleOneWayAudio runs lc process on a call whose callee never
// sends RTP.
func TestExampleOneWayAudio(t *testing.T) {
	script := example(t, "one-way-audio.lua")
	d := testpcap.NewDialog(7)
	tl := &testpcap.Timeline{Now: time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)}
	tl.Add(testpcap.UDP(d.Caller, d.Callee, d.Request("INVITE", 1, "", testpcap.SDP(d.CallerRTP))), time.Millisecond)
	tl.Add(testpcap.UDP(d.Callee, d.Caller, d.Response(200, "OK", "INVITE", 1, "t", testpcap.SDP(d.CalleeRTP))), time.Millisecond)
	tl.Add(testpcap.UDP(d.Caller, d.Callee, d.Request("ACK", 1, "t", "")), time.Millisecond)
	for i := range 400 { // 8 s of audio, caller to callee only
		tl.Add(testpcap.UDP(d.CallerRTP, d.CalleeRTP, testpcap.RTP(uint16(i), uint32(i)*160, 1)), 20*time.Millisecond)
	}
	tl.Add(testpcap.UDP(d.Caller, d.Callee, d.Request("BYE", 2, "t", "")), time.Millisecond)
	in := filepath.Join(t.TempDir(), "oneway.pcap")
	testpcap.WriteFile(t, in, tl.Pkts)
	out := t.TempDir()
	code, _, stderr := run(t, nil, "process", "-r", in, "-o", out, "--hook-script", script)
	if code != exitOK || !strings.Contains(stderr, "one-way audio") {
		t.Fatalf("exit %d, no warning:\n%s", code, stderr)
	}
	marks, _ := filepath.Glob(filepath.Join(out, "calls", "*", "*", "*", "ONE-WAY-AUDIO")) // day, hour, call
	if len(marks) != 1 {
		t.Fatalf("%d ONE-WAY-AUDIO marks", len(marks))
	}
}

// readmeExample is a --pcap-command or --voip-command template shown in
// README.md, as a flag or as a config file key.
type readmeExample struct {
	flag string // "pcap-command" or "voip-command"
	tmpl string
}

var (
	readmeFlagRE = regexp.MustCompile(`--(pcap|voip)-command '([^']*)'`)
	readmeKeyRE  = regexp.MustCompile(`(?m)^\s*(pcap|voip)_command: "([^"\\]*)"`)
)

// readmeExamples returns every command template example of README.md,
// each once.
func readmeExamples(t *testing.T) []readmeExample {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var list []readmeExample
	for _, re := range []*regexp.Regexp{readmeFlagRE, readmeKeyRE} {
		for _, m := range re.FindAllStringSubmatch(string(src), -1) {
			if ex := (readmeExample{m[1] + "-command", m[2]}); !slices.Contains(list, ex) {
				list = append(list, ex)
			}
		}
	}
	return list
}

// readmeProbe writes a program that records its arguments, NUL-separated
// after their count, in a new file of dir at each run, and returns its
// path. A shell writes it, so that no process forked meanwhile holds it
// open for writing.
func readmeProbe(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "probe")
	text := "#!/bin/sh\nprintf '%s\\0' \"$#\" \"$@\" > \"$(mktemp '" + dir + "/rec.XXXXXX')\"\n"
	cmd := exec.Command("/bin/sh", "-c", `printf '%s' "$2" >"$1" && chmod 755 "$1"`, "sh", path, text)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("write probe: %v\n%s", err, b)
	}
	return path
}

// readmeRewrite returns tmpl with its program replaced by prog and its
// redirection target by out, and the words after the program up to the
// redirection. The README's examples are simple commands; a template this
// cannot take apart fails the test, which must then learn it.
func readmeRewrite(t *testing.T, tmpl, prog, out string) (string, []string) {
	t.Helper()
	if strings.ContainsAny(tmpl, `'"\;|&$<`+"`") || strings.Contains(tmpl, "%%") {
		t.Fatalf("README example %q: the test only takes simple commands", tmpl)
	}
	words := strings.Fields(tmpl)
	args := words[1:]
	words[0] = prog
	for i, w := range words {
		if w == ">" || w == ">>" {
			if i+2 != len(words) {
				t.Fatalf("README example %q: words after the redirection", tmpl)
			}
			words[i+1], args = out, words[1:i]
			break
		}
	}
	return strings.Join(words, " "), args
}

// readmeEvents reads an --events file: the call_completed events, the
// file_closed events.
func readmeEvents(t *testing.T, path string) (calls, files []map[string]any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(data)) {
		var ev map[string]any
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("event %q: %v", line, err)
		}
		switch ev["event"] {
		case "call_completed":
			calls = append(calls, ev)
		case "file_closed":
			files = append(files, ev)
		}
	}
	return calls, files
}

// readmeValues returns the placeholder values of an event as README.md
// documents them: each field of its JSON under the same name (%pcap% is
// the path), numbers as JSON writes them, lists one value per element.
func readmeValues(ev map[string]any) (map[string]string, map[string][]string) {
	scalars, lists := map[string]string{}, map[string][]string{}
	for k, v := range ev {
		switch v := v.(type) {
		case string:
			scalars[k] = v
		case float64:
			scalars[k] = strconv.FormatFloat(v, 'f', -1, 64)
		case bool:
			scalars[k] = strconv.FormatBool(v)
		case []any:
			lists[k] = []string{}
			for _, x := range v {
				if s, ok := x.(string); ok {
					lists[k] = append(lists[k], s)
				}
			}
		}
	}
	scalars["pcap"] = scalars["path"]
	return scalars, lists
}

var readmePlaceholderRE = regexp.MustCompile(`%[a-z_]+%`)

// readmeExpand fills words as README.md says: a word that is a list
// placeholder becomes one word per file, none without files; any other
// placeholder is replaced by its value inside its word.
func readmeExpand(t *testing.T, words []string, scalars map[string]string, lists map[string][]string) []string {
	out := []string{}
	for _, w := range words {
		if name := strings.Trim(w, "%"); w == "%"+name+"%" && (name == "files" || name == "sip_files" || name == "rtp_files" || name == "errors") {
			out = append(out, lists[name]...)
			continue
		}
		out = append(out, readmePlaceholderRE.ReplaceAllStringFunc(w, func(ph string) string {
			v, ok := scalars[strings.Trim(ph, "%")]
			if !ok {
				t.Fatalf("README example word %q: no value for %s", w, ph)
			}
			return v
		}))
	}
	return out
}

// readmeRecords reads the records of the probe runs in dir, sorted.
func readmeRecords(t *testing.T, dir string) []string {
	t.Helper()
	paths, _ := filepath.Glob(filepath.Join(dir, "rec.*"))
	var recs []string
	for _, p := range paths {
		data, _ := os.ReadFile(p)
		fields := strings.Split(strings.TrimSuffix(string(data), "\x00"), "\x00")
		if n, err := strconv.Atoi(fields[0]); err != nil || n != len(fields)-1 {
			t.Fatalf("probe record %q", data)
		}
		recs = append(recs, fmt.Sprintf("%q", fields[1:]))
	}
	slices.Sort(recs)
	return recs
}

// multiPartCapture writes a capture with a call whose files are cut into
// several parts at --per-call-max-size 64K, and a call without RTP.
func multiPartCapture(t *testing.T) string {
	t.Helper()
	tl := &testpcap.Timeline{Now: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)}
	tl.BasicCall(testpcap.NewDialog(1), 700)
	busy := testpcap.NewDialog(2)
	tl.Add(testpcap.UDP(busy.Caller, busy.Callee, busy.Request("INVITE", 1, "", testpcap.SDP(busy.CallerRTP))), 10*time.Millisecond)
	tl.Add(testpcap.UDP(busy.Callee, busy.Caller, busy.Response(486, "Busy Here", "INVITE", 1, "b", "")), 10*time.Millisecond)
	tl.Add(testpcap.UDP(busy.Caller, busy.Callee, busy.Request("ACK", 1, "b", "")), 10*time.Millisecond)
	path := filepath.Join(t.TempDir(), "parts.pcap")
	testpcap.WriteFile(t, path, tl.Pkts)
	return path
}

// TestReadmeCommandExamples runs every --pcap-command and --voip-command
// example of README.md as written, on the sample capture and on a capture
// whose calls have several parts (--per-call-max-size 64K). With its
// program replaced by a probe, the probe must get the documented argv for
// every event; with its own program, when installed, no run may fail.
func TestReadmeCommandExamples(t *testing.T) {
	examples := readmeExamples(t)
	if len(examples) < 5 || !slices.Contains(examples, readmeExample{"voip-command", "gzip -9 %files%"}) {
		t.Fatalf("README examples: %q", examples)
	}
	inputs := []struct {
		name string
		args []string
	}{
		{"sample", []string{"-r", samplePath}},
		{"parts", []string{"-r", multiPartCapture(t), "--per-call-max-size", "64K"}},
	}
	for i, ex := range examples {
		for _, in := range inputs {
			// The template is not in the name: t.TempDir paths come from
			// it, and a % there would be a stray % in the rewritten one.
			t.Run(fmt.Sprintf("%d-%s-%s", i, ex.flag, in.name), func(t *testing.T) {
				t.Logf("%s %q", ex.flag, ex.tmpl)
				readmeRunProbe(t, ex, in.args, in.name == "parts")
				readmeRunReal(t, ex, in.args)
			})
		}
	}
}

// readmeRunProbe runs ex on input with a probe as its program and checks
// the argv of every run against the events.
func readmeRunProbe(t *testing.T, ex readmeExample, input []string, parts bool) {
	dir := t.TempDir()
	recs := filepath.Join(dir, "recs")
	if err := os.Mkdir(recs, 0o755); err != nil {
		t.Fatal(err)
	}
	tmpl, words := readmeRewrite(t, ex.tmpl, readmeProbe(t, recs), filepath.Join(dir, "redirected"))
	events := filepath.Join(dir, "events.jsonl")
	args := append([]string{"process", "-o", filepath.Join(dir, "out"), "--events", events, "--" + ex.flag, tmpl}, input...)
	code, _, stderr := run(t, nil, args...)
	if code != exitOK {
		t.Fatalf("%q with a probe: exit %d\n%s", ex.tmpl, code, stderr)
	}
	calls, files := readmeEvents(t, events)
	evs := calls
	if ex.flag == "pcap-command" {
		evs = files
	}
	if !strings.Contains(stderr, fmt.Sprintf("hooks: %d ran, 0 failed", len(evs))) {
		t.Fatalf("%q with a probe: exit %d\n%s", ex.tmpl, code, stderr)
	}
	if parts && !slices.ContainsFunc(calls, func(c map[string]any) bool { return len(c["files"].([]any)) > 4 }) {
		t.Fatalf("no call has several parts: %v", calls)
	}
	var want []string
	for _, ev := range evs {
		scalars, lists := readmeValues(ev)
		want = append(want, fmt.Sprintf("%q", readmeExpand(t, words, scalars, lists)))
	}
	slices.Sort(want)
	if got := readmeRecords(t, recs); !slices.Equal(got, want) {
		t.Errorf("%q: the probe got\n%s\nwant\n%s", ex.tmpl, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// readmeRunReal runs ex on input with its own program, when it is
// installed: every run must succeed, and gzip must leave no call pcap
// uncompressed.
func readmeRunReal(t *testing.T, ex readmeExample, input []string) {
	prog := strings.Fields(ex.tmpl)[0]
	if _, err := exec.LookPath(prog); err != nil {
		t.Logf("%s is not installed: only the probe ran", prog)
		return
	}
	dir := t.TempDir()
	tmpl, _ := readmeRewrite(t, ex.tmpl, prog, filepath.Join(dir, "redirected"))
	out := filepath.Join(dir, "out")
	code, _, stderr := run(t, nil, append([]string{"process", "-o", out, "--" + ex.flag, tmpl}, input...)...)
	if code != exitOK || !strings.Contains(stderr, " ran, 0 failed") {
		t.Fatalf("%q: exit %d\n%s", ex.tmpl, code, stderr)
	}
	if prog != "gzip" {
		return
	}
	pcaps, gz := countPcaps(filepath.Join(out, "calls"))
	if pcaps != 0 || gz == 0 {
		t.Errorf("%q: %d call pcaps left, %d compressed", ex.tmpl, pcaps, gz)
	}
}

// countPcaps returns how many pcaps and gzipped pcaps are under root.
func countPcaps(root string) (pcaps, gz int) {
	filepath.WalkDir(root, func(p string, _ os.DirEntry, err error) error {
		switch {
		case strings.HasSuffix(p, ".pcap"):
			pcaps++
		case strings.HasSuffix(p, ".pcap.gz"):
			gz++
		}
		return err
	})
	return pcaps, gz
}
