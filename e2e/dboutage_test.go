package e2e

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/google/go-cmp/cmp"

	"github.com/celbridge/celbridge/internal/celschema"
	"github.com/celbridge/celbridge/internal/clitest"
	"github.com/celbridge/celbridge/internal/clock"
	"github.com/celbridge/celbridge/internal/loadgen"
)

// mariadb is a MariaDB server of the test's own (the shared test server must not be stopped),
// started as scripts/test-mariadb.sh does, but with durable commits: it is killed with
// SIGKILL and must keep what it acknowledged.
type mariadb struct {
	t    *testing.T
	dir  string
	sock string
	cmd  *exec.Cmd
	done chan struct{}
}

func startMariaDB(t *testing.T) *mariadb {
	t.Helper()
	for _, bin := range []string{"mariadbd", "mariadb-install-db"} {
		if _, err := exec.LookPath(bin); err != nil {
			if _, err := os.Stat("/usr/sbin/" + bin); err != nil {
				t.Fatalf("%s not found: this test starts its own MariaDB server (package mariadb-server)", bin)
			}
		}
	}
	dir, err := os.MkdirTemp("", "cbdb") // short: a unix socket path is limited to ~107 bytes
	if err != nil {
		t.Fatal(err)
	}
	m := &mariadb{t: t, dir: dir, sock: filepath.Join(dir, "s")}
	args := []string{"--no-defaults", "--datadir=" + filepath.Join(dir, "data"),
		"--auth-root-authentication-method=normal", "--skip-test-db", "--skip-name-resolve"}
	if os.Getuid() == 0 {
		args = append(args, "--user=root")
	}
	install := exec.Command(lookSbin("mariadb-install-db"), args...)
	if out, err := install.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		t.Fatalf("mariadb-install-db: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		m.kill()
		os.RemoveAll(dir)
	})
	m.start()
	return m
}

func lookSbin(name string) string {
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	return "/usr/sbin/" + name
}

// start starts the server on the data directory and waits until it answers.
func (m *mariadb) start() {
	m.t.Helper()
	args := []string{"--no-defaults", "--datadir=" + filepath.Join(m.dir, "data"), "--socket=" + m.sock,
		"--skip-networking", "--pid-file=" + filepath.Join(m.dir, "pid"), "--tmpdir=" + m.dir,
		"--log-error=" + filepath.Join(m.dir, "error.log"), "--skip-name-resolve", "--innodb-buffer-pool-size=32M"}
	if os.Getuid() == 0 {
		args = append(args, "--user=root")
	}
	m.cmd = exec.Command(lookSbin("mariadbd"), args...)
	if err := m.cmd.Start(); err != nil {
		m.t.Fatalf("start mariadbd: %v", err)
	}
	m.done = make(chan struct{})
	go func() {
		m.cmd.Wait()
		close(m.done)
	}()
	db := m.root("")
	defer db.Close()
	ok := clitest.Until(60*time.Second, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		return db.PingContext(ctx) == nil
	})
	if !ok {
		log, _ := os.ReadFile(filepath.Join(m.dir, "error.log"))
		m.t.Fatalf("mariadbd did not answer within 60s; error log:\n%s", log)
	}
}

// kill stops the server with SIGKILL, as a power cut or the OOM killer would.
func (m *mariadb) kill() {
	if m.cmd == nil || m.cmd.Process == nil {
		return
	}
	m.cmd.Process.Signal(syscall.SIGKILL)
	<-m.done
}

// root connects as root to database name ("" for none).
func (m *mariadb) root(name string) *sql.DB {
	cfg := mysql.NewConfig()
	cfg.User, cfg.Net, cfg.Addr, cfg.DBName = "root", "unix", m.sock, name
	cfg.MultiStatements = true
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		m.t.Fatal(err)
	}
	return sql.OpenDB(conn)
}

// setup creates FreePBX's asteriskcdrdb.cel and a SELECT-only user; it returns the user's DSN.
func (m *mariadb) setup() string {
	m.t.Helper()
	db := m.root("")
	defer db.Close()
	for _, q := range []string{
		"CREATE DATABASE asteriskcdrdb",
		"USE asteriskcdrdb; " + celschema.DDL,
		"CREATE USER 'celbridge'@'%' IDENTIFIED BY 'pw'",
		"GRANT SELECT ON asteriskcdrdb.cel TO 'celbridge'@'%'",
	} {
		if _, err := db.Exec(q); err != nil {
			m.t.Fatalf("%.60s: %v", q, err)
		}
	}
	return fmt.Sprintf("celbridge:pw@unix(%s)/asteriskcdrdb", m.sock)
}

// TestDatabaseOutage is guarantee 4 of issue 4: the PBX's MariaDB dies (SIGKILL) in the
// middle of calls and comes back on the same data directory; celbridge's poller reconnects
// and resumes from its cursor. Every request arrives exactly once: nothing skipped, nothing
// repeated. The outage is logged once and the recovery once.
//
// Mechanisms under test: the poller keeps its cursor and open calls across failed polls
// (Tick returns the error; Run tries again at the next tick) and database/sql's pool replaces
// the dead connections. A poller that advanced its cursor on a failed read, or stopped on the
// first error, fails this test.
func TestDatabaseOutage(t *testing.T) {
	srv := startMariaDB(t)
	dsn := srv.setup()
	admin := srv.root("asteriskcdrdb")
	defer admin.Close()
	c := clitest.NewCRM(t)
	in := newInstall(t, dsn, c.PushURL(), "", "")
	if code, _ := in.run("once"); code != 0 {
		t.Fatalf("first once: exit %d\n%s", code, in.tail(30))
	}
	rows, calls := generate(4, 2000, loadgen.WithRate(5), loadgen.WithStart(clock.Now().Add(-10*time.Minute).UTC()))
	want, n := expected(calls)
	cut := len(rows) / 2

	d := in.start()
	if err := loadgen.Insert(t.Context(), admin, "cel", rows[:cut]); err != nil {
		t.Fatal(err)
	}
	if !clitest.Until(30*time.Second, func() bool { return countKeys(c.Snapshot()) > 0 && quiet(c, 500*time.Millisecond) }) {
		t.Fatalf("nothing delivered before the outage")
	}
	before := countKeys(c.Snapshot())
	srv.kill()
	time.Sleep(1500 * time.Millisecond) // several polls fail
	if d.Exited() {
		t.Fatalf("celbridge exited when MariaDB went away:\n%s", in.tail(20))
	}
	srv.start()
	if err := loadgen.Insert(t.Context(), admin, "cel", rows[cut:]); err != nil {
		t.Fatal(err)
	}
	in.stopAfter(t, c, d, n, 30*time.Second, "after MariaDB came back")
	if d := cmp.Diff(want, clitest.Accepted(c.Snapshot())); d != "" {
		t.Errorf("requests per call, duplicates included (-want +got):\n%s", d)
	}
	text := in.logText()
	perErr := map[string]int{}
	for _, line := range strings.Split(text, "\n") {
		if i := strings.Index(line, "poll failed"); i >= 0 {
			perErr[line[i:]]++
		}
	}
	if len(perErr) == 0 {
		t.Errorf("the outage was not logged")
	}
	for msg, k := range perErr {
		if k > 1 {
			t.Errorf("logged %d times within a minute, want once per 30s: %s", k, msg)
		}
	}
	t.Logf("outage log lines: %v", perErr)
	if !strings.Contains(text, "poll works again") {
		t.Errorf("the recovery was not logged")
	}
	t.Logf("%d of %d requests delivered before the outage", before, n)
	if t.Failed() {
		t.Logf("log tail:\n%s", in.tail(30))
	}
}
