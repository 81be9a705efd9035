package freepbx

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// realCEL is the dump of a real FreePBX 17 cel table: the seeds of the parsers' fuzz targets.
const realCEL = "../testdata/freepbx-cel/cel.sql"

// realValues returns up to max distinct matches of re's first group in the real dump.
func realValues(f *testing.F, re string, max int) []string {
	f.Helper()
	b, err := os.ReadFile(realCEL)
	if err != nil {
		f.Fatal(err)
	}
	seen := map[string]bool{}
	var out []string
	for _, m := range regexp.MustCompile(re).FindAllStringSubmatch(string(b), -1) {
		if !seen[m[1]] && len(out) < max {
			seen[m[1]] = true
			out = append(out, m[1])
		}
	}
	if len(out) == 0 {
		f.Fatalf("no %s in %s", re, realCEL)
	}
	return out
}

// fuzzZones are the zones the time parser is fuzzed in: UTC and one with DST and a
// non-hour past (the zone of the real dump's PBX).
var fuzzZones = []string{"UTC", "Europe/Kyiv", "America/St_Johns"}

// FuzzParseEventTimeBytes: the fast path for "YYYY-MM-DD HH:MM:SS" gives what the general
// parser gives, for any bytes, and a time it returns prints back as its input.
func FuzzParseEventTimeBytes(f *testing.F) {
	for _, s := range realValues(f, `'(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?)'`, 20) {
		f.Add([]byte(s), uint8(1))
	}
	for _, s := range []string{"0000-00-00 00:00:00", "2026-02-30 10:00:00", "2026-03-29 03:30:00",
		"2026-11-26 24:00:00", "2026-11-26T00:28:48", "2026-11-26", " 2026-11-26 00:28:48 ",
		"2026-11-26 00:28:48.123456", "-026-11-26 00:28:48", "2026-1a-26 00:28:48", "0001-01-01 00:00:00"} {
		f.Add([]byte(s), uint8(0))
	}
	zones := make([]*time.Location, len(fuzzZones))
	for i, name := range fuzzZones {
		loc, err := time.LoadLocation(name)
		if err != nil {
			f.Fatal(err)
		}
		zones[i] = loc
	}
	f.Fuzz(func(t *testing.T, b []byte, zone uint8) {
		loc := zones[int(zone)%len(zones)]
		in := string(b)
		got := parseEventTimeBytes(b, loc)
		want := parseEventTime(in, loc)
		if !got.Equal(want) || got.IsZero() != want.IsZero() {
			t.Fatalf("parseEventTimeBytes(%q, %s) = %v, parseEventTime = %v", in, loc, got, want)
		}
		if got.IsZero() {
			return
		}
		if got.Location() != loc {
			t.Errorf("parseEventTimeBytes(%q, %s) is in %s", in, loc, got.Location())
		}
		// A wall time that a DST change skips is moved by time.Date: only an existing
		// wall time prints back.
		if len(b) == 19 && got.Format(time.DateTime) != in && existsIn(in, loc) {
			t.Errorf("parseEventTimeBytes(%q, %s) = %s, prints back as %q", in, loc, got, got.Format(time.DateTime))
		}
	})
}

// existsIn reports whether the wall time s ("YYYY-MM-DD HH:MM:SS") occurs in loc, that is
// is not skipped by a change to summer time.
func existsIn(s string, loc *time.Location) bool {
	u, err := time.Parse(time.DateTime, s)
	if err != nil {
		return false
	}
	for _, d := range []time.Duration{-24 * time.Hour, 0, 24 * time.Hour} { // every offset near it
		_, off := u.Add(d).In(loc).Zone()
		if u.Add(-time.Duration(off)*time.Second).In(loc).Format(time.DateTime) == s {
			return true
		}
	}
	return false
}

// FuzzParseID: parseID accepts exactly 1 to 18 ASCII digits, and reads them as strconv does.
func FuzzParseID(f *testing.F) {
	for _, s := range realValues(f, `\((\d+),'`, 20) { // the id opening each row of the dump
		f.Add([]byte(s))
	}
	for _, s := range []string{"", "0", "007", "999999999999999999", "1000000000000000000", "-1", "+1", " 1", "1e3", "١"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		n, ok := parseID(b)
		digits := len(b) >= 1 && len(b) <= 18 && strings.Trim(string(b), "0123456789") == ""
		if ok != digits {
			t.Fatalf("parseID(%q) ok = %v, want %v", b, ok, digits)
		}
		if !ok {
			if n != 0 {
				t.Errorf("parseID(%q) = %d, false: want 0", b, n)
			}
			return
		}
		want, err := strconv.ParseInt(string(b), 10, 64)
		if err != nil || n != want || n < 0 {
			t.Errorf("parseID(%q) = %d, strconv says %d, %v", b, n, want, err)
		}
	})
}

// FuzzRedactDSN: whatever the DSN, the password go-sql-driver reads out of it is replaced by
// "***" and nothing else changes: the driver reads "***" and the same user, address and
// database out of the redacted DSN.
func FuzzRedactDSN(f *testing.F) {
	for _, s := range []string{
		"celbridge:s3cret@tcp(10.0.0.5:3306)/asteriskcdrdb",
		"celbridge:a-long-random-password@unix(/run/mysqld/mysqld.sock)/asteriskcdrdb",
		"celbridge:p@ss:w/rd@tcp(10.0.0.5:3306)/asteriskcdrdb?a=b",
		"celbridge@unix(/run/mysqld/mysqld.sock)/asteriskcdrdb",
		"root@unix(/tmp/maintdb/sock)/?multiStatements=true",
		"celbridge:@tcp(h)/db", "u:pw@tcp(h)/db?loc=Europe%2FKyiv&tls=skip-verify", "u:p/w@/", "u:@:@/", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, dsn string) {
		red := RedactDSN(dsn)
		cfg, err := mysql.ParseDSN(dsn)
		if err != nil || cfg.Passwd == "" {
			return // no password to hide, as the driver reads it
		}
		pw := cfg.Passwd
		rcfg, err := mysql.ParseDSN(red)
		if err != nil {
			t.Fatalf("RedactDSN(%q) = %q, which the driver no longer reads: %v", dsn, red, err)
		}
		if rcfg.Passwd != "***" || rcfg.User != cfg.User || rcfg.Addr != cfg.Addr || rcfg.DBName != cfg.DBName {
			t.Fatalf("RedactDSN(%q) = %q: user %q addr %q db %q password %q, want %q %q %q ***",
				dsn, red, rcfg.User, rcfg.Addr, rcfg.DBName, rcfg.Passwd, cfg.User, cfg.Addr, cfg.DBName)
		}
		// The driver read dsn as user ":" password "@" …: exactly the password is replaced.
		if want := cfg.User + ":***" + dsn[len(cfg.User)+1+len(pw):]; red != want {
			t.Fatalf("RedactDSN(%q) = %q, want %q", dsn, red, want)
		}
	})
}
