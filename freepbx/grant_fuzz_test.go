package freepbx

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

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

func TestGrantWrites(t *testing.T) {
	for _, tc := range []struct{ grant, want string }{
		{"GRANT USAGE ON *.* TO `celbridge`@`localhost` IDENTIFIED BY PASSWORD '*14E6'", ""},
		{"GRANT SELECT ON `asteriskcdrdb`.`cel` TO `celbridge`@`localhost`", ""},
		{"GRANT SELECT, INSERT ON `asteriskcdrdb`.`cel` TO `celbridge`@`%`", "INSERT ON `asteriskcdrdb`.`cel`"},
		{"GRANT ALL PRIVILEGES ON *.* TO `root`@`localhost` WITH GRANT OPTION", "ALL PRIVILEGES ON *.*"},
		{"GRANT ALL PRIVILEGES ON `asteriskcdrdb`.* TO `freepbxuser`@`localhost`", "ALL PRIVILEGES ON `asteriskcdrdb`.*"},
		{"GRANT INSERT, UPDATE ON `asterisk`.* TO `u`@`%`", ""},                 // another database
		{"GRANT DELETE ON `asteriskcdrdb`.`cdr` TO `u`@`%`", ""},                // another table
		{"GRANT UPDATE ON `asterisk%`.* TO `u`@`%`", "UPDATE ON `asterisk%`.*"}, // a LIKE pattern
		{"GRANT UPDATE ON `asterisk\\_cdrdb`.* TO `u`@`%`", ""},
		{"GRANT SELECT (`id`, `eventtype`), UPDATE (`extra`) ON `asteriskcdrdb`.`cel` TO `u`@`%`", "UPDATE ON `asteriskcdrdb`.`cel`"},
		{"GRANT `cel_reader` TO `u`@`%`", ""},
	} {
		if got := grantWrites(tc.grant, "asteriskcdrdb", "cel"); got != tc.want {
			t.Errorf("grantWrites(%q) = %q, want %q", tc.grant, got, tc.want)
		}
	}
}

func TestWholeHours(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want float64
	}{
		{0, 0}, {30 * time.Second, 0}, {2*time.Hour + 20*time.Second, 2}, {-9*time.Hour + time.Minute, -9},
		{90 * time.Minute, 0}, {time.Hour + 5*time.Minute, 0},
	} {
		if got := wholeHours(tc.d); got != tc.want {
			t.Errorf("wholeHours(%s) = %v, want %v", tc.d, got, tc.want)
		}
	}
}
