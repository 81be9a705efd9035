package freepbx

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/celbridge/celbridge/health"
	"github.com/celbridge/celbridge/internal/clock"
	"github.com/go-sql-driver/mysql"
)

// Checkup is what `celbridge check` asks of the PBX's database: can mysql.dsn log in and read
// the CEL table, can it write anything it should not, is CEL written (with LINKEDID_END), is
// eventtime read in the right zone, and which FreePBX configuration tables are readable. It
// only reads.
type Checkup struct {
	DSN    string         // mysql.dsn
	Table  string         // mysql.table: cel or asteriskcdrdb.cel
	Zone   string         // mysql.timezone as written, for the messages
	Loc    *time.Location // mysql.timezone
	Schema string         // freepbx.database; "" when the configuration is not read
	// Timeout bounds each probe's network work, so that a dead host cannot hang check.
	Timeout time.Duration
	Now     func() time.Time
}

// checkup is one run of a Checkup.
type checkup struct {
	Checkup
	findings     []health.Finding
	loginRefused bool

	conn   *sql.DB   // our own connection: login, grants, clock
	source *CEL      // the daemon's reader: proves SELECT on the table
	newest time.Time // eventtime of the newest CEL row, zero if unknown
}

// Run runs the probes in order, each only when the ones before it let it, and returns their
// findings. loginRefused says the server refused mysql.dsn's user or password: a
// configuration error (check exits 2 for it, as run does).
func (k Checkup) Run(ctx context.Context) (findings []health.Finding, loginRefused bool) {
	c := &checkup{Checkup: k}
	if c.Now == nil {
		c.Now = clock.Now
	}
	if c.Loc == nil {
		c.Loc = time.Local
	}
	if c.Timeout <= 0 {
		c.Timeout = 5 * time.Second
	}
	defer c.close()
	if c.checkLogin(ctx) && c.checkSelect(ctx) {
		c.checkReadOnly(ctx)
		c.checkCEL(ctx)
		c.checkZone(ctx)
		c.checkFreePBX(ctx)
	}
	return c.findings, c.loginRefused
}

func (c *checkup) close() {
	if c.source != nil {
		c.source.Close()
	}
	if c.conn != nil {
		c.conn.Close()
	}
}

func (c *checkup) report(outcome health.Outcome, text, fix string) {
	c.findings = append(c.findings, health.Finding{Outcome: outcome, Text: text, Fix: fix})
}

func (c *checkup) now() time.Time { return c.Now() }

// grantTarget is the table as a GRANT names it: asteriskcdrdb.cel.
func (c *checkup) grantTarget() (db, table string) {
	cfg, err := mysql.ParseDSN(c.DSN)
	if err != nil {
		cfg = mysql.NewConfig()
	}
	db, table, err = celTable(c.Table, cfg)
	if err != nil {
		return "", c.Table
	}
	return db, table
}

// checkLogin connects with mysql.dsn and names the account the server logged us in as.
func (c *checkup) checkLogin(ctx context.Context) bool {
	cfg, err := mysql.ParseDSN(c.DSN)
	if err != nil { // Validate already parsed it
		c.report(health.Fail, "mysql.dsn does not parse", "write it like \"celbridge:secret@tcp(127.0.0.1:3306)/asteriskcdrdb\"")
		return false
	}
	where := "MySQL at " + cfg.Addr
	if cfg.Net == "unix" {
		where = "MySQL at unix socket " + cfg.Addr
	}
	cfg.Timeout, cfg.ReadTimeout = c.Timeout, c.Timeout
	if c.conn, err = connect(cfg, c.Loc); err != nil {
		c.report(health.Fail, where+": "+err.Error(), "check the parameters in mysql.dsn")
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	var account, login string
	err = c.conn.QueryRowContext(ctx, "SELECT CURRENT_USER(), USER()").Scan(&account, &login)
	if err != nil {
		db, table := c.grantTarget()
		c.loginRefused = LoginRefused(err)
		c.report(health.Fail, where+": login failed: "+err.Error(), loginFix(err, cfg.User, cmp.Or(db, "asteriskcdrdb")+"."+table))
		return false
	}
	c.report(health.Pass, fmt.Sprintf("%s: logged in as %s (account %s)", where, login, QuoteAccount(account)), "")
	return true
}

// loginFix says what to do about a failed connection or login; grantOn is db.table.
func loginFix(err error, user, grantOn string) string {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		switch me.Number {
		case erAccessDenied, erAccessDeniedNoPass:
			return fmt.Sprintf("check the user and password in mysql.dsn; if the account does not exist yet, as a MySQL admin: CREATE USER '%s'@'localhost' IDENTIFIED BY '…'; GRANT SELECT ON %s TO '%s'@'localhost'", user, grantOn, user)
		case erDBAccessDenied, erBadDB:
			return "check the database at the end of mysql.dsn (FreePBX keeps CEL in asteriskcdrdb) and that the user has GRANT SELECT ON " + grantOn
		}
		return "see the MySQL error above"
	}
	return "is MariaDB up and reachable from this host? Check the address in mysql.dsn (" + SocketHint + ") and the firewall"
}

// checkSelect opens the table the way the daemon does: SELECT on it and FreePBX's columns.
func (c *checkup) checkSelect(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	db, table := c.grantTarget()
	src, err := OpenCEL(ctx, c.DSN, c.Table, c.Loc)
	if err != nil {
		c.report(health.Fail, "SELECT on "+db+"."+table+": "+err.Error(), "")
		return false
	}
	c.source = src
	c.report(health.Pass, "SELECT on "+db+"."+table+" is granted and the table has FreePBX's CEL columns", "")
	return true
}

// checkReadOnly reads the account's grants (it writes nothing) and warns when the account
// could change the CEL table: celbridge needs only SELECT.
func (c *checkup) checkReadOnly(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	rows, err := c.conn.QueryContext(ctx, "SHOW GRANTS FOR CURRENT_USER()")
	if err != nil {
		c.report(health.Warn, "could not read the account's grants: "+err.Error(), "make sure the account has only GRANT SELECT on the cel table")
		return
	}
	defer rows.Close()
	db, table := c.grantTarget()
	var found []string
	for rows.Next() {
		var g string
		if err := rows.Scan(&g); err != nil {
			c.report(health.Warn, "could not read the account's grants: "+err.Error(), "")
			return
		}
		if w := grantWrites(g, db, table); w != "" {
			found = append(found, w)
		}
	}
	if err := rows.Err(); err != nil {
		c.report(health.Warn, "could not read the account's grants: "+err.Error(), "")
		return
	}
	if len(found) == 0 {
		c.report(health.Pass, "the MySQL account cannot write "+db+"."+table+" (good: celbridge only reads)", "")
		return
	}
	c.report(health.Warn, "the MySQL account can write "+db+"."+table+": "+strings.Join(found, "; "),
		"celbridge needs only SELECT; as a MySQL admin REVOKE the rest, e.g. REVOKE ALL PRIVILEGES, GRANT OPTION FROM <account>; GRANT SELECT ON "+db+"."+table+" TO <account>")
}

const (
	// celRecent is how many of the newest rows are looked at for LINKEDID_END: a primary-key
	// range, never a scan of the whole table.
	celRecent = 5000
	// celTypes counts event types among the newest rows.
	celTypes = `SELECT COUNT(*), COALESCE(SUM(eventtype = 'LINKEDID_END'), 0), COALESCE(SUM(eventtype = 'CHAN_START'), 0)
FROM (SELECT eventtype FROM %s ORDER BY id DESC LIMIT %d) AS recent`
	// celStale is when a CEL table without new rows is worth a warning.
	celStale = 24 * time.Hour
)

const enableCEL = "enable CEL: FreePBX Settings → Advanced Settings → \"Enable CEL Reporting\" = Yes, Submit, Apply Config; verify with: asterisk -rx 'cel show status'"

// checkCEL looks at the newest rows: is CEL written, and with LINKEDID_END?
func (c *checkup) checkCEL(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	id, at, err := c.source.Newest(ctx)
	switch {
	case err != nil:
		c.report(health.Fail, "read the newest CEL row: "+err.Error(), "")
		return
	case id == 0:
		c.report(health.Fail, "the CEL table is empty: the PBX writes no CEL", enableCEL)
		return
	}
	c.newest = at
	age := c.now().Sub(at)
	text := fmt.Sprintf("CEL is being written: newest row id %d at %s (%s ago)", id, at.Format(time.DateTime), health.Age(age))
	if age > celStale {
		c.report(health.Warn, fmt.Sprintf("no new CEL row for %s: newest row id %d at %s", health.Age(age), id, at.Format(time.DateTime)),
			"fine if there were no calls; otherwise "+enableCEL)
	} else {
		c.report(health.Pass, text, "")
	}
	c.checkLinkedIDEnd(ctx)
}

func (c *checkup) checkLinkedIDEnd(ctx context.Context) {
	var n, ends, starts int
	q := fmt.Sprintf(celTypes, c.source.table, celRecent)
	if err := c.conn.QueryRowContext(ctx, q).Scan(&n, &ends, &starts); err != nil {
		c.report(health.Fail, "count event types of the newest CEL rows: "+err.Error(), "")
		return
	}
	switch {
	case ends > 0:
		c.report(health.Pass, fmt.Sprintf("CEL includes LINKEDID_END (%d among the newest %d rows)", ends, n), "")
	case starts > 1:
		c.report(health.Fail, fmt.Sprintf("no LINKEDID_END among the newest %d CEL rows (%d CHAN_START): CEL does not log all events", n, starts),
			"set events=ALL: FreePBX: add it to /etc/asterisk/cel_general_custom.conf; plain Asterisk: [general] of cel.conf; then asterisk -rx 'module reload cel'")
	default:
		c.report(health.Warn, fmt.Sprintf("no LINKEDID_END among the newest %d CEL rows yet", n), "make a test call and run check again")
	}
}

// checkZone tests whether mysql.timezone is the zone eventtime is written in: read in that
// zone, the newest row must not lie in the future, and a whole-hour distance from now that
// the database server's clock shares points at the wrong zone.
func (c *checkup) checkZone(ctx context.Context) {
	zone := c.Zone
	fix := fmt.Sprintf("set mysql.timezone (now %q) to the zone the PBX writes eventtime in: its local zone (timedatectl on the PBX), or \"UTC\" when FreePBX's Advanced Setting \"Use GMT time for CDR\" (CDRUSEGMT) is on", zone)
	if c.newest.IsZero() {
		return
	}
	rowOff := c.newest.Sub(c.now())
	srvOff, srvZone, srvErr := c.serverClock(ctx)
	srvHours := 0.0
	if srvErr == nil {
		srvHours = wholeHours(srvOff)
	}
	rowHours := wholeHours(rowOff)
	switch {
	case rowOff > 2*time.Minute:
		c.report(health.Fail, fmt.Sprintf("eventtime read in mysql.timezone %q puts the newest CEL row %s in the future", zone, health.Age(rowOff)), fix)
	case rowHours != 0 && rowHours == srvHours:
		c.report(health.Fail, fmt.Sprintf("read in mysql.timezone %q, the newest CEL row and the database server's clock (zone %s) are both %s off this host's clock", zone, srvZone, signed(rowOff)), fix)
	case rowHours != 0 && -rowOff < 15*time.Hour && nearWholeHours(rowOff):
		// Rows that are a whole number of hours old to within minutes: the zone, not a
		// quiet line (a wrong zone loses calls: gaps and call ages go by eventtime).
		c.report(health.Fail, fmt.Sprintf("read in mysql.timezone %q, the newest CEL row is %s old, a whole number of hours: eventtime is not written in that zone", zone, health.Age(-rowOff)),
			c.zoneFix(srvZone, fix)+"; if there simply was no call since, make a test call and run check again")
	case rowHours != 0 && -rowOff < 15*time.Hour:
		c.report(health.Warn, fmt.Sprintf("the newest CEL row is %s old, a whole number of hours: mysql.timezone %q may be wrong", health.Age(-rowOff), zone), fix+"; ignore this if there simply was no call since")
	case rowOff > -30*time.Minute:
		c.report(health.Pass, fmt.Sprintf("eventtime read in mysql.timezone %q fits this host's clock (newest row %s ago)", zone, health.Age(-rowOff)), "")
	case srvHours != 0:
		c.report(health.Warn, fmt.Sprintf("the database server's clock read in mysql.timezone %q is %s off this host's (server zone %s)", zone, signed(srvOff), srvZone), fix+"; fine if eventtime is written in UTC on purpose")
	default:
		c.report(health.Pass, fmt.Sprintf("eventtime zone: mysql.timezone %q matches the database server's clock", zone), "")
	}
}

// nearWholeHours reports whether d is within 5 minutes of a whole, non-zero number of hours.
func nearWholeHours(d time.Duration) bool {
	h := d.Round(time.Hour)
	return h != 0 && (d-h).Abs() <= 5*time.Minute
}

// zoneFix names the zone in which the newest row's eventtime is now: the database server's,
// UTC or this host's, the first that fits within 5 minutes; else it returns fix.
func (c *checkup) zoneFix(srvZone, fix string) string {
	wall := c.newest
	for _, name := range []string{srvZone, "UTC", time.Local.String()} {
		loc, err := time.LoadLocation(name)
		if name == "" || err != nil {
			continue
		}
		t := time.Date(wall.Year(), wall.Month(), wall.Day(), wall.Hour(), wall.Minute(), wall.Second(), 0, loc)
		if (t.Sub(c.now())).Abs() <= 5*time.Minute {
			return fmt.Sprintf("write mysql.timezone = %q (eventtime read in that zone is current)", name)
		}
	}
	return fix
}

// serverClock returns how far the database server's NOW(), read in mysql.timezone, is from
// this host's clock, and the server's time zone.
func (c *checkup) serverClock(ctx context.Context) (time.Duration, string, error) {
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	var now, sysZone, zone string
	if err := c.conn.QueryRowContext(ctx, "SELECT NOW(), @@system_time_zone, @@time_zone").Scan(&now, &sysZone, &zone); err != nil {
		return 0, "", err
	}
	t, err := time.ParseInLocation(time.DateTime, now, c.Loc)
	if err != nil {
		return 0, "", err
	}
	if zone == "SYSTEM" {
		zone = sysZone
	}
	// A clockshift build (tests) moves every clock reading, the server's too.
	return t.Add(clock.Shift()).Sub(c.now()), zone, nil
}

// wholeHours returns d in hours when d is within two minutes of a nonzero whole number of
// hours (what a wrong zone adds to a row written just now), else 0.
func wholeHours(d time.Duration) float64 {
	h := math.Round(d.Hours())
	if h == 0 || math.Abs(d.Hours()-h)*60 > 2 {
		return 0
	}
	return h
}

func signed(d time.Duration) string {
	if d < 0 {
		return "-" + health.Age(-d)
	}
	return "+" + health.Age(d)
}

// checkFreePBX shows, for each FreePBX configuration table celbridge reads, whether the user
// can read it, with the GRANT that would let it; and warns when the user can read a table
// that holds passwords. The tables are optional: a missing one does not fail check.
func (c *checkup) checkFreePBX(ctx context.Context) {
	if c.Schema == "" {
		c.report(health.Pass, "FreePBX configuration: not read ([freepbx] read = false); ring groups and route prefixes come from celbridge.toml only", "")
		return
	}
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	schema := c.Schema
	st, err := Probe(ctx, c.conn, schema)
	if err != nil {
		c.report(health.Warn, "FreePBX configuration: could not check it: "+err.Error(), "")
		return
	}
	user := CurrentUser(ctx, c.conn)
	missing := 0
	for _, s := range st {
		if s.Err == nil {
			c.report(health.Pass, fmt.Sprintf("FreePBX %s.%s readable (%s)", schema, s.Table.Name, s.Table.Gives), "")
			continue
		}
		missing++
		// Not counted as a failure: without the table celbridge works as before.
		c.findings = append(c.findings, health.Finding{Outcome: health.Fail, Optional: true,
			Text: fmt.Sprintf("FreePBX %s.%s not readable, so no %s (%s)", schema, s.Table.Name, s.Table.Gives, s.Err),
			Fix:  s.Table.Grant(schema, user)})
	}
	if missing == len(st) {
		c.report(health.Warn, fmt.Sprintf("FreePBX configuration: no table of %s is readable: celbridge works from celbridge.toml only", schema),
			"run the GRANT lines above as root (FreePBX), or set [freepbx] read = false (plain Asterisk)")
	}
	if secrets := ReadableSecrets(ctx, c.conn, schema); len(secrets) > 0 {
		c.report(health.Warn, "the user can read FreePBX tables that hold passwords: "+strings.Join(secrets, ", ")+" (celbridge never reads them)",
			fmt.Sprintf("grant only the tables above: REVOKE the wider grant (SHOW GRANTS FOR %s) and run the GRANT lines", QuoteAccount(user)))
	}
}
