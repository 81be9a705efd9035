// Package e2e holds end-to-end tests of the delivery guarantees (issue 4, DESIGN §1, §2, §4):
// they build the real celbridge binary, run it against MariaDB and a CRM served by the test,
// and kill, stop or starve it.
package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/celbridge/celbridge"
	"github.com/celbridge/celbridge/internal/clitest"
	"github.com/celbridge/celbridge/internal/loadgen"
	"github.com/celbridge/celbridge/internal/testdb"
)

// binary is the celbridge executable built by TestMain.
var binary string

func TestMain(m *testing.M) { os.Exit(clitest.Main(m, &binary, clitest.NoRace)) }

// companyID is sent in every request.
const companyID = "3041"

// expected is what the CRM must receive for calls: per generalCallID, the bodies in order.
func expected(calls []*loadgen.Call) (map[string][]string, int) {
	m := map[string][]string{}
	n := 0
	for _, c := range calls {
		for _, e := range c.Expected(loadgen.MapperConfig()) {
			m[e.GeneralCallID] = append(m[e.GeneralCallID], celbridge.EncodeForm(e.Fields(companyID)))
			n++
		}
	}
	return m, n
}

// install is one celbridge installation: a config file, a state file and a log file that
// every run of the binary appends to.
type install struct {
	t      *testing.T
	dir    string
	config string
	log    string
}

// newInstall writes a config reading the cel table of dsn and pushing to crmURL. pollExtra
// and crmExtra are added to the [poll] and [crm] sections (crm.timeout is 2s unless set).
func newInstall(t *testing.T, dsn, crmURL, pollExtra, crmExtra string) *install {
	t.Helper()
	if !strings.Contains(crmExtra, "timeout") {
		crmExtra += "\ntimeout = \"2s\"\n"
	}
	dir := t.TempDir()
	in := &install{t: t, dir: dir, config: filepath.Join(dir, "celbridge.toml"), log: filepath.Join(dir, "celbridge.log")}
	// The [pbx] and [crm] settings match loadgen.MapperConfig, which the expected requests
	// are computed with.
	cfg := fmt.Sprintf(`[[pbx.groups]]
number = "600"
members = ["801", "802", "803"]

[crm]
send_transfers = true
url = %q
company_id = %q
%s

[mysql]
dsn = %q
timezone = "UTC"
batch_size = 500

[poll]
schedule = "@every 100ms"
gap_timeout = "2s"
%s

[store]
path = %q

[http]
listen = ""

[log]
level = "info"
`, crmURL, companyID, crmExtra, dsn, pollExtra, filepath.Join(dir, "state.db"))
	if err := os.WriteFile(in.config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return in
}

// started is the start of most tests: an empty cel table, a CRM, an install whose [crm] has
// crmExtra, and a first `once` that puts the cursor at the table's start (what is inserted
// later is sent, not skipped as history).
func started(t *testing.T, crmExtra string) (*testdb.DB, *clitest.CRM, *install) {
	t.Helper()
	db := testdb.New(t)
	c := clitest.NewCRM(t)
	in := newInstall(t, db.ReaderDSN, c.PushURL(), "", crmExtra)
	if code, _ := in.run("once"); code != 0 {
		t.Fatalf("first once: exit %d\n%s", code, in.tail(30))
	}
	return db, c, in
}

// run runs a short command (once, retry, status…) to its end and returns its exit code and
// stdout; its stderr goes to the log.
func (in *install) run(args ...string) (int, string) {
	in.t.Helper()
	args = append(args[:1:1], append([]string{"-config", in.config}, args[1:]...)...)
	r := clitest.Run(in.t, binary, nil, args...)
	logf := in.openLog("$ celbridge " + strings.Join(args, " "))
	defer logf.Close()
	logf.WriteString(r.Stderr)
	return r.Code, r.Stdout
}

func (in *install) openLog(header string) *os.File {
	f, err := os.OpenFile(in.log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		in.t.Fatal(err)
	}
	fmt.Fprintf(f, "==== %s\n", header)
	return f
}

// daemon is one `celbridge run` process, logging to the install's log.
type daemon struct {
	*clitest.Process
	logf *os.File
}

// start starts `celbridge run`.
func (in *install) start() *daemon {
	in.t.Helper()
	logf := in.openLog("$ celbridge run")
	d := &daemon{Process: clitest.Start(in.t, binary, logf, "run", "-config", in.config), logf: logf}
	in.t.Cleanup(func() { logf.Close() })
	return d
}

func (in *install) logText() string {
	b, _ := os.ReadFile(in.log)
	return string(b)
}

// tail returns the log's last lines, for failure messages.
func (in *install) tail(n int) string {
	lines := strings.Split(strings.TrimRight(in.logText(), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// stopAfter waits up to timeout until the CRM has n requests, saying what was awaited (after
// what) when they do not come, then stops d with SIGTERM and wants exit 0.
func (in *install) stopAfter(t *testing.T, c *clitest.CRM, d *daemon, n int, timeout time.Duration, after string) {
	t.Helper()
	if !clitest.Until(timeout, func() bool { return countKeys(c.Snapshot()) >= n }) {
		t.Errorf("%s only %d of %d requests arrived", after, countKeys(c.Snapshot()), n)
	}
	if code := d.Stop(); code != 0 {
		t.Errorf("celbridge run: exit %d on SIGTERM, want 0\n%s", code, in.tail(20))
	}
}

// generate produces n calls' rows in id order from the generator (calls complete) and the
// calls.
func generate(seed int64, nRows int64, opts ...loadgen.Option) ([]celbridge.CELRow, []*loadgen.Call) {
	var calls []*loadgen.Call
	opts = append(opts, loadgen.OnCallDone(func(c *loadgen.Call) { calls = append(calls, c) }))
	g := loadgen.New(seed, opts...)
	var rows []celbridge.CELRow
	for b := range g.Bulk(nRows, 1000) {
		rows = append(rows, b...)
	}
	return rows, calls
}
