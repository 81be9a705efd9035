package testdb

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
)

// FreePBXGrants is the read-only grant of ../shared/testdata/freepbx/asterisk-config.md, word
// for word but for the database and user (%[1]s, %[2]s): the tables celbridge may read, with
// column lists where a table holds a password.
var FreePBXGrants = []string{
	"GRANT SELECT (extension, name, voicemail, outboundcid) ON %[1]s.users TO %[2]s",
	"GRANT SELECT ON %[1]s.devices TO %[2]s",
	"GRANT SELECT ON %[1]s.incoming TO %[2]s",
	"GRANT SELECT ON %[1]s.trunks TO %[2]s",
	"GRANT SELECT ON %[1]s.trunk_dialpatterns TO %[2]s",
	"GRANT SELECT (route_id, name, outcid, outcid_mode, emergency_route, intracompany_route) ON %[1]s.outbound_routes TO %[2]s",
	"GRANT SELECT ON %[1]s.outbound_route_patterns TO %[2]s",
	"GRANT SELECT ON %[1]s.outbound_route_sequence TO %[2]s",
	"GRANT SELECT ON %[1]s.outbound_route_trunks TO %[2]s",
	"GRANT SELECT ON %[1]s.ringgroups TO %[2]s",
	"GRANT SELECT (extension, descr, grppre, dest) ON %[1]s.queues_config TO %[2]s",
	"GRANT SELECT ON %[1]s.queues_details TO %[2]s",
	"GRANT SELECT ON %[1]s.findmefollow TO %[2]s",
	"GRANT SELECT ON %[1]s.parkplus TO %[2]s",
}

// FreePBX creates a second database next to db's, holding FreePBX 17's configuration tables
// (testdata/freepbx/asterisk-config-schema.sql) with the sample clinic of both shared captures
// (asterisk-config-sample.sql: extensions 801-805, ring group 600, queue 700, follow-me of 801
// to 0961112233, outbound routes 0XXXXXXXXX and 9|0XXXXXXXXX, trunk kyivstar). db's reader
// user gets the grants of FreePBXGrants for which keep returns true (nil: all of them), and
// nothing else. The database is dropped when the test ends; FreePBX returns its name.
func (db *DB) FreePBX(t testing.TB, keep func(grant string) bool) string {
	t.Helper()
	root := server(t)
	name := "cbf_" + strings.TrimPrefix(db.User, "cbr_")
	ctx := context.Background()
	if _, err := root.db.ExecContext(ctx, "CREATE DATABASE "+quote(name)); err != nil {
		t.Fatalf("testdb: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := root.db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+quote(name)); err != nil {
			t.Errorf("testdb: drop database %s: %v", name, err)
		}
	})
	admin := root.cfg.Clone()
	admin.DBName = name
	admin.MultiStatements = true
	conn, err := sqlx.Open("mysql", admin.FormatDSN())
	if err != nil {
		t.Fatalf("testdb: open %s as root: %v", name, err)
	}
	defer conn.Close()
	for _, f := range []string{"asterisk-config-schema.sql", "asterisk-config-sample.sql"} {
		b, err := os.ReadFile(filepath.Join(ModuleRoot(t), "testdata", "freepbx", f))
		if err != nil {
			t.Fatalf("testdb: %v", err)
		}
		if _, err := conn.ExecContext(ctx, clientOnly.ReplaceAllString(string(b), "")); err != nil {
			t.Fatalf("testdb: load %s into %s: %v", f, name, err)
		}
	}
	account := fmt.Sprintf("'%s'@'%%'", db.User)
	for _, g := range FreePBXGrants {
		if keep != nil && !keep(g) {
			continue
		}
		if _, err := conn.ExecContext(ctx, fmt.Sprintf(g, quote(name), account)); err != nil {
			t.Fatalf("testdb: %s: %v", fmt.Sprintf(g, name, account), err)
		}
	}
	return name
}

// GrantAlso gives db's reader SELECT on one more table of database schema (a test of what
// celbridge says about a grant too wide).
func (db *DB) GrantAlso(t testing.TB, schema, table string) {
	t.Helper()
	db.Exec(t, fmt.Sprintf("GRANT SELECT ON %s.%s TO '%s'@'%%'", quote(schema), quote(table), db.User))
}
