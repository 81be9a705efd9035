package main

import (
	"bytes"
	"cmp"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/celbridge/celbridge"
	"github.com/celbridge/celbridge/internal/clitest"
	"github.com/celbridge/celbridge/internal/testdb"
)

// The command tests' fixture: one site per test (a MariaDB database with FreePBX's cel table
// and a SELECT-only user, a CRM, a store path and the Config pointing at them, built in Go).
// Commands run in-process on the Config (site.run); the tests of what only the process shows
// (exit codes, signals, the version stamp, two processes sharing a store) run the binary that
// internal/clitest builds, with the Config written as a file (site.config).

// binary is the celbridge executable built by TestMain for the binary-level tests.
var binary string

func TestMain(m *testing.M) { os.Exit(clitest.Main(m, &binary)) }

// site is one installation under test.
type site struct {
	db     *testdb.DB
	crm    *crmServer
	cfg    Config // what the in-process commands run on
	store  string
	config string // cfg as a TOML file, for the binary
}

// opts change a site's Config.
type opts struct {
	dsn      string // default: the SELECT-only user's DSN
	crmURL   string // default: the test CRM
	timezone string // default: UTC
	listen   string // default: "127.0.0.1:0"
	extra    string // TOML decoded over the Config (sections the test sets)
}

func newSite(t *testing.T, o opts) *site {
	t.Helper()
	return newSiteOn(t, testdb.New(t), newCRM(t), o)
}

// newSiteOn is newSite over a database and CRM made already.
func newSiteOn(t *testing.T, db *testdb.DB, crm *crmServer, o opts) *site {
	t.Helper()
	s := &site{db: db, crm: crm, store: filepath.Join(t.TempDir(), "state.db")}
	s.cfg = s.configWith(t, o)
	s.config = s.writeConfig(t, o)
	return s
}

// configWith is the site's Config changed by o.
func (s *site) configWith(t *testing.T, o opts) Config {
	t.Helper()
	cfg := DefaultConfig()
	cfg.MySQL.DSN = cmp.Or(o.dsn, s.db.ReaderDSN)
	cfg.MySQL.Timezone = cmp.Or(o.timezone, "UTC")
	cfg.MySQL.BatchSize = 50 // several batches per poll
	cfg.Poll.Schedule = "@every 100ms"
	cfg.Poll.GapTimeout = Duration{Duration: time.Second}
	cfg.Poll.EndGrace = Duration{Duration: 100 * time.Millisecond}
	cfg.CRM.URL = cmp.Or(o.crmURL, s.crm.PushURL())
	cfg.CRM.CompanyID = "3041"
	cfg.CRM.Timeout = Duration{Duration: 2 * time.Second}
	cfg.Store.Path = s.store
	cfg.HTTP.Listen = cmp.Or(o.listen, "127.0.0.1:0")
	cfg.Log.Level = "debug"
	md, err := toml.Decode(o.extra, &cfg)
	if err != nil {
		t.Fatalf("extra config %q: %v", o.extra, err)
	}
	if keys := md.Undecoded(); len(keys) > 0 {
		t.Fatalf("extra config %q: unknown keys %v", o.extra, keys)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// writeConfig writes the site's Config changed by o as a TOML file and returns its path.
func (s *site) writeConfig(t *testing.T, o opts) string {
	t.Helper()
	var b bytes.Buffer
	if err := toml.NewEncoder(&b).Encode(s.configWith(t, o)); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "celbridge.toml")
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// run runs the command line args in-process, as Main does, with s.cfg for the config file,
// and returns its exit code and output.
func (s *site) run(t *testing.T, ctx context.Context, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errw bytes.Buffer
	cl := commandLine{readConfig: func(string) (Config, error) { return s.cfg, nil }}
	code = cl.main(ctx, args, &out, &errw)
	return code, out.String(), errw.String()
}

// do is run to the end of the test's context, as cli runs the binary.
func (s *site) do(t *testing.T, args ...string) result {
	t.Helper()
	code, stdout, stderr := s.run(t, t.Context(), args...)
	return result{code, stdout, stderr}
}

// with is the site with its Config changed by o (the same database, CRM and store).
func (s *site) with(t *testing.T, o opts) *site {
	t.Helper()
	c := *s
	c.cfg = s.configWith(t, o)
	c.config = "" // the file is s's: the copy runs in-process only
	return &c
}

// crmServer is internal/clitest's CRM answering as these tests need: 503 to the first
// failNext requests, then status when set, else 200. A request not form-encoded fails the test.
type crmServer struct {
	*clitest.CRM
	mu       sync.Mutex
	failNext int // answer 503 to this many requests first
	status   int // when non-zero, answer every request with it
}

func newCRM(t *testing.T) *crmServer {
	c := &crmServer{CRM: clitest.NewCRM(t)}
	c.ErrorBody = "busy"
	c.SetAnswer(func(r *clitest.Request) (int, time.Duration) {
		if r.ContentType != "application/x-www-form-urlencoded; charset=utf-8" {
			t.Errorf("Content-Type = %q", r.ContentType)
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		switch {
		case c.failNext > 0:
			c.failNext--
			return http.StatusServiceUnavailable, 0
		case c.status != 0:
			return c.status, 0
		}
		return http.StatusOK, 0
	})
	return c
}

// failFirst makes the CRM answer 503 to the next n requests.
func (c *crmServer) failFirst(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.failNext = n
}

// setStatus makes the CRM answer code to every request (0: 200 again).
func (c *crmServer) setStatus(code int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.status = code
}

// received returns the bodies the CRM accepted, in arrival order.
func (c *crmServer) received() []string {
	var out []string
	for _, r := range clitest.AcceptedInOrder(c.Snapshot()) {
		out = append(out, r.Body)
	}
	return out
}

// keys returns the Idempotency-Keys of the requests the CRM accepted, in arrival order.
func (c *crmServer) keys() []string {
	var out []string
	for _, r := range clitest.AcceptedInOrder(c.Snapshot()) {
		out = append(out, r.Key)
	}
	return out
}

// result is the outcome of one run of the binary.
type result struct {
	code           int
	stdout, stderr string
}

// cli runs the binary with args to its end; env entries are added to the environment.
func cli(t *testing.T, env []string, args ...string) result {
	t.Helper()
	r := clitest.Run(t, binary, env, args...)
	return result{r.Code, r.Stdout, r.Stderr}
}

// process is a celbridge command running in the background, its output in log.
type process struct {
	*clitest.Process
	log *clitest.Buffer
}

func startProcess(t *testing.T, args ...string) *process {
	t.Helper()
	log := &clitest.Buffer{}
	return &process{Process: clitest.Start(t, binary, log, args...), log: log}
}

// exited fails the test if the process has exited.
func (p *process) exited(t *testing.T) {
	t.Helper()
	if p.Exited() {
		t.Fatalf("%v exited: %v\n%s", p.Cmd.Args[1:], p.Err(), p.log)
	}
}

// wait waits up to 30s for the process to exit and returns its exit code.
func (p *process) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-p.Done():
	case <-time.After(30 * time.Second):
		t.Fatalf("%v still runs after 30s:\n%s", p.Cmd.Args, p.log)
	}
	return p.Code()
}

// daemon is a running `celbridge run`.
type daemon struct {
	*process
	addr string // where /metrics and /healthz are served
}

// servingAddr finds the HTTP address in the start-up log, text or JSON.
var servingAddr = regexp.MustCompile(`serving /metrics and /healthz.*addr"?[=:]"?([0-9a-f.:\[\]]+)`)

// startRun starts `celbridge run -config config` and waits until it serves HTTP and has
// polled once (rows inserted later are new to it, not history it skips). The daemon is
// stopped with SIGTERM when the test ends (or by stop).
func startRun(t *testing.T, config string) *daemon {
	t.Helper()
	d := &daemon{process: startProcess(t, "run", "-config", config)}
	t.Cleanup(func() { d.stop(t) })
	clitest.WaitFor(t, 30*time.Second, "celbridge run to serve HTTP", func() bool {
		if d.Exited() {
			t.Fatalf("celbridge run exited early: %v\n%s", d.Err(), d.log)
		}
		m := servingAddr.FindStringSubmatch(d.log.String())
		if m != nil {
			d.addr = m[1]
		}
		return m != nil
	})
	d.waitMetric(t, "celbridge_poll_duration_seconds_count", atLeast(1))
	return d
}

// stop sends SIGTERM and waits for a clean exit.
func (d *daemon) stop(t *testing.T) {
	t.Helper()
	if d.Exited() {
		return
	}
	if code := d.Stop(); code != 0 {
		t.Errorf("celbridge run did not exit cleanly on SIGTERM (exit %d): %v\n%s", code, d.Err(), d.log)
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
