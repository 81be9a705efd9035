package main

import (
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/gofrs/flock"

	"github.com/celbridge/celbridge/crm"
	"github.com/celbridge/celbridge/freepbx"
	"github.com/celbridge/celbridge/internal/clock"
	"github.com/celbridge/celbridge/poller"
	"github.com/celbridge/celbridge/store"
)

// checkTimeout bounds each check's network work, so a dead host cannot hang check.
const checkTimeout = 5 * time.Second

// Outcomes of one check. A warning does not fail check.
const (
	checkPass = "✓"
	checkWarn = "!"
	checkFail = "✗"
)

// checker runs the checks of `celbridge check` and prints one line per check.
type checker struct {
	cfg    Config
	out    io.Writer
	now    func() time.Time
	failed int
	// loginRefused: the server refused mysql.dsn's user or password (a config error: exit 2).
	loginRefused bool

	conn   *sql.DB             // our own MySQL connection: login, grants, clock
	source *poller.MySQLSource // the daemon's reader: proves SELECT on the table
	newest time.Time           // eventtime of the newest CEL row, zero if unknown
}

// report prints one check's outcome; fix is what to do, printed after the text unless the
// check passed.
func (c *checker) report(outcome, text, fix string) {
	line := outcome + " " + text
	if outcome != checkPass && fix != "" {
		line += " → " + fix
	}
	fmt.Fprintln(c.out, line)
	if outcome == checkFail {
		c.failed++
	}
}

func cmdCheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("check", stderr)
	path := fs.String("config", defaultConfigPath, "configuration file (TOML; see config.example.toml)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	c := &checker{out: stdout, now: clock.Now}
	cfg, err := ReadConfigFile(*path)
	if err != nil {
		c.report(checkFail, "config "+*path+" is not valid:\n"+err.Error(), "")
		return usageError{errors.New("the config must be fixed before anything else can be checked")}
	}
	c.cfg = cfg
	c.report(checkPass, "config "+*path+" is valid", "")
	c.checkConfigMode(*path)
	defer c.close()
	if c.checkLogin(ctx) && c.checkSelect(ctx) {
		c.checkReadOnly(ctx)
		c.checkCEL(ctx)
		c.checkZone(ctx)
		c.checkFreePBX(ctx)
	}
	c.checkCRM(ctx)
	c.checkStore(ctx)
	c.checkAPI(ctx)
	if c.failed > 0 {
		err := fmt.Errorf("%d %s failed; fix %s and run check again", c.failed, plural(c.failed, "check", "checks"), plural(c.failed, "it", "them"))
		if c.loginRefused { // exit 2, as run: the config holds the wrong user or password
			return usageError{err}
		}
		return err
	}
	return nil
}

func (c *checker) close() {
	if c.source != nil {
		c.source.Close()
	}
	if c.conn != nil {
		c.conn.Close()
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

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
		c.report(checkFail, "mysql.dsn does not parse", "write it like \"celbridge:secret@tcp(127.0.0.1:3306)/asteriskcdrdb\"")
		return false
	}
	where := "MySQL at " + cfg.Addr
	if cfg.Net == "unix" {
		where = "MySQL at unix socket " + cfg.Addr
	}
	cfg.Timeout, cfg.ReadTimeout, cfg.ParseTime = checkTimeout, checkTimeout, false
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		c.report(checkFail, where+": "+err.Error(), "check the parameters in mysql.dsn")
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
		c.report(checkFail, where+": login failed: "+err.Error(), loginFix(err, cfg.User, cmp.Or(db, "asteriskcdrdb")+"."+table))
		return false
	}
	c.report(checkPass, fmt.Sprintf("%s: logged in as %s (account %s)", where, login, freepbx.QuoteAccount(account)), "")
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
const socketHint = poller.SocketHint

// checkSelect opens the table the way the daemon does: SELECT on it and FreePBX's columns.
func (c *checker) checkSelect(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	db, table := c.grantTarget()
	src, err := poller.OpenMySQL(ctx, c.cfg.MySQL.DSN, c.cfg.MySQL.Table, c.cfg.Location())
	if err != nil {
		c.report(checkFail, "SELECT on "+db+"."+table+": "+err.Error(), "")
		return false
	}
	c.source = src
	c.report(checkPass, "SELECT on "+db+"."+table+" is granted and the table has FreePBX's CEL columns", "")
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
		c.report(checkWarn, "could not read the account's grants: "+err.Error(), "make sure the account has only GRANT SELECT on the cel table")
		return
	}
	defer rows.Close()
	db, table := c.grantTarget()
	var found []string
	for rows.Next() {
		var g string
		if err := rows.Scan(&g); err != nil {
			c.report(checkWarn, "could not read the account's grants: "+err.Error(), "")
			return
		}
		if w := grantWrites(g, db, table); w != "" {
			found = append(found, w)
		}
	}
	if err := rows.Err(); err != nil {
		c.report(checkWarn, "could not read the account's grants: "+err.Error(), "")
		return
	}
	if len(found) == 0 {
		c.report(checkPass, "the MySQL account cannot write "+db+"."+table+" (good: celbridge only reads)", "")
		return
	}
	c.report(checkWarn, "the MySQL account can write "+db+"."+table+": "+strings.Join(found, "; "),
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
		c.report(checkFail, "read the newest CEL row: "+err.Error(), "")
		return
	case id == 0:
		c.report(checkFail, "the CEL table is empty: the PBX writes no CEL", enableCEL)
		return
	}
	c.newest = at
	age := c.now().Sub(at)
	text := fmt.Sprintf("CEL is being written: newest row id %d at %s (%s ago)", id, at.Format(time.DateTime), roundAge(age))
	if age > celStale {
		c.report(checkWarn, fmt.Sprintf("no new CEL row for %s: newest row id %d at %s", roundAge(age), id, at.Format(time.DateTime)),
			"fine if there were no calls; otherwise "+enableCEL)
	} else {
		c.report(checkPass, text, "")
	}
	c.checkLinkedIDEnd(ctx)
}

func (c *checker) checkLinkedIDEnd(ctx context.Context) {
	var n, ends, starts int
	q := fmt.Sprintf(celTypes, c.quotedTable(), celRecent)
	if err := c.conn.QueryRowContext(ctx, q).Scan(&n, &ends, &starts); err != nil {
		c.report(checkFail, "count event types of the newest CEL rows: "+err.Error(), "")
		return
	}
	switch {
	case ends > 0:
		c.report(checkPass, fmt.Sprintf("CEL includes LINKEDID_END (%d among the newest %d rows)", ends, n), "")
	case starts > 1:
		c.report(checkFail, fmt.Sprintf("no LINKEDID_END among the newest %d CEL rows (%d CHAN_START): CEL does not log all events", n, starts),
			"set events=ALL: FreePBX: add it to /etc/asterisk/cel_general_custom.conf; plain Asterisk: [general] of cel.conf; then asterisk -rx 'module reload cel'")
	default:
		c.report(checkWarn, fmt.Sprintf("no LINKEDID_END among the newest %d CEL rows yet", n), "make a test call and run check again")
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
		c.report(checkFail, fmt.Sprintf("eventtime read in mysql.timezone %q puts the newest CEL row %s in the future", zone, roundAge(rowOff)), fix)
	case rowHours != 0 && rowHours == srvHours:
		c.report(checkFail, fmt.Sprintf("read in mysql.timezone %q, the newest CEL row and the database server's clock (zone %s) are both %s off this host's clock", zone, srvZone, signed(rowOff)), fix)
	case rowHours != 0 && -rowOff < 15*time.Hour && nearWholeHours(rowOff):
		// Rows that are a whole number of hours old to within minutes: the zone, not a
		// quiet line (a wrong zone loses calls: gaps and call ages go by eventtime).
		c.report(checkFail, fmt.Sprintf("read in mysql.timezone %q, the newest CEL row is %s old, a whole number of hours: eventtime is not written in that zone", zone, roundAge(-rowOff)),
			c.zoneFix(srvZone, fix)+"; if there simply was no call since, make a test call and run check again")
	case rowHours != 0 && -rowOff < 15*time.Hour:
		c.report(checkWarn, fmt.Sprintf("the newest CEL row is %s old, a whole number of hours: mysql.timezone %q may be wrong", roundAge(-rowOff), zone), fix+"; ignore this if there simply was no call since")
	case rowOff > -30*time.Minute:
		c.report(checkPass, fmt.Sprintf("eventtime read in mysql.timezone %q fits this host's clock (newest row %s ago)", zone, roundAge(-rowOff)), "")
	case srvHours != 0:
		c.report(checkWarn, fmt.Sprintf("the database server's clock read in mysql.timezone %q is %s off this host's (server zone %s)", zone, signed(srvOff), srvZone), fix+"; fine if eventtime is written in UTC on purpose")
	default:
		c.report(checkPass, fmt.Sprintf("eventtime zone: mysql.timezone %q matches the database server's clock", zone), "")
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
		return "-" + roundAge(-d)
	}
	return "+" + roundAge(d)
}

// roundAge renders an age for people: 3s, 4m10s, 2h, 2h5m, 3d4h.
func roundAge(d time.Duration) string {
	switch {
	case d < time.Hour:
		return d.Round(time.Second).String()
	case d < 48*time.Hour:
		d = d.Round(time.Minute)
		if m := (d % time.Hour) / time.Minute; m != 0 {
			return fmt.Sprintf("%dh%dm", d/time.Hour, m)
		}
		return fmt.Sprintf("%dh", d/time.Hour)
	default:
		days := d / (24 * time.Hour)
		return fmt.Sprintf("%dd%dh", days, (d-days*24*time.Hour)/time.Hour)
	}
}

// checkCRM resolves the CRM's host, connects and, for https, completes a TLS handshake. It
// sends no request: a test call would show up in the clinic's CRM.
func (c *checker) checkCRM(ctx context.Context) {
	client := &crm.Client{URL: c.cfg.CRM.URL}
	if err := client.Validate(); err != nil {
		c.report(checkFail, err.Error(), "")
		return
	}
	u, _ := url.Parse(c.cfg.CRM.URL)
	shown := crm.RedactURL(u)
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	if proxy, _ := http.ProxyFromEnvironment(&http.Request{URL: u}); proxy != nil {
		c.checkProxy(ctx, shown, proxy)
		return
	}
	if _, err := net.DefaultResolver.LookupHost(ctx, host); err != nil {
		c.report(checkFail, "CRM "+shown+": cannot resolve "+host+": "+err.Error(), "check the host name in crm.url and this host's DNS (/etc/resolv.conf)")
		return
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(host, port))
	if err != nil {
		c.report(checkFail, "CRM "+shown+": cannot connect: "+err.Error(), "check the port in crm.url and that a firewall lets this host reach it")
		return
	}
	defer conn.Close()
	if u.Scheme == "https" {
		tc := tls.Client(conn, &tls.Config{ServerName: host})
		if err := tc.HandshakeContext(ctx); err != nil {
			c.report(checkFail, "CRM "+shown+": TLS handshake failed: "+err.Error(), tlsFix(err, host))
			return
		}
		c.report(checkPass, fmt.Sprintf("CRM %s is reachable (TLS %s, certificate valid for %s; no request sent)", shown, tls.VersionName(tc.ConnectionState().Version), host), "")
		return
	}
	c.report(checkPass, "CRM "+shown+" is reachable (TCP; no request sent)", "")
}

// checkProxy connects to the proxy that HTTPS_PROXY/HTTP_PROXY name for the CRM, as the
// daemon's requests go through it.
func (c *checker) checkProxy(ctx context.Context, shown string, proxy *url.URL) {
	port := proxy.Port()
	if port == "" {
		port = "80"
		if proxy.Scheme == "https" {
			port = "443"
		}
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(proxy.Hostname(), port))
	if err != nil {
		c.report(checkFail, "CRM "+shown+": cannot connect to the proxy "+crm.RedactURL(proxy)+": "+err.Error(), "check HTTPS_PROXY/HTTP_PROXY/NO_PROXY in celbridge's environment")
		return
	}
	conn.Close()
	c.report(checkPass, "CRM "+shown+": the proxy "+crm.RedactURL(proxy)+" is reachable (the CRM behind it is not checked; no request sent)", "")
}

// tlsFix says what to do about a failed TLS handshake.
func tlsFix(err error, host string) string {
	var unknown x509.UnknownAuthorityError
	var invalid x509.HostnameError
	var expired x509.CertificateInvalidError
	switch {
	case errors.As(err, &unknown):
		return "this host does not trust the CRM's certificate: have the CRM use a certificate from a public CA, or install its CA on this host (copy it to /usr/local/share/ca-certificates/ and run update-ca-certificates)"
	case errors.As(err, &invalid):
		return "the CRM's certificate is not for " + host + ": use the host name the certificate names in crm.url, or fix the certificate"
	case errors.As(err, &expired):
		return "the CRM's certificate is expired or not yet valid: renew it on the CRM, and check this host's clock (timedatectl)"
	}
	return "does the CRM speak https on that port? Check the scheme and port in crm.url"
}

// checkStore checks that the state file can be opened and migrated, or that a running
// daemon holds it, and runs SQLite's full integrity check on it. A missing file is not
// created (check may run as root, and a root-owned state file would stop the daemon): its
// directory is tested for writing instead.
func (c *checker) checkStore(ctx context.Context) {
	path := c.cfg.Store.Path
	if busy, err := storeInUse(path); err != nil {
		c.report(checkFail, "store "+path+": "+err.Error(), "check store.path and the directory's owner")
		return
	} else if busy {
		c.checkStoreReadable(ctx, path)
		return
	}
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		c.checkStoreDir(filepath.Dir(path))
		return
	}
	db, err := store.Open(ctx, path)
	if err == nil {
		err = db.Verify(ctx)
		db.Close()
	}
	switch {
	case errors.Is(err, store.ErrDamaged):
		c.report(checkFail, err.Error(), "") // the message ends with what to do
	case err != nil:
		c.report(checkFail, err.Error(), "check store.path and that the file and its directory belong to the user celbridge runs as")
	default:
		c.report(checkPass, "store "+path+" is writable and up to date, and passes SQLite's integrity check", "")
	}
}

// storeInUse reports whether a running celbridge holds the store's lock, without creating
// the lock file.
func storeInUse(path string) (bool, error) {
	lock := flock.New(path+".lock", flock.SetFlag(os.O_RDONLY))
	ok, err := lock.TryRLock()
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if ok {
		lock.Unlock()
	}
	lock.Close()
	return !ok, nil
}

func (c *checker) checkStoreReadable(ctx context.Context, path string) {
	db, err := store.OpenReadOnly(ctx, path)
	if err == nil {
		if _, err = db.Stats(ctx, c.now()); err == nil {
			err = db.Verify(ctx)
		}
		db.Close()
	}
	switch {
	case errors.Is(err, store.ErrDamaged):
		c.report(checkFail, "store "+path+" is in use by a running celbridge: "+err.Error(), "")
	case err != nil:
		c.report(checkFail, "store "+path+" is in use by a running celbridge but cannot be read: "+err.Error(), "check the file's owner and permissions")
	default:
		c.report(checkPass, "store "+path+" is in use by a running celbridge (readable; passes SQLite's integrity check)", "")
	}
}

func (c *checker) checkStoreDir(dir string) {
	probe := dir
	for { // the daemon creates missing directories: test the nearest existing one
		if _, err := os.Stat(probe); err == nil || filepath.Dir(probe) == probe {
			break
		}
		probe = filepath.Dir(probe)
	}
	f, err := os.CreateTemp(probe, ".celbridge-check-*")
	if err != nil {
		c.report(checkFail, "store directory "+dir+" cannot be created or written: "+err.Error(),
			"create it for the user celbridge runs as: install -d -o celbridge -g celbridge -m 0750 "+dir+" (the systemd unit's StateDirectory does this)")
		return
	}
	f.Close()
	os.Remove(f.Name())
	c.report(checkPass, "store "+c.cfg.Store.Path+" does not exist yet and can be created (the daemon creates it on first start)", "")
}
