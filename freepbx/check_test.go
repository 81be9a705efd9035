package freepbx_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/celbridge/celbridge"
	"github.com/celbridge/celbridge/freepbx"
	"github.com/celbridge/celbridge/health"
	"github.com/celbridge/celbridge/internal/clock"
	"github.com/celbridge/celbridge/internal/pollertest"
	"github.com/celbridge/celbridge/internal/testdb"
)

// nowCall inserts one complete call (scenario 1 of the capture) written just now, in loc's
// wall clock.
func nowCall(t *testing.T, db *testdb.DB, loc *time.Location) []celbridge.CELRow {
	t.Helper()
	x, _ := pollertest.Calls(t)
	shift := clock.Now().Add(-3 * time.Second).Sub(x[len(x)-1].EventTime)
	for i := range x {
		x[i].EventTime = x[i].EventTime.Add(shift).In(loc)
	}
	db.Insert(t, x...)
	return x
}

// checkup returns the checkup of db's cel table as its SELECT-only user, read in UTC.
func checkup(db *testdb.DB) freepbx.Checkup {
	return freepbx.Checkup{DSN: db.ReaderDSN, Table: "cel", Zone: "UTC", Loc: time.UTC}
}

// wantFinding fails unless a finding has the outcome and every part in its text and fix.
func wantFinding(t *testing.T, findings []health.Finding, outcome health.Outcome, parts ...string) {
	t.Helper()
	for _, f := range findings {
		line := f.Text + " → " + f.Fix
		ok := f.Outcome == outcome
		for _, p := range parts {
			ok = ok && strings.Contains(line, p)
		}
		if ok {
			return
		}
	}
	t.Errorf("no %s finding with %q in:\n%s", outcome, parts, lines(findings))
}

func lines(findings []health.Finding) string {
	var b strings.Builder
	for _, f := range findings {
		fmt.Fprintln(&b, f)
	}
	return b.String()
}

func failures(findings []health.Finding) (n int) {
	for _, f := range findings {
		if f.Fails() {
			n++
		}
	}
	return n
}

func TestCheckup_AllPass(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	rows := nowCall(t, db, time.UTC)
	k := checkup(db)
	k.Schema = db.FreePBX(t, nil) // FreePBX's configuration with the grants of asterisk-config.md
	findings, refused := k.Run(t.Context())
	if failures(findings) != 0 || refused {
		t.Fatalf("failed checks (refused login: %v):\n%s", refused, lines(findings))
	}
	wantFinding(t, findings, health.Pass, "logged in as "+db.User+"@")
	wantFinding(t, findings, health.Pass, "SELECT on "+db.Name+".cel is granted")
	wantFinding(t, findings, health.Pass, "cannot write", "good")
	wantFinding(t, findings, health.Pass, fmt.Sprintf("CEL is being written: newest row id %d", len(rows)))
	wantFinding(t, findings, health.Pass, "LINKEDID_END")
	wantFinding(t, findings, health.Pass, `mysql.timezone "UTC" fits`)
	wantFinding(t, findings, health.Pass, "FreePBX "+k.Schema+".ringgroups readable")
	if n := len(findings); n != 18 {
		t.Errorf("want 18 findings (6, and 12 FreePBX tables), got:\n%s", lines(findings))
	}

	t.Run("AccountCanWrite", func(t *testing.T) {
		db.Exec(t, fmt.Sprintf("GRANT INSERT, DELETE ON `%s`.* TO '%s'@'%%'", db.Name, db.User))
		findings, _ := k.Run(t.Context())
		if n := failures(findings); n != 0 {
			t.Errorf("%d failures: a warning must not fail check:\n%s", n, lines(findings))
		}
		wantFinding(t, findings, health.Warn, "can write", "INSERT, DELETE ON `"+db.Name+"`.*", "REVOKE")
	})
}

func TestCheckup_Problems(t *testing.T) {
	t.Parallel()
	t.Run("WrongPassword", func(t *testing.T) {
		db := testdb.New(t)
		k := checkup(db)
		k.DSN = strings.Replace(db.ReaderDSN, ":"+db.Password+"@", ":wrong-Pa55word@", 1)
		findings, refused := k.Run(t.Context())
		if !refused {
			t.Errorf("a refused login is not reported as such (check exits 2 for it)")
		}
		wantFinding(t, findings, health.Fail, "login failed", "Access denied", "check the user and password in mysql.dsn", "GRANT SELECT ON "+db.Name+".cel")
		if strings.Contains(lines(findings), "wrong-Pa55word") {
			t.Errorf("findings show the password:\n%s", lines(findings))
		}
	})
	t.Run("Unreachable", func(t *testing.T) {
		k := freepbx.Checkup{DSN: "celbridge:pw@unix(" + filepath.Join(t.TempDir(), "no.sock") + ")/asteriskcdrdb", Loc: time.UTC}
		findings, refused := k.Run(t.Context())
		if refused {
			t.Errorf("a server that is down is not a refused login (a restart may help)")
		}
		wantFinding(t, findings, health.Fail, "MySQL at unix socket", "is MariaDB up and reachable", "unix(/run/mysqld/mysqld.sock)")
	})
	t.Run("NoGrant", func(t *testing.T) {
		db := testdb.New(t)
		db.Exec(t, fmt.Sprintf("REVOKE SELECT ON `%s`.`cel` FROM '%s'@'%%'", db.Name, db.User))
		findings, _ := checkup(db).Run(t.Context())
		wantFinding(t, findings, health.Fail, "Access denied", "GRANT SELECT ON "+db.Name+".cel")
	})
	t.Run("EmptyCEL", func(t *testing.T) {
		findings, _ := checkup(testdb.New(t)).Run(t.Context())
		wantFinding(t, findings, health.Fail, "the CEL table is empty", "Enable CEL Reporting", "cel show status")
	})
	t.Run("NoLinkedIDEnd", func(t *testing.T) {
		db := testdb.New(t)
		x, _ := pollertest.Calls(t)
		for i := range x {
			x[i].EventTime = clock.Now().UTC()
		}
		db.Insert(t, x[:len(x)-1]...)
		findings, _ := checkup(db).Run(t.Context())
		wantFinding(t, findings, health.Fail, "no LINKEDID_END", "events=ALL", "cel_general_custom.conf", "module reload cel")
	})
	t.Run("ZoneAhead", func(t *testing.T) {
		// The PBX writes Tokyo wall-clock time, mysql.timezone says UTC: rows look 9h ahead.
		db := testdb.New(t)
		tokyo, _ := time.LoadLocation("Asia/Tokyo")
		nowCall(t, db, tokyo)
		findings, _ := checkup(db).Run(t.Context())
		wantFinding(t, findings, health.Fail, `mysql.timezone "UTC" puts the newest CEL row 9h`, "in the future", "set mysql.timezone")
	})
	// inTokyo is the checkup with mysql.timezone Asia/Tokyo and the server's NOW() in zone.
	inTokyo := func(t *testing.T, db *testdb.DB, zone string) freepbx.Checkup {
		cfg, err := mysql.ParseDSN(db.ReaderDSN)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Params = map[string]string{"time_zone": "'" + zone + "'"}
		tokyo, _ := time.LoadLocation("Asia/Tokyo")
		return freepbx.Checkup{DSN: cfg.FormatDSN(), Table: "cel", Zone: "Asia/Tokyo", Loc: tokyo}
	}
	t.Run("ZoneBehind", func(t *testing.T) {
		// The PBX and its database run in UTC, mysql.timezone says Tokyo: rows and the
		// server's clock both look 9h old.
		db := testdb.New(t)
		nowCall(t, db, time.UTC)
		findings, _ := inTokyo(t, db, "+00:00").Run(t.Context())
		wantFinding(t, findings, health.Fail, `mysql.timezone "Asia/Tokyo"`, "database server's clock", "-9h", "set mysql.timezone")
	})
	t.Run("RowsInUTCServerLocal", func(t *testing.T) {
		// The PBX writes eventtime in UTC (CDRUSEGMT), its database server runs in Tokyo time
		// and so does mysql.timezone: the server's clock fits, the rows look 9h old. That
		// loses calls: a failure that names the zone to write.
		db := testdb.New(t)
		nowCall(t, db, time.UTC)
		findings, _ := inTokyo(t, db, "+09:00").Run(t.Context())
		wantFinding(t, findings, health.Fail, `mysql.timezone "Asia/Tokyo"`, "9h", `write mysql.timezone = "UTC"`)
	})
	t.Run("FreePBXTables", func(t *testing.T) {
		// One table not granted, a table with passwords granted: neither fails check.
		db := testdb.New(t)
		nowCall(t, db, time.UTC)
		k := checkup(db)
		k.Schema = db.FreePBX(t, func(g string) bool { return !strings.Contains(g, ".ringgroups ") })
		db.GrantAlso(t, k.Schema, "sip")
		findings, _ := k.Run(t.Context())
		if n := failures(findings); n != 0 {
			t.Errorf("%d failures: the tables are optional:\n%s", n, lines(findings))
		}
		wantFinding(t, findings, health.Pass, "FreePBX "+k.Schema+".users readable")
		wantFinding(t, findings, health.Fail, "FreePBX "+k.Schema+".ringgroups not readable",
			"GRANT SELECT ON `"+k.Schema+"`.ringgroups TO '"+db.User+"'@'%';")
		wantFinding(t, findings, health.Warn, "can read FreePBX tables that hold passwords: sip")
		if strings.Contains(lines(findings), "FAKE-SECRET") {
			t.Errorf("a secret leaked into check's findings")
		}
	})
	t.Run("FreePBXNotRead", func(t *testing.T) {
		db := testdb.New(t)
		nowCall(t, db, time.UTC)
		findings, _ := checkup(db).Run(t.Context())
		wantFinding(t, findings, health.Pass, "FreePBX configuration: not read")
	})
}
