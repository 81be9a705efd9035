// Package testdb gives tests a throwaway MariaDB database holding FreePBX's cel table and a
// SELECT-only user, the same privileges celbridge gets on a real PBX.
//
// The server is the one scripts/test-mariadb.sh starts; it exports TEST_MARIADB_DSN (root over
// a unix socket). Each New creates its own database and user with random names, so tests of
// several packages can run in parallel against one server, and drops both in t.Cleanup.
package testdb

import (
	"context"
	"crypto/rand"
	"database/sql"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/celbridge/celbridge/internal/celschema"
	"github.com/go-sql-driver/mysql"
	"github.com/jmoiron/sqlx"
)

// EnvDSN names the environment variable holding the root DSN of the test server.
const EnvDSN = "TEST_MARIADB_DSN"

// DB is one test's database on the test server.
type DB struct {
	// Admin is connected as root to this database (multiStatements on), for setting up rows,
	// ALTER TABLE and the like.
	Admin *sqlx.DB
	// Name is the database's name; the table is Name.cel.
	Name string
	// User and Password are the SELECT-only user's credentials; it is granted SELECT on
	// Name.cel and nothing else.
	User, Password string
	// ReaderDSN is a go-sql-driver DSN for User, with Name as its database.
	ReaderDSN string

	extraColumn string // "extra", or "eventextra" for the old-install variant
}

// Option changes how New creates the database.
type Option func(*options)

type options struct {
	oldSchema bool
}

// OldSchema makes New create the cel table of older installs: the JSON column is named
// eventextra instead of extra, and there are the extra columns peeraccount and userfield.
func OldSchema() Option { return func(o *options) { o.oldSchema = true } }

// New creates a fresh database with FreePBX's cel table and a SELECT-only user on it, and drops
// both when the test ends. Without TEST_MARIADB_DSN it skips the test, or fails it when CI is
// set, since no test may be skipped in CI.
func New(t testing.TB, opts ...Option) *DB {
	t.Helper()
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	root := server(t)
	ctx := context.Background()

	suffix := randomHex(t, 6)
	db := &DB{
		Name:        "cbt_" + suffix + "_" + safeName(t.Name()),
		User:        "cbr_" + suffix,
		Password:    randomHex(t, 12),
		extraColumn: "extra",
	}
	if _, err := root.db.ExecContext(ctx, "CREATE DATABASE "+quote(db.Name)); err != nil {
		t.Fatalf("testdb: create database %s: %v", db.Name, err)
	}
	t.Cleanup(func() { db.drop(t, root) })

	admin := root.cfg.Clone()
	admin.DBName = db.Name
	admin.MultiStatements = true
	var err error
	if db.Admin, err = sqlx.Open("mysql", admin.FormatDSN()); err != nil {
		t.Fatalf("testdb: open %s as root: %v", db.Name, err)
	}
	db.Admin.SetMaxOpenConns(4)

	schema := celschema.DDL
	if o.oldSchema {
		db.extraColumn = "eventextra"
		schema = oldSchema(schema)
	}
	db.Exec(t, schema)

	// '%' also matches connections over the unix socket (no anonymous users exist).
	account := fmt.Sprintf("'%s'@'%%'", db.User)
	db.Exec(t, fmt.Sprintf("CREATE USER %s IDENTIFIED BY '%s'", account, db.Password))
	db.Exec(t, fmt.Sprintf("GRANT SELECT ON %s.`cel` TO %s", quote(db.Name), account))

	reader := root.cfg.Clone()
	reader.User, reader.Passwd, reader.DBName = db.User, db.Password, db.Name
	reader.MultiStatements, reader.ParseTime = false, false
	db.ReaderDSN = reader.FormatDSN()
	return db
}

// oldSchema turns FreePBX's DDL into the old-install variant (eventextra, peeraccount,
// userfield).
func oldSchema(ddl string) string {
	ddl = strings.Replace(ddl, "  `extra` varchar(512) NOT NULL,",
		"  `eventextra` varchar(512) NOT NULL,\n  `peeraccount` varchar(80) NOT NULL DEFAULT '',\n  `userfield` varchar(255) NOT NULL DEFAULT '',", 1)
	if !strings.Contains(ddl, "`eventextra`") {
		panic("testdb: cel-schema.sql changed; cannot derive the eventextra variant")
	}
	return ddl
}

// drop closes Admin and removes the database and the user. It runs in t.Cleanup, after the
// test's context is gone, so it uses its own.
func (db *DB) drop(t testing.TB, root *rootConn) {
	if db.Admin != nil {
		db.Admin.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := root.db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+quote(db.Name)); err != nil {
		t.Errorf("testdb: drop database %s: %v", db.Name, err)
	}
	if _, err := root.db.ExecContext(ctx, fmt.Sprintf("DROP USER IF EXISTS '%s'@'%%'", db.User)); err != nil {
		t.Errorf("testdb: drop user %s: %v", db.User, err)
	}
}

// Exec runs query (one or more statements) as root on the test database and fails the test
// on error.
func (db *DB) Exec(t testing.TB, query string, args ...any) sql.Result {
	t.Helper()
	res, err := db.Admin.ExecContext(context.Background(), query, args...)
	if err != nil {
		t.Fatalf("testdb: exec %.200q: %v", query, err)
	}
	return res
}

// LoadSQL runs a SQL file, such as a mysqldump of cel, as root on the test database. A
// relative path is taken from the module root (the directory holding go.mod), so tests of
// every package name fixtures alike: LoadSQL(t, "testdata/freepbx-cel/cel.sql"). Lines that
// only the mariadb command-line client understands (the dump's sandbox-mode marker) are
// dropped.
func (db *DB) LoadSQL(t testing.TB, path string) {
	t.Helper()
	if !filepath.IsAbs(path) {
		path = filepath.Join(ModuleRoot(t), path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	db.Exec(t, clientOnly.ReplaceAllString(string(b), ""))
}

// clientOnly matches mariadb-dump's "/*M!999999\- enable the sandbox mode */" line: the
// server would run "\-" as SQL.
var clientOnly = regexp.MustCompile(`(?m)^/\*M!999999\\-[^\n]*\*/[ \t]*$`)

// ModuleRoot returns the directory holding go.mod, found from the working directory (a test's
// package directory) upwards.
func ModuleRoot(t testing.TB) string {
	t.Helper()
	dir, err := FindModuleRoot()
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	return dir
}

// FindModuleRoot is ModuleRoot for code without a testing.TB (a TestMain).
func FindModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// rootConn is the process-wide root connection used to create and drop databases and users.
type rootConn struct {
	cfg *mysql.Config
	db  *sql.DB
}

var (
	rootOnce sync.Once
	root     *rootConn
	rootErr  error
)

// server returns the shared root connection, waiting up to 60s for the server on first use.
func server(t testing.TB) *rootConn {
	t.Helper()
	dsn := os.Getenv(EnvDSN)
	if dsn == "" {
		msg := EnvDSN + " is unset: this test needs MariaDB; run scripts/test-mariadb.sh"
		if ci := os.Getenv("CI"); ci != "" && ci != "false" && ci != "0" {
			t.Fatal(msg + " (CI is set, so no test may skip)")
		}
		t.Skip(msg)
	}
	rootOnce.Do(func() { root, rootErr = connect(dsn) })
	if rootErr != nil {
		t.Fatalf("testdb: %v", rootErr)
	}
	return root
}

func connect(dsn string) (*rootConn, error) {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", EnvDSN, err)
	}
	cfg.DBName = ""
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", EnvDSN, err)
	}
	db := sql.OpenDB(conn)
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = db.PingContext(ctx)
		cancel()
		if err == nil {
			return &rootConn{cfg: cfg, db: db}, nil
		}
		if time.Now().After(deadline) {
			db.Close()
			return nil, fmt.Errorf("connect to test MariaDB at %s: %w (is scripts/test-mariadb.sh running it?)", cfg.Addr, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// quote quotes a MySQL identifier.
func quote(name string) string { return "`" + strings.ReplaceAll(name, "`", "``") + "`" }

// safeName turns a test name into a short database-name suffix, for finding a leftover
// database by its test.
func safeName(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case b.Len() > 0:
			b.WriteByte('_')
		}
		if b.Len() >= 40 {
			break
		}
	}
	return strings.TrimRight(b.String(), "_")
}

func randomHex(t testing.TB, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("testdb: %v", err)
	}
	return hex.EncodeToString(b)
}
