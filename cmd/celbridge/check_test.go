package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/celbridge/celbridge/internal/clock"
)

// wantLine fails unless out has a line that starts with mark and contains every part.
func wantLine(t *testing.T, out, mark string, parts ...string) {
	t.Helper()
	for line := range strings.SplitSeq(out, "\n") {
		if !strings.HasPrefix(line, mark+" ") {
			continue
		}
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(line, p)
		}
		if ok {
			return
		}
	}
	t.Errorf("no line %q with %q in:\n%s", mark, parts, out)
}

// nowCall inserts one complete call written just now, in loc's wall clock.
func (s *site) nowCall(t *testing.T, firstID int64, loc *time.Location) {
	t.Helper()
	s.db.Insert(t, call(firstID, fmt.Sprintf("1764100000.%d", firstID), clock.Now().In(loc).Add(-3*time.Second))...)
}

func TestCheck_AllPass(t *testing.T) {
	t.Parallel()
	s := newSite(t, opts{})
	schema := s.db.FreePBX(t, nil) // FreePBX's configuration with the grants of asterisk-config.md
	s.config = s.writeConfig(t, opts{extra: fmt.Sprintf("[freepbx]\ndatabase = %q\n", schema)})
	s.nowCall(t, 1, time.UTC)
	r := cli(t, nil, "check", "-config", s.config)
	if r.code != 0 {
		t.Fatalf("exit %d, want 0\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	wantLine(t, r.stdout, "✓", "config", "is valid")
	wantLine(t, r.stdout, "✓", "logged in as "+s.db.User+"@")
	wantLine(t, r.stdout, "✓", "SELECT on "+s.db.Name+".cel is granted")
	wantLine(t, r.stdout, "✓", "cannot write", "good")
	wantLine(t, r.stdout, "✓", "CEL is being written: newest row id 13")
	wantLine(t, r.stdout, "✓", "LINKEDID_END")
	wantLine(t, r.stdout, "✓", `mysql.timezone "UTC" fits`)
	wantLine(t, r.stdout, "✓", "CRM http://127.0.0.1:", "reachable", "no request sent")
	wantLine(t, r.stdout, "✓", "store "+s.store, "can be created")
	wantLine(t, r.stdout, "✓", "FreePBX "+schema+".ringgroups readable")
	if n := strings.Count(r.stdout, "\n"); n != 21 || strings.Count(r.stdout, "✓") != 21 {
		t.Errorf("want 21 passing lines (9, and 12 FreePBX tables), got:\n%s", r.stdout)
	}
	if got := s.crm.received(); len(got) != 0 {
		t.Errorf("check sent %d requests to the CRM; it must send none", len(got))
	}
	if _, err := os.Stat(s.store); err == nil {
		t.Errorf("check created the store; it must leave that to the daemon (it may run as root)")
	}

	t.Run("StoreExists", func(t *testing.T) {
		if r := s.do(t, "once"); r.code != 0 {
			t.Fatalf("once: exit %d: %s", r.code, r.stderr)
		}
		r := s.do(t, "check")
		wantLine(t, r.stdout, "✓", "store "+s.store+" is writable and up to date")
	})
	t.Run("StoreInUse", func(t *testing.T) {
		startRun(t, s.config)
		r := s.do(t, "check")
		if r.code != 0 {
			t.Errorf("exit %d with a running daemon:\n%s", r.code, r.stdout)
		}
		wantLine(t, r.stdout, "✓", "store "+s.store+" is in use by a running celbridge")
	})
	t.Run("AccountCanWrite", func(t *testing.T) {
		s.db.Exec(t, fmt.Sprintf("GRANT INSERT, DELETE ON `%s`.* TO '%s'@'%%'", s.db.Name, s.db.User))
		r := s.do(t, "check")
		if r.code != 0 {
			t.Errorf("exit %d: a warning must not fail check:\n%s", r.code, r.stdout)
		}
		wantLine(t, r.stdout, "!", "can write", "INSERT, DELETE ON `"+s.db.Name+"`.*", "REVOKE")
	})
}

// TestCheck_MySQLProblems: check's exit codes for the database (its findings are tested in
// freepbx): 2 for a refused login, as run; 1 for a server that is down.
func TestCheck_MySQLProblems(t *testing.T) {
	t.Parallel()
	t.Run("WrongPassword", func(t *testing.T) {
		s := newSite(t, opts{})
		dsn := strings.Replace(s.db.ReaderDSN, ":"+s.db.Password+"@", ":wrong-Pa55word@", 1)
		r := cli(t, nil, "check", "-config", s.writeConfig(t, opts{dsn: dsn}))
		if r.code != 2 { // a config error, as for run: systemd's RestartPreventExitStatus=2
			t.Errorf("exit %d, want 2", r.code)
		}
		wantLine(t, r.stdout, "✗", "login failed", "Access denied", "check the user and password in mysql.dsn", "GRANT SELECT ON "+s.db.Name+".cel")
		if strings.Contains(r.stdout+r.stderr, "wrong-Pa55word") {
			t.Errorf("output shows the password:\n%s%s", r.stdout, r.stderr)
		}
		if !strings.Contains(r.stderr, "1 check failed") {
			t.Errorf("stderr %q does not summarize", r.stderr)
		}
	})
	t.Run("Unreachable", func(t *testing.T) {
		s := newSite(t, opts{})
		r := cli(t, nil, "check", "-config", s.writeConfig(t, opts{dsn: "celbridge:pw@unix(" + filepath.Join(t.TempDir(), "no.sock") + ")/asteriskcdrdb"}))
		if r.code != 1 { // a restart may help: the server may come up
			t.Errorf("exit %d, want 1", r.code)
		}
		wantLine(t, r.stdout, "✗", "MySQL at unix socket", "is MariaDB up and reachable", "unix(/run/mysqld/mysqld.sock)")
		// run says the same (exit 1: a restart may help once the server is up).
		o := cli(t, nil, "once", "-config", s.writeConfig(t, opts{dsn: "celbridge:pw@unix(" + filepath.Join(t.TempDir(), "no.sock") + ")/asteriskcdrdb"}))
		if o.code != 1 || !strings.Contains(o.stderr, "unix(/run/mysqld/mysqld.sock)") {
			t.Errorf("once with no server: exit %d, want 1 with the socket FreePBX uses:\n%s", o.code, o.stderr)
		}
	})
}

func TestCheck_BadConfig(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "bad.toml")
	os.WriteFile(cfg, []byte("[mysql]\ndsn = \"\"\n[crm]\nurl = \"ftp://x\"\n"), 0o600)
	r := cli(t, nil, "check", "-config", cfg)
	if r.code != 2 { // as run: a config error
		t.Errorf("exit %d, want 2", r.code)
	}
	wantLine(t, r.stdout, "✗", "config "+cfg+" is not valid")
	for _, want := range []string{"mysql.dsn: is empty", "crm.url: is not an http(s) URL"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r.stdout)
		}
	}
}
