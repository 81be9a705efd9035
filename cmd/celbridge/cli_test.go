package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/celbridge/celbridge"
	"github.com/celbridge/celbridge/internal/clock"
	"github.com/celbridge/celbridge/internal/testdb"
)

// Stamped into the binary the CLI tests run, as the Makefile does.
const (
	testVersion = "v9.9.9-test"
	testCommit  = "0123456789ab"
	testDate    = "2026-11-26T00:00:00Z"
)

// binary is the celbridge executable built by TestMain for the CLI tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "celbridge-cli-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "celbridge")
	if err := buildBinary(binary); err != nil {
		fmt.Fprintln(os.Stderr, "build celbridge for the CLI tests:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// buildBinary builds the command with the version stamped in, with the race detector when
// the tests themselves run with it (so the daemon's goroutines are checked too).
func buildBinary(out string) error {
	args := []string{"build", "-o", out, "-ldflags",
		fmt.Sprintf("-X main.version=%s -X main.commit=%s -X main.date=%s", testVersion, testCommit, testDate)}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "-race" && s.Value == "true" {
				args = append(args, "-race")
			}
		}
	}
	if clock.Tags != "" { // the suite runs with the clock moved: so does the binary
		args = append(args, "-tags", clock.Tags)
	}
	cmd := exec.Command("go", append(args, ".")...)
	cmd.Stderr = os.Stderr
	return cmd.Run()
}

// site is one installation under test: a MariaDB database with FreePBX's cel table and a
// SELECT-only user, a CRM, a store directory and a config file for the binary.
type site struct {
	db     *testdb.DB
	crm    *crmServer
	store  string
	config string
}

// opts change the config file newSite writes.
type opts struct {
	dsn      string // default: the SELECT-only user's DSN
	crmURL   string // default: the test CRM
	timezone string // default: UTC
	listen   string // default: "127.0.0.1:0"
	extra    string // appended TOML (sections not written above)
}

func newSite(t *testing.T, o opts) *site {
	t.Helper()
	s := &site{db: testdb.New(t), crm: newCRM(t)}
	s.store = filepath.Join(t.TempDir(), "state.db")
	s.config = s.writeConfig(t, o)
	return s
}

// writeConfig writes a config file for this setup and returns its path.
func (s *site) writeConfig(t *testing.T, o opts) string {
	t.Helper()
	if o.dsn == "" {
		o.dsn = s.db.ReaderDSN
	}
	if o.crmURL == "" {
		o.crmURL = s.crm.URL + "/api/Binotel/Push"
	}
	if o.timezone == "" {
		o.timezone = "UTC"
	}
	if o.listen == "" {
		o.listen = "127.0.0.1:0"
	}
	cfg := fmt.Sprintf(`
[mysql]
dsn = %q
timezone = %q
[poll]
schedule = "@every 100ms"
gap_timeout = "1s"
end_grace = "100ms"
[crm]
url = %q
company_id = "3041"
timeout = "2s"
[store]
path = %q
[http]
listen = %q
[log]
level = "debug"
%s`, o.dsn, o.timezone, o.crmURL, s.store, o.listen, o.extra)
	path := filepath.Join(t.TempDir(), "celbridge.toml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// result is the outcome of one run of the binary.
type result struct {
	code           int
	stdout, stderr string
}

// cli runs the binary with args to completion; env entries are added to the environment.
func cli(t *testing.T, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errw bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errw
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errw.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run celbridge %v: %v", args, err)
	}
	return r
}

// daemon is a running `celbridge run`.
type daemon struct {
	cmd  *exec.Cmd
	addr string // where /metrics and /healthz are served
	log  *syncBuffer
	done chan struct{}
	err  error
}

// syncBuffer is a bytes.Buffer safe for a writer goroutine and a reading test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// servingAddr finds the HTTP address in the start-up log, text or JSON.
var servingAddr = regexp.MustCompile(`serving /metrics and /healthz.*addr"?[=:]"?([0-9a-f.:\[\]]+)`)

// startRun starts `celbridge run -config config` and waits until it serves HTTP and has
// polled once (rows inserted later are new to it, not history it skips). The daemon is stopped with SIGTERM when the test ends (or by stop).
func startRun(t *testing.T, config string) *daemon {
	t.Helper()
	d := &daemon{cmd: exec.Command(binary, "run", "-config", config), log: &syncBuffer{}, done: make(chan struct{})}
	pr, pw := io.Pipe()
	d.cmd.Stderr, d.cmd.Stdout = io.MultiWriter(d.log, pw), d.log
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		d.err = d.cmd.Wait()
		pw.Close()
		close(d.done)
	}()
	t.Cleanup(func() { d.stop(t) })
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if m := servingAddr.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
				break
			}
		}
		io.Copy(io.Discard, pr)
	}()
	select {
	case d.addr = <-found:
	case <-d.done:
		t.Fatalf("celbridge run exited early: %v\n%s", d.err, d.log)
	case <-time.After(30 * time.Second):
		t.Fatalf("celbridge run did not serve HTTP within 30s:\n%s", d.log)
	}
	d.waitMetric(t, "celbridge_poll_duration_seconds_count", atLeast(1))
	return d
}

// stop sends SIGTERM and waits for a clean exit.
func (d *daemon) stop(t *testing.T) {
	t.Helper()
	select {
	case <-d.done:
		return
	default:
	}
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
		if d.err != nil {
			t.Errorf("celbridge run did not exit cleanly on SIGTERM: %v\n%s", d.err, d.log)
		}
	case <-time.After(30 * time.Second):
		d.cmd.Process.Kill()
		<-d.done
		t.Errorf("celbridge run did not stop within 30s of SIGTERM\n%s", d.log)
	}
}

// get fetches path from the daemon's HTTP endpoint.
func (d *daemon) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + d.addr + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// waitFor polls cond every 50ms for up to 20s; what describes the awaited state.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// call returns the CEL rows of one answered inbound call from 0671112233 to extension 801,
// starting at id with eventtime at (written in at's location).
func call(id int64, linkedid string, at time.Time) []celbridge.CELRow {
	caller := linkedid
	callee := linkedid + "1"
	row := func(typ, uniqueid, ctx, chanName, exten string, dt time.Duration) celbridge.CELRow {
		r := celbridge.CELRow{ID: id, EventType: typ, EventTime: at.Add(dt), CIDNum: "0671112233",
			Exten: exten, Context: ctx, ChanName: chanName, UniqueID: uniqueid, LinkedID: linkedid}
		id++
		return r
	}
	return []celbridge.CELRow{
		row("CHAN_START", caller, "from-trunk", "PJSIP/trunk-00000001", "0441234567", 0),
		row("CHAN_START", callee, "from-internal", "PJSIP/801-00000002", "801", 100*time.Millisecond),
		row("ANSWER", callee, "from-internal", "PJSIP/801-00000002", "801", time.Second),
		row("ANSWER", caller, "from-trunk", "PJSIP/trunk-00000001", "0441234567", time.Second),
		row("BRIDGE_ENTER", caller, "from-trunk", "PJSIP/trunk-00000001", "0441234567", time.Second),
		row("BRIDGE_ENTER", callee, "from-internal", "PJSIP/801-00000002", "801", time.Second),
		row("BRIDGE_EXIT", callee, "from-internal", "PJSIP/801-00000002", "801", 2*time.Second),
		row("HANGUP", callee, "from-internal", "PJSIP/801-00000002", "801", 2*time.Second),
		row("CHAN_END", callee, "from-internal", "PJSIP/801-00000002", "801", 2*time.Second),
		row("BRIDGE_EXIT", caller, "from-trunk", "PJSIP/trunk-00000001", "0441234567", 2*time.Second),
		row("HANGUP", caller, "from-trunk", "PJSIP/trunk-00000001", "0441234567", 2*time.Second),
		row("CHAN_END", caller, "from-trunk", "PJSIP/trunk-00000001", "0441234567", 2*time.Second),
		row("LINKEDID_END", caller, "from-trunk", "PJSIP/trunk-00000001", "0441234567", 2*time.Second),
	}
}

// TestCLI_Version checks that the version, commit and date stamped with -ldflags (as
// `make build` does) are printed.
func TestCLI_Version(t *testing.T) {
	r := cli(t, nil, "version")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{testVersion, "commit " + testCommit, "built " + testDate} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("version output %q lacks %q", r.stdout, want)
		}
	}
}

// TestCLI_Usage checks that check and status are listed and that a bad command is exit 2.
func TestCLI_Usage(t *testing.T) {
	r := cli(t, nil, "help")
	for _, want := range []string{"celbridge check -config FILE", "celbridge status -config FILE [-json]"} {
		if r.code != 0 || !strings.Contains(r.stdout, want) {
			t.Errorf("help: exit %d, output lacks %q:\n%s", r.code, want, r.stdout)
		}
	}
	if r := cli(t, nil, "chek"); r.code != 2 || !strings.Contains(r.stderr, `unknown command "chek"`) {
		t.Errorf("unknown command: exit %d, stderr %q", r.code, r.stderr)
	}
}

var backfillSummaryLine = regexp.MustCompile(`(?m)^backfill of CEL ids 1\.\.374: 374 rows, (\d+) calls; requests: (\d+) received, (\d+) answered, (\d+) transferred, (\d+) hangup; (\d+) new, (\d+) already queued or delivered by an earlier run \(not sent again\); 0 failed$`)

// TestCLI_Backfill runs backfill without a terminal (no progress bar escape codes), checks
// its summary against what the CRM got, and that running it again sends nothing twice.
func TestCLI_Backfill(t *testing.T) {
	t.Parallel()
	s := newSite(t, opts{})
	loadCapture(t, s.db)
	var sent int
	for run := 1; run <= 2; run++ {
		r := cli(t, nil, "backfill", "-config", s.config, "-from-id", "1")
		if r.code != 0 {
			t.Fatalf("backfill run %d: exit %d\n%s", run, r.code, r.stderr)
		}
		m := backfillSummaryLine.FindStringSubmatch(r.stderr)
		if m == nil {
			t.Fatalf("backfill run %d: no summary line in:\n%s", run, r.stderr)
		}
		if strings.ContainsAny(r.stderr, "\r\x1b") {
			t.Errorf("backfill run %d drew a progress bar without a terminal:\n%q", run, r.stderr)
		}
		total := 0
		for _, n := range m[2:6] {
			v, _ := strconv.Atoi(n)
			total += v
		}
		added, _ := strconv.Atoi(m[6])
		before, _ := strconv.Atoi(m[7])
		got := len(s.crm.received())
		if run == 1 {
			sent = got
			if calls, _ := strconv.Atoi(m[1]); calls == 0 || total != got || added != total || before != 0 {
				t.Errorf("summary %q: %d calls, %d requests, %d new; the CRM got %d", m[0], calls, total, added, got)
			}
		} else if got != sent || added != 0 || before != total {
			t.Errorf("the second backfill sent %d requests again and says %q; it must send none and say so", got-sent, m[0])
		}
	}
}
