package freepbx

import (
	"errors"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jmoiron/sqlx"

	"github.com/celbridge/celbridge"
	"github.com/celbridge/celbridge/internal/testdb"
)

// kyiv stands for the PBX's zone (fixed, so the test needs no tzdata): eventtime is wall
// clock there.
var kyiv = time.FixedZone("EET", 2*60*60)

// openSource opens db's cel table as its SELECT-only user.
func openSource(t *testing.T, db *testdb.DB, loc *time.Location) *CEL {
	t.Helper()
	s, err := OpenCEL(t.Context(), db.ReaderDSN, "cel", loc)
	if err != nil {
		t.Fatalf("OpenCEL: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// readAll reads the whole table with ReadAfter in batches of n, as the poller does.
func readAll(t *testing.T, s *CEL, n int) []celbridge.CELRow {
	t.Helper()
	var all []celbridge.CELRow
	after := int64(0)
	for {
		rows, err := s.ReadAfter(t.Context(), after, n)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, rows...)
		if len(rows) < n {
			return all
		}
		after = rows[len(rows)-1].ID
	}
}

func ids(rows []celbridge.CELRow) []int64 {
	out := make([]int64, len(rows))
	for i, r := range rows {
		out[i] = r.ID
	}
	return out
}

func idRange(from, to int64) []int64 {
	var out []int64
	for id := from; id <= to; id++ {
		out = append(out, id)
	}
	return out
}

// TestCEL_FreePBX reads the 374 rows of a real FreePBX call log.
func TestCEL_FreePBX(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	db.LoadSQL(t, "testdata/freepbx-cel/cel.sql")
	s := openSource(t, db, kyiv)
	ctx := t.Context()

	t.Run("ReadAfterInBatches", func(t *testing.T) {
		for _, n := range []int{1, 7, 100, 374, 1000} {
			if got := ids(readAll(t, s, n)); !slices.Equal(got, idRange(1, 374)) {
				t.Errorf("batch %d: ids = %v, want 1..374 once each", n, got)
			}
		}
	})
	t.Run("RowValues", func(t *testing.T) {
		rows, err := s.ReadAfter(ctx, 3, 2)
		if err != nil {
			t.Fatal(err)
		}
		want := celbridge.CELRow{
			ID: 4, EventType: "ANSWER", EventTime: time.Date(2026, 11, 26, 0, 28, 51, 0, kyiv),
			CIDName: "0670219424", CIDNum: "0670219424", CIDANI: "0670219424", CIDDNID: "0443334000",
			Exten: "s", Context: "macro-dial-one", ChanName: "PJSIP/kyivstar-00000000", AppName: "Dial",
			AppData:  "PJSIP/801/sip:801@127.0.0.2:5060,15,Ttrb(func-apply-sipheaders^s^1)U(macro-auto-blkvm)",
			UniqueID: "1795652928.0", LinkedID: "1795652928.0",
		}
		if len(rows) != 2 || rows[0] != want || !rows[0].EventTime.Equal(want.EventTime) {
			t.Fatalf("row 4 = %+v\nwant   %+v", rows[0], want)
		}
		if rows[1].Extra != `{"bridge_id":"bb1a3a7a-5c88-4a18-bed8-907c1cfe4f50","bridge_technology":"simple_bridge"}` {
			t.Errorf("row 5 extra = %q", rows[1].Extra)
		}
	})
	t.Run("ReadIDs", func(t *testing.T) {
		rows, err := s.ReadIDs(ctx, []int64{374, 5, 3, 3, 400, 1})
		if err != nil {
			t.Fatal(err)
		}
		if got := ids(rows); !slices.Equal(got, []int64{1, 3, 5, 374}) {
			t.Errorf("ids = %v, want [1 3 5 374]", got)
		}
		if rows, err = s.ReadIDs(ctx, nil); err != nil || rows != nil {
			t.Errorf("no ids: %v, %v", rows, err)
		}
		rows, err = s.ReadIDs(ctx, idRange(-100, 1100)) // three IN lists
		if err != nil || !slices.Equal(ids(rows), idRange(1, 374)) {
			t.Errorf("1201 ids: %d rows, %v", len(rows), err)
		}
	})
	t.Run("ReadRange", func(t *testing.T) {
		for _, c := range []struct {
			from, to int64
			limit    int
			want     []int64
		}{
			{10, 20, 100, idRange(11, 20)},
			{10, 20, 5, idRange(11, 15)},
			{0, 374, 1000, idRange(1, 374)},
			{374, 500, 10, nil},
			{20, 10, 10, nil},
		} {
			rows, err := s.ReadRange(ctx, c.from, c.to, c.limit)
			if err != nil || !slices.Equal(ids(rows), c.want) {
				t.Errorf("ReadRange(%d, %d, %d) = %v, %v; want %v", c.from, c.to, c.limit, ids(rows), err, c.want)
			}
		}
	})
	t.Run("MaxIDAndNewest", func(t *testing.T) {
		if max, err := s.MaxID(ctx); err != nil || max != 374 {
			t.Errorf("MaxID = %d, %v; want 374", max, err)
		}
		id, at, err := s.Newest(ctx)
		if want := time.Date(2026, 11, 26, 0, 34, 3, 0, kyiv); err != nil || id != 374 || !at.Equal(want) {
			t.Errorf("Newest = %d, %v, %v; want 374, %v", id, at, err, want)
		}
		for _, c := range []struct {
			cursor int64
			want   Lag
		}{
			{-1, Lag{NewestID: 374, NewestTime: at}},
			{374, Lag{NewestID: 374, NewestTime: at}},
			{1, Lag{NewestID: 374, NewestTime: at, Rows: 373, Behind: 5*time.Minute + 15*time.Second}},
		} {
			if got, err := s.Lag(ctx, c.cursor); err != nil || got != c.want {
				t.Errorf("Lag(%d) = %+v, %v; want %+v", c.cursor, got, err, c.want)
			}
		}
	})
	t.Run("FirstIDAt", func(t *testing.T) {
		first := time.Date(2026, 11, 26, 0, 28, 48, 0, kyiv)
		last := time.Date(2026, 11, 26, 0, 34, 3, 0, kyiv)
		checkFirstIDAt(t, db, s, first.Add(-3*time.Second), last.Add(3*time.Second), time.Second)
		// A time given in another zone means the same instant.
		id, err := s.FirstIDAt(ctx, time.Date(2026, 11, 25, 22, 34, 3, 0, time.UTC))
		if err != nil || id != firstIDBrute(t, db, last, kyiv) {
			t.Errorf("FirstIDAt(UTC) = %d, %v", id, err)
		}
	})
	t.Run("ReaderCannotWrite", func(t *testing.T) {
		for _, q := range []string{
			"INSERT INTO cel (eventtype) VALUES ('X')",
			"UPDATE cel SET eventtype = 'X' WHERE id = 1",
			"DELETE FROM cel WHERE id = 1",
		} {
			_, err := s.db.ExecContext(ctx, q)
			var me *mysql.MySQLError
			if !errors.As(err, &me) || me.Number != erTableAccessDenied {
				t.Errorf("%s as celbridge's user: %v; want error 1142", q, err)
			}
		}
	})
	t.Run("PrimaryKeyRangeReads", func(t *testing.T) {
		checkPKRange(t, s)
	})
}

// checkFirstIDAt compares FirstIDAt with a brute-force scan (as root) for every step from
// `from` to `to`, and bounds the queries each call runs.
func checkFirstIDAt(t *testing.T, db *testdb.DB, s *CEL, from, to time.Time, step time.Duration) {
	t.Helper()
	maxID, err := s.MaxID(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	// min, max, one probe per halving of the id span, a couple of forward reads.
	budget := int64(2 + bits.Len64(uint64(maxID)+1) + 1 + 3)
	for at := from; !at.After(to); at = at.Add(step) {
		before := s.queries.Load()
		got, err := s.FirstIDAt(t.Context(), at)
		if err != nil {
			t.Fatal(err)
		}
		if n := s.queries.Load() - before; n > budget {
			t.Errorf("FirstIDAt(%v) ran %d queries, want at most %d", at, n, budget)
		}
		if want := firstIDBrute(t, db, at, s.loc); got != want {
			t.Fatalf("FirstIDAt(%v) = %d, want %d", at, got, want)
		}
	}
}

// firstIDBrute is FirstIDAt by a full scan: the first id with eventtime >= at, or MAX(id)+1.
func firstIDBrute(t *testing.T, db *testdb.DB, at time.Time, loc *time.Location) int64 {
	t.Helper()
	var id int64
	err := db.Admin.GetContext(t.Context(), &id,
		"SELECT COALESCE((SELECT MIN(id) FROM cel WHERE eventtime >= ?), (SELECT COALESCE(MAX(id), 0) + 1 FROM cel))",
		at.In(loc).Format(time.DateTime))
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// checkPKRange asserts that MariaDB plans every read as a range read on the primary key.
func checkPKRange(t *testing.T, s *CEL) {
	t.Helper()
	q, args, err := sqlx.In(s.query(readIDs), []int64{3, 50, 200})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		query string
		args  []any
	}{
		{"ReadAfter", s.query(readAfter), []any{300, 1000}},
		{"ReadAfterStart", s.query(readAfter), []any{0, 1000}},
		{"ReadRange", s.query(readRange), []any{100, 200, 1000}},
		{"ReadIDs", q, args},
		{"probe", fmt.Sprintf(probeAt, s.table), []any{150}},
		{"scan", fmt.Sprintf(scanAfter, s.table), []any{150, scanBatch}},
	} {
		rows, err := sqlx.NewDb(s.db, "mysql").QueryxContext(t.Context(), "EXPLAIN "+c.query, c.args...)
		if err != nil {
			t.Fatalf("EXPLAIN %s: %v", c.name, err)
		}
		var plans []map[string]any
		for rows.Next() {
			m := map[string]any{}
			if err := rows.MapScan(m); err != nil {
				t.Fatal(err)
			}
			plans = append(plans, m)
		}
		rows.Close()
		if len(plans) != 1 || str(plans[0]["type"]) != "range" || str(plans[0]["key"]) != "PRIMARY" {
			var desc []string
			for _, p := range plans {
				desc = append(desc, fmt.Sprintf("type=%s key=%s rows=%s extra=%s", str(p["type"]), str(p["key"]), str(p["rows"]), str(p["Extra"])))
			}
			t.Errorf("%s: plan %v, want one range read on PRIMARY\n%s", c.name, desc, c.query)
		}
	}
}

func str(v any) string {
	if b, ok := v.([]byte); ok {
		return string(b)
	}
	return fmt.Sprint(v)
}

// TestFirstIDAt_Synthetic bisects 10k rows with id gaps and eventtime jitter of ±2s.
func TestFirstIDAt_Synthetic(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	rng := rand.New(rand.NewPCG(1, 2))
	base := time.Date(2026, 3, 29, 0, 0, 0, 0, time.UTC)
	rows := make([]celbridge.CELRow, 10000)
	id := int64(1000)
	for i := range rows {
		id += 1 + int64(rng.IntN(3))
		if i%2500 == 2499 {
			id += 5000 // an auto-increment jump
		}
		jitter := time.Duration(rng.IntN(5)-2) * time.Second
		rows[i] = celbridge.CELRow{ID: id, EventType: "CHAN_START", EventTime: base.Add(time.Duration(i)*time.Second/4 + jitter),
			UniqueID: fmt.Sprint(i), LinkedID: fmt.Sprint(i)}
	}
	db.Insert(t, rows...)
	s := openSource(t, db, time.UTC)

	end := base.Add(2500 * time.Second)
	checkFirstIDAt(t, db, s, base.Add(-time.Hour), base.Add(-time.Hour), time.Second)
	checkFirstIDAt(t, db, s, base.Add(-5*time.Second), base.Add(5*time.Second), time.Second)
	checkFirstIDAt(t, db, s, end.Add(-5*time.Second), end.Add(5*time.Second), time.Second)
	for range 200 {
		at := base.Add(time.Duration(rng.IntN(2500)) * time.Second)
		checkFirstIDAt(t, db, s, at, at, time.Second)
	}
	checkPKRange(t, s)
}

func TestCEL_Empty(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	s := openSource(t, db, time.UTC)
	ctx := t.Context()
	if rows, err := s.ReadAfter(ctx, 0, 100); err != nil || len(rows) != 0 {
		t.Errorf("ReadAfter = %v, %v", rows, err)
	}
	if max, err := s.MaxID(ctx); err != nil || max != 0 {
		t.Errorf("MaxID = %d, %v; want 0", max, err)
	}
	if id, at, err := s.Newest(ctx); err != nil || id != 0 || !at.IsZero() {
		t.Errorf("Newest = %d, %v, %v; want 0, zero", id, at, err)
	}
	if id, err := s.FirstIDAt(ctx, time.Now()); err != nil || id != 1 {
		t.Errorf("FirstIDAt = %d, %v; want 1", id, err)
	}
	if _, err := s.ReadAfter(ctx, 0, 0); err == nil {
		t.Error("ReadAfter with limit 0: no error")
	}
}

// TestCEL_EventExtra reads an older install's table: eventextra instead of extra, and
// the extra columns peeraccount and userfield.
func TestCEL_EventExtra(t *testing.T) {
	t.Parallel()
	db := testdb.New(t, testdb.OldSchema())
	at := time.Date(2026, 11, 26, 0, 28, 48, 0, kyiv)
	want := []celbridge.CELRow{
		{ID: 1, EventType: "CHAN_START", EventTime: at, CIDNum: "801", ChanName: "PJSIP/801-00000001", UniqueID: "1.1", LinkedID: "1.1"},
		{ID: 2, EventType: "HANGUP", EventTime: at.Add(time.Second), ChanName: "PJSIP/801-00000001", UniqueID: "1.1", LinkedID: "1.1",
			Extra: `{"hangupcause":16,"dialstatus":"ANSWER"}`},
	}
	db.Insert(t, want...)
	s := openSource(t, db, kyiv)
	got, err := s.ReadAfter(t.Context(), 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("rows = %+v\nwant   %+v", got, want)
	}
}

// TestCEL_BadValues: NULLs, zero and impossible dates and garbage never fail a read;
// the row still comes back with its id.
func TestCEL_BadValues(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	var nullable []string
	for _, c := range celColumns[1:] {
		typ := "varchar(255)"
		if c == "eventtime" {
			typ = "datetime"
		}
		nullable = append(nullable, fmt.Sprintf("MODIFY %s %s NULL", c, typ))
	}
	db.Exec(t, "ALTER TABLE cel "+strings.Join(nullable, ", "))
	db.Exec(t, `SET SESSION sql_mode = 'ALLOW_INVALID_DATES';
INSERT INTO cel (id, amaflags) VALUES (1, 3);
INSERT INTO cel (id, eventtype, eventtime, linkedid, amaflags) VALUES
  (2, 'CHAN_START', '0000-00-00 00:00:00', 'a', 3),
  (3, 'CHAN_START', '2026-02-30 10:00:00', 'b', 3),
  (4, 'CHAN_START', '2026-11-26 10:00:00', 'c', 3);`)
	s := openSource(t, db, time.UTC)
	ctx := t.Context()

	rows, err := s.ReadAfter(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids(rows), []int64{1, 2, 3, 4}) {
		t.Fatalf("ids = %v", ids(rows))
	}
	sameRows(t, "streamed NULLs and bad dates", streamAll(t, s, 1, 4, 3), rows)
	if rows[0] != (celbridge.CELRow{ID: 1}) {
		t.Errorf("all-NULL row = %+v, want only the id", rows[0])
	}
	for _, r := range rows[1:3] {
		if !r.EventTime.IsZero() {
			t.Errorf("row %d: eventtime %v, want zero", r.ID, r.EventTime)
		}
	}
	if want := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC); !rows[3].EventTime.Equal(want) {
		t.Errorf("row 4: eventtime %v, want %v", rows[3].EventTime, want)
	}

	// Some installs have odd column types; eventtime as text can hold anything.
	db.Exec(t, `ALTER TABLE cel MODIFY eventtime varchar(40) NULL;
INSERT INTO cel (id, eventtype, eventtime, amaflags) VALUES
  (5, 'X', 'garbage', 3), (6, 'X', '2026-11-26 10:00:01.250000', 3), (7, 'X', '2026-11-26', 3);`)
	rows, err = s.ReadAfter(ctx, 4, 100)
	if err != nil || !slices.Equal(ids(rows), []int64{5, 6, 7}) {
		t.Fatalf("after garbage: ids %v, %v", ids(rows), err)
	}
	sameRows(t, "streamed text eventtimes", streamAll(t, s, 5, 7, 2), rows)
	for i, want := range []time.Time{{}, time.Date(2026, 11, 26, 10, 0, 1, 250e6, time.UTC), time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)} {
		if !rows[i].EventTime.Equal(want) {
			t.Errorf("row %d: eventtime %v, want %v", rows[i].ID, rows[i].EventTime, want)
		}
	}
	if id, err := s.FirstIDAt(ctx, time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)); err != nil || id != 4 {
		t.Errorf("FirstIDAt over bad rows = %d, %v; want 4", id, err)
	}
	if id, _, err := s.Newest(ctx); err != nil || id != 7 {
		t.Errorf("Newest = %d, %v", id, err)
	}
}

func TestOpenCEL_Errors(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	ctx := t.Context()
	withPassword := func(pw string) string {
		cfg, err := mysql.ParseDSN(db.ReaderDSN)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Passwd = pw
		return cfg.FormatDSN()
	}
	open := func(t *testing.T, dsn, table string) error {
		t.Helper()
		s, err := OpenCEL(ctx, dsn, table, time.UTC)
		if err == nil {
			s.Close()
			t.Fatal("OpenCEL: no error")
		}
		t.Log(err)
		return err
	}
	mustContain := func(t *testing.T, err error, parts ...string) {
		t.Helper()
		for _, p := range parts {
			if !strings.Contains(err.Error(), p) {
				t.Errorf("error lacks %q: %v", p, err)
			}
		}
	}

	t.Run("WrongPassword", func(t *testing.T) {
		err := open(t, withPassword("Wr0ng-Pa55"), "cel")
		mustContain(t, err, "'"+db.User+"'@'localhost'", "GRANT SELECT ON "+db.Name+".cel TO '"+db.User+"'@'localhost'", "mysql.dsn")
		if strings.Contains(err.Error(), "Wr0ng-Pa55") || strings.Contains(err.Error(), db.Password) {
			t.Errorf("error shows a password: %v", err)
		}
		var me *mysql.MySQLError
		if !errors.As(err, &me) || me.Number != erAccessDenied {
			t.Errorf("error does not wrap MySQL error 1045: %v", err)
		}
	})
	t.Run("NoTablePrivilege", func(t *testing.T) {
		db.Exec(t, "CREATE TABLE cel_other LIKE cel")
		err := open(t, db.ReaderDSN, "cel_other")
		mustContain(t, err, "GRANT SELECT ON "+db.Name+".cel_other TO '"+db.User+"'@'localhost'")
	})
	t.Run("NoPrivilegeAtAll", func(t *testing.T) {
		other := testdb.New(t)
		other.Exec(t, fmt.Sprintf("REVOKE SELECT ON `%s`.`cel` FROM '%s'@'%%'", other.Name, other.User))
		err := open(t, other.ReaderDSN, "cel")
		mustContain(t, err, other.User, "GRANT SELECT ON "+other.Name+".cel TO '"+other.User+"'@")
	})
	t.Run("NoSuchTable", func(t *testing.T) {
		mustContain(t, open(t, db.ReaderDSN, "nosuch"), "mysql.table")
	})
	t.Run("MissingColumns", func(t *testing.T) {
		db.Exec(t, "CREATE TABLE cel_old LIKE cel; ALTER TABLE cel_old DROP COLUMN linkedid, DROP COLUMN extra")
		db.Exec(t, fmt.Sprintf("GRANT SELECT ON `%s`.`cel_old` TO '%s'@'%%'", db.Name, db.User))
		mustContain(t, open(t, db.ReaderDSN, "cel_old"), "linkedid", "extra (or eventextra)")
	})
	t.Run("Unreachable", func(t *testing.T) {
		err := open(t, "celbridge:s3cret@tcp(127.0.0.1:1)/asteriskcdrdb", "cel")
		mustContain(t, err, "127.0.0.1:1", "mysql.dsn")
		err = open(t, "celbridge:s3cret@unix(/nonexistent/mysqld.sock)/asteriskcdrdb", "cel")
		mustContain(t, err, "/nonexistent/mysqld.sock", "mysql.dsn")
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("error shows the password: %v", err)
		}
	})
	t.Run("BadInput", func(t *testing.T) {
		mustContain(t, open(t, db.ReaderDSN, "cel; DROP TABLE cel"), "mysql.table")
		mustContain(t, open(t, db.ReaderDSN, "a.b.c"), "mysql.table")
		mustContain(t, open(t, "", "cel"), "mysql.dsn")
		err := open(t, "celbridge:s3cret@tcp(127.0.0.1", "cel")
		mustContain(t, err, "mysql.dsn")
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("error shows the password: %v", err)
		}
	})
	t.Run("SchemaQualifiedTable", func(t *testing.T) {
		cfg, err := mysql.ParseDSN(db.ReaderDSN)
		if err != nil {
			t.Fatal(err)
		}
		cfg.DBName = ""
		s, err := OpenCEL(ctx, cfg.FormatDSN(), db.Name+".cel", time.UTC)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if _, err := s.MaxID(ctx); err != nil {
			t.Fatal(err)
		}
		mustContain(t, open(t, cfg.FormatDSN(), "cel"), "asteriskcdrdb.cel")
	})
}

func TestRedactDSN(t *testing.T) {
	for dsn, want := range map[string]string{
		"celbridge:s3cret@tcp(10.0.0.5:3306)/asteriskcdrdb":        "celbridge:***@tcp(10.0.0.5:3306)/asteriskcdrdb",
		"celbridge:p@ss:w/rd@tcp(10.0.0.5:3306)/asteriskcdrdb?a=b": "celbridge:***@tcp(10.0.0.5:3306)/asteriskcdrdb?a=b",
		"celbridge@unix(/run/mysqld/mysqld.sock)/asteriskcdrdb":    "celbridge@unix(/run/mysqld/mysqld.sock)/asteriskcdrdb",
		"celbridge:@tcp(h)/db":                                     "celbridge:***@tcp(h)/db",
		"/asteriskcdrdb":                                           "/asteriskcdrdb",
		"user:pw@host":                                             "user:***@host",
		"":                                                         "",
	} {
		if got := RedactDSN(dsn); got != want {
			t.Errorf("RedactDSN(%q) = %q, want %q", dsn, got, want)
		}
	}
}

// TestCEL_HugeField: a row with a megabyte of extra (issue 15.8: a batch of them
// raised memory by hundreds of MB) is read with its columns cut at maxField bytes.
func TestCEL_HugeField(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	// FreePBX's extra is varchar(512); a site that widened it (or another CEL writer) can
	// hold anything.
	db.Exec(t, "ALTER TABLE cel MODIFY extra MEDIUMTEXT NOT NULL")
	db.Insert(t, celbridge.CELRow{ID: 1, EventType: "BRIDGE_ENTER", EventTime: time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC),
		LinkedID: "a.1", UniqueID: "a.1", Extra: strings.Repeat("x", 1<<20), AppData: strings.Repeat("y", 100)})
	s := openSource(t, db, time.UTC)
	rows, err := s.ReadAfter(t.Context(), 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || len(rows[0].Extra) != 8<<10 || len(rows[0].AppData) != 100 || rows[0].LinkedID != "a.1" {
		t.Fatalf("rows %d, extra %d bytes, appdata %d bytes; want 1 row, 8192 and 100", len(rows), len(rows[0].Extra), len(rows[0].AppData))
	}
	sameRows(t, "streamed huge field", streamAll(t, s, 1, 1, 10), rows)
}
