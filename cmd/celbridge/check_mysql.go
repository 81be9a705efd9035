package main

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strings"
	"time"

	"github.com/celbridge/celbridge/freepbx"
	"github.com/celbridge/celbridge/health"
	"github.com/celbridge/celbridge/internal/clock"
	"github.com/go-sql-driver/mysql"
)

// grantTarget is the table as a GRANT names it: asteriskcdrdb.cel.
func (c *checker) grantTarget() (db, table string) {
	table = c.cfg.MySQL.Table
	if d, t, ok := strings.Cut(table, "."); ok {
		return d, t
	}
	if cfg, err := mysql.ParseDSN(c.cfg.MySQL.DSN); err == nil {
		db = cfg.DBName
	}
	return db, table
}

// quotedTable is the table for a query: `asteriskcdrdb`.`cel`.
func (c *checker) quotedTable() string {
	db, table := c.grantTarget()
	q := func(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }
	if db == "" {
		return q(table)
	}
	return q(db) + "." + q(table)
}

// checkLogin connects with mysql.dsn and names the account the server logged us in as.
func (c *checker) checkLogin(ctx context.Context) bool {
	cfg, err := mysql.ParseDSN(c.cfg.MySQL.DSN)
	if err != nil { // Validate already parsed it
		c.report(health.Fail, "mysql.dsn does not parse", "write it like \"celbridge:secret@tcp(127.0.0.1:3306)/asteriskcdrdb\"")
		return false
	}
	where := "MySQL at " + cfg.Addr
	if cfg.Net == "unix" {
		where = "MySQL at unix socket " + cfg.Addr
	}
	cfg.Timeout, cfg.ReadTimeout, cfg.ParseTime = checkTimeout, checkTimeout, false
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		c.report(health.Fail, where+": "+err.Error(), "check the parameters in mysql.dsn")
		return false
	}
	c.conn = sql.OpenDB(conn)
	c.conn.SetMaxOpenConns(1)
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	var account, login string
	err = c.conn.QueryRowContext(ctx, "SELECT CURRENT_USER(), USER()").Scan(&account, &login)
	if err != nil {
		db, table := c.grantTarget()
		c.loginRefused = freepbx.LoginRefused(err)
		c.report(health.Fail, where+": login failed: "+err.Error(), loginFix(err, cfg.User, cmp.Or(db, "asteriskcdrdb")+"."+table))
		return false
	}
	c.report(health.Pass, fmt.Sprintf("%s: logged in as %s (account %s)", where, login, freepbx.QuoteAccount(account)), "")
	return true
}

// loginFix says what to do about a failed connection or login; grantOn is db.table.
func loginFix(err error, user, grantOn string) string {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		switch me.Number {
		case 1045, 1698:
			return fmt.Sprintf("check the user and password in mysql.dsn; if the account does not exist yet, as a MySQL admin: CREATE USER '%s'@'localhost' IDENTIFIED BY '…'; GRANT SELECT ON %s TO '%s'@'localhost'", user, grantOn, user)
		case 1044, 1049:
			return "check the database at the end of mysql.dsn (FreePBX keeps CEL in asteriskcdrdb) and that the user has GRANT SELECT ON " + grantOn
		}
		return "see the MySQL error above"
	}
	return "is MariaDB up and reachable from this host? Check the address in mysql.dsn (" + socketHint + ") and the firewall"
}

// socketHint is where FreePBX's MariaDB listens, as the README says.
const socketHint = freepbx.SocketHint

// checkSelect opens the table the way the daemon does: SELECT on it and FreePBX's columns.
func (c *checker) checkSelect(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	db, table := c.grantTarget()
	src, err := freepbx.OpenCEL(ctx, c.cfg.MySQL.DSN, c.cfg.MySQL.Table, c.cfg.Location())
	if err != nil {
		c.report(health.Fail, "SELECT on "+db+"."+table+": "+err.Error(), "")
		return false
	}
	c.source = src
	c.report(health.Pass, "SELECT on "+db+"."+table+" is granted and the table has FreePBX's CEL columns", "")
	return true
}

// writePrivs are the privileges that let an account change the CEL table or its rows.
var writePrivs = regexp.MustCompile(`\b(ALL PRIVILEGES|ALL|INSERT|UPDATE|DELETE|DROP|ALTER|TRIGGER)\b`)

// columnList is the column list of a column-level grant: SELECT (`id`, `eventtype`).
var columnList = regexp.MustCompile(`\([^)]*\)`)

// grantLine matches "GRANT <privileges> ON <db>.<table> TO …" of SHOW GRANTS.
var grantLine = regexp.MustCompile("^GRANT (.+?) ON (\\*|`(?:[^`]|``)*`)\\.(\\*|`(?:[^`]|``)*`) TO ")

// checkReadOnly reads the account's grants (it writes nothing) and warns when the account
// could change the CEL table: celbridge needs only SELECT.
func (c *checker) checkReadOnly(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
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

// grantWrites returns "INSERT, UPDATE ON `db`.*" when the SHOW GRANTS line g gives write
// privileges on db.table, or "".
func grantWrites(g, db, table string) string {
	m := grantLine.FindStringSubmatch(g)
	if m == nil {
		return ""
	}
	if !identMatches(m[2], db, true) || !identMatches(m[3], table, false) {
		return ""
	}
	privs := writePrivs.FindAllString(stripColumns(m[1]), -1)
	if len(privs) == 0 {
		return ""
	}
	return strings.Join(privs, ", ") + " ON " + m[2] + "." + m[3]
}

// stripColumns drops column lists: "SELECT (id), UPDATE (x)" keeps the privilege names.
func stripColumns(privs string) string {
	return columnList.ReplaceAllString(privs, "")
}

// identMatches reports whether a GRANT's db or table part (* or `name`) covers name. Database
// names in grants may hold LIKE wildcards (% and _, \ escaping them); table names may not.
func identMatches(part, name string, wildcards bool) bool {
	if part == "*" {
		return true
	}
	// grantLine matched `…` with doubled backticks inside: unquote exactly those.
	ident := strings.ReplaceAll(part[1:len(part)-1], "``", "`")
	if !wildcards {
		return strings.EqualFold(ident, name)
	}
	var re strings.Builder
	re.WriteString("(?is)^") // _ and % match a newline too, as LIKE does
	escaped := false
	for _, r := range ident { // by character: _ is one character, not one byte
		switch {
		case escaped:
			re.WriteString(regexp.QuoteMeta(string(r)))
			escaped = false
		case r == '\\':
			escaped = true
		case r == '%':
			re.WriteString(".*")
		case r == '_':
			re.WriteString(".")
		default:
			re.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	if escaped { // a trailing backslash stands for itself
		re.WriteString(regexp.QuoteMeta(`\`))
	}
	re.WriteString("$")
	return regexp.MustCompile(re.String()).MatchString(name)
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
func (c *checker) checkCEL(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
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

func (c *checker) checkLinkedIDEnd(ctx context.Context) {
	var n, ends, starts int
	q := fmt.Sprintf(celTypes, c.quotedTable(), celRecent)
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
func (c *checker) checkZone(ctx context.Context) {
	zone := c.cfg.MySQL.Timezone
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
func (c *checker) zoneFix(srvZone, fix string) string {
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
func (c *checker) serverClock(ctx context.Context) (time.Duration, string, error) {
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	var now, sysZone, zone string
	if err := c.conn.QueryRowContext(ctx, "SELECT NOW(), @@system_time_zone, @@time_zone").Scan(&now, &sysZone, &zone); err != nil {
		return 0, "", err
	}
	t, err := time.ParseInLocation(time.DateTime, now, c.cfg.Location())
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
