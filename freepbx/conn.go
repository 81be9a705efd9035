package freepbx

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
)

// Connection settings: the PBX's database must not feel celbridge. Two connections a pool are
// enough for one poller plus a status or backfill query; the daemon has two pools (the CEL
// reads and, when [freepbx] read is on, the configuration reads), so at most four. A backfill's
// streaming read opens one connection of its own for as long as it reads (wire.go).
const (
	dialTimeout     = 5 * time.Second
	ioTimeout       = 30 * time.Second
	maxOpenConns    = 2
	connMaxLifetime = 5 * time.Minute
	connMaxIdleTime = time.Minute
)

// connect builds a connection pool with the settings above, for the CEL reads, the
// configuration reads and check alike. eventtime is parsed by hand (ParseTime off) so that a
// NULL, zero or garbage value cannot fail a batch. Our only parameters are integers, so they
// are interpolated client-side: one round trip per query instead of prepare/execute/close.
func connect(cfg *mysql.Config, loc *time.Location) (*sql.DB, error) {
	cfg.ParseTime = false
	cfg.MultiStatements = false
	cfg.Loc = loc
	if cfg.Timeout == 0 {
		cfg.Timeout = dialTimeout
	}
	if cfg.ReadTimeout == 0 {
		cfg.ReadTimeout = ioTimeout
	}
	if cfg.WriteTimeout == 0 {
		cfg.WriteTimeout = ioTimeout
	}
	cfg.InterpolateParams = true
	conn, err := mysql.NewConnector(cfg)
	if err != nil { // a collation that forbids interpolation: use server-side statements
		cfg.InterpolateParams = false
		if conn, err = mysql.NewConnector(cfg); err != nil {
			return nil, err
		}
	}
	db := sql.OpenDB(conn)
	db.SetMaxOpenConns(maxOpenConns)
	db.SetMaxIdleConns(maxOpenConns)
	db.SetConnMaxLifetime(connMaxLifetime)
	db.SetConnMaxIdleTime(connMaxIdleTime)
	return db, nil
}

// CheckDSN reports whether dsn, a go-sql-driver DSN as mysql.dsn holds it, parses, and whether
// it holds a password.
func CheckDSN(dsn string) (hasPassword bool, err error) {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return false, err
	}
	return cfg.Passwd != "", nil
}

// Open connects to the server of a go-sql-driver DSN (the CEL DSN: same server, same user),
// with the pool settings of the CEL reads.
func Open(dsn string) (*sql.DB, error) {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, err
	}
	return connect(cfg, time.Local)
}

// SocketHint is where FreePBX's MariaDB listens, for the hint of a failed connection (the
// README's install section says the same).
const SocketHint = "FreePBX 17 on Debian: unix(/run/mysqld/mysqld.sock); FreePBX distro (SNG7): unix(/var/lib/mysql/mysql.sock); or tcp(127.0.0.1:3306)"

// MySQL error numbers that get an operator hint.
const (
	erDBAccessDenied     = 1044
	erAccessDenied       = 1045
	erNoDB               = 1046
	erBadDB              = 1049
	erBadField           = 1054
	erTableAccessDenied  = 1142
	erColumnAccessDenied = 1143
	erNoSuchTable        = 1146
	erAccessDeniedNoPass = 1698
)

// account matches 'user'@'host' in a MySQL error message.
var account = regexp.MustCompile(`'([^']*)'@'([^']*)'`)

// explain wraps err as "<what>: <err>" and, for the errors an operator can fix, adds what to
// do. It never includes the DSN or the password.
func (s *CEL) explain(err error, what string) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w", what, err)
	}
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		user, host := s.user, "%"
		if m := account.FindStringSubmatch(me.Message); m != nil {
			user, host = m[1], m[2]
		}
		grant := fmt.Sprintf("GRANT SELECT ON %s TO '%s'@'%s'", s.grantOn, user, host)
		switch me.Number {
		case erAccessDenied, erAccessDeniedNoPass:
			return fmt.Errorf("connect to MySQL at %s: %w (check the user and password in mysql.dsn; the user needs only %s)",
				s.addr, err, grant)
		case erTableAccessDenied, erColumnAccessDenied: // also what a missing table looks like
			return fmt.Errorf("%s: %w (check mysql.table; if it is right, the user lacks the grant: as a MySQL admin run %s)",
				what, err, grant)
		case erDBAccessDenied:
			return fmt.Errorf("%s: %w (check the database in mysql.dsn; if it is right, the user lacks the grant: as a MySQL admin run %s)",
				what, err, grant)
		case erNoSuchTable, erBadDB:
			return fmt.Errorf("%s: %w (check mysql.table and the database in mysql.dsn; FreePBX keeps CEL in asteriskcdrdb.cel)", what, err)
		case erNoDB:
			return fmt.Errorf("%s: %w (name the table as asteriskcdrdb.cel in mysql.table, or end mysql.dsn with /asteriskcdrdb)", what, err)
		}
		return fmt.Errorf("%s: %w", what, err)
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, mysql.ErrInvalidConn) {
		return fmt.Errorf("connect to MySQL at %s: %w (is the server up and reachable from this host? check the address in mysql.dsn: %s)", s.addr, err, SocketHint)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// Unreadable reports whether err means a table cannot be read by this user or does not exist
// here (no grant, no such table or column, no such database): the table is left out, the
// rest is used. Any other error (the server is down) fails the whole read.
func Unreadable(err error) bool {
	var me *mysql.MySQLError
	if !errors.As(err, &me) {
		return false
	}
	switch me.Number {
	case erDBAccessDenied, erBadDB,
		erBadField, // an older FreePBX
		erTableAccessDenied, erColumnAccessDenied, erNoSuchTable:
		return true
	}
	return false
}

// LoginRefused reports whether err is the server refusing the user or its password (1045,
// 1698): a configuration error, which retrying cannot fix, unlike a server that is down.
func LoginRefused(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && (me.Number == erAccessDenied || me.Number == erAccessDeniedNoPass)
}

// RedactDSN returns dsn with its password replaced by ***, for logs and messages. It splits
// the DSN as go-sql-driver does ([user[:password]@][net[(addr)]]/dbname[?params]), so it also
// redacts a password holding '@', ':' or '/'.
func RedactDSN(dsn string) string {
	end := strings.LastIndexByte(dsn, '/')
	if end < 0 {
		end = len(dsn)
	}
	at := strings.LastIndexByte(dsn[:end], '@')
	if at < 0 {
		return dsn
	}
	colon := strings.IndexByte(dsn[:at], ':')
	if colon < 0 {
		return dsn
	}
	return dsn[:colon+1] + "***" + dsn[at:]
}
