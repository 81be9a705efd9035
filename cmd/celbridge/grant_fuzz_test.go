package main

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// quoteIdent quotes a name as SHOW GRANTS does: in backticks, a backtick doubled.
func quoteIdent(name string) string {
	return "`" + strings.ReplaceAll(name, "`", "``") + "`"
}

// escapeLike escapes LIKE's wildcards and escape character in a database name, as a grant
// on exactly that database is written (GRANT … ON `asterisk\_cdrdb`.*).
func escapeLike(name string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(name)
}

// FuzzGrantWrites: a SHOW GRANTS line that gives INSERT and UPDATE on exactly db.table
// (quoted and escaped as the server shows it) is found, the same line is not taken for
// another database or table, a % grant covers every database, and no line makes it panic.
func FuzzGrantWrites(f *testing.F) {
	f.Add("asteriskcdrdb", "cel", "GRANT USAGE ON *.* TO `celbridge`@`localhost` IDENTIFIED BY PASSWORD '*14E6'")
	f.Add("asteriskcdrdb", "cel", "GRANT SELECT (`id`, `eventtype`), UPDATE (`extra`) ON `asteriskcdrdb`.`cel` TO `u`@`%`")
	f.Add("asterisk_cdrdb", "cel", "GRANT UPDATE ON `asterisk\\_cdrdb`.* TO `u`@`%`")
	f.Add("asterisk%db", "c`l", "GRANT ALL PRIVILEGES ON `asterisk%`.* TO `freepbxuser`@`localhost`")
	// testdata/fuzz/FuzzGrantWrites holds the inputs that failed before identMatches read the
	// name by character (бд_cdr: _ matched a byte) and unquoted only doubled backticks (a`).
	f.Fuzz(func(t *testing.T, db, table, line string) {
		grantWrites(line, db, table) // any line: no panic

		if db == "" || table == "" || !utf8.ValidString(db+table) {
			return // names the server would not have
		}
		exact := "GRANT SELECT, INSERT, UPDATE ON " + quoteIdent(escapeLike(db)) + "." + quoteIdent(table) + " TO `u`@`%`"
		want := "INSERT, UPDATE ON " + quoteIdent(escapeLike(db)) + "." + quoteIdent(table)
		if got := grantWrites(exact, db, table); got != want {
			t.Fatalf("grantWrites(%q, %q, %q) = %q, want %q", exact, db, table, got, want)
		}
		if got := grantWrites(exact, db+"x", table); got != "" {
			t.Errorf("grantWrites(%q) covers database %q: %q", exact, db+"x", got)
		}
		if got := grantWrites(exact, db, table+"x"); got != "" {
			t.Errorf("grantWrites(%q) covers table %q: %q", exact, table+"x", got)
		}
		all := "GRANT DELETE ON `%`.* TO `u`@`%`"
		if got := grantWrites(all, db, table); got != "DELETE ON `%`.*" {
			t.Errorf("grantWrites(%q, %q, %q) = %q, want the DELETE", all, db, table, got)
		}
		one := "GRANT DELETE ON `_`.* TO `u`@`%`"
		if got := grantWrites(one, db, table); (got != "") != (utf8.RuneCountInString(db) == 1) {
			t.Errorf("grantWrites(%q, %q, %q) = %q: _ is one character", one, db, table, got)
		}
	})
}
