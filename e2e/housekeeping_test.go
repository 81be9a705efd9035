package e2e

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/celbridge/celbridge"
	"github.com/celbridge/celbridge/internal/clitest"
	"github.com/celbridge/celbridge/internal/clock"
	"github.com/celbridge/celbridge/internal/testdb"
	"github.com/celbridge/celbridge/store"
)

// callEvents are the three requests of a simple answered call number n at t.
func callEvents(n int, t time.Time) []celbridge.Event {
	linkedid := fmt.Sprintf("%d.%d", t.Unix(), n)
	var evs []celbridge.Event
	for i, typ := range []string{celbridge.Received, celbridge.Answered, celbridge.Hangup} {
		evs = append(evs, celbridge.Event{
			LinkedID: linkedid, GeneralCallID: celbridge.DigitsOnly(linkedid), RequestType: typ,
			ExternalNumber: "0670219424", DIDNumber: "0443334000", InternalNumber: "801",
			CELID: int64(n*20 + i*5 + 1), FirstCELID: int64(n*20 + 1), Time: t.Add(time.Duration(i) * time.Minute),
		})
	}
	return evs
}

// inspect opens the state file beside the store's own connection, for counting rows and
// measuring the file after a WAL checkpoint.
func inspect(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func count(t *testing.T, db *sql.DB, table string) int {
	t.Helper()
	var n int
	if err := db.QueryRow("SELECT count(*) FROM " + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// fileSize checkpoints the WAL into the main file (truncating the WAL) and returns the main
// file's size.
func fileSize(t *testing.T, db *sql.DB, path string) int64 {
	t.Helper()
	if _, err := db.Exec("PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

// TestHousekeeping_MonthBounded is guarantee 7 of issue 4 (DESIGN §4): 35 simulated days of
// traffic go through the store as the daemon drives it (Commit with the cursor, Delivered at
// the delivery time, Prune every hour with the retention) on a fake clock. The outbox and the
// calls table hold about one retention period of rows, and the file stops growing once the
// first rows are pruned (SQLite reuses the freed pages).
//
// Mechanism under test: store.Prune (delivered outbox rows older than the retention, then
// closed calls without outbox rows). Without it the outbox holds all 35 days and the file
// grows with them.
func TestHousekeeping_MonthBounded(t *testing.T) {
	const (
		days         = 35
		callsPerHour = 1
		retention    = 5 * 24 * time.Hour
	)
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	st, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	look := inspect(t, path)

	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	n, cursor := 0, int64(0)
	perDay := 24 * callsPerHour * 3
	var plateau int64
	maxRows := 0
	for hour := 0; hour < days*24; hour++ {
		now = now.Add(time.Hour)
		var evs []celbridge.Event
		for range callsPerHour {
			evs = append(evs, callEvents(n, now.Add(-10*time.Minute))...)
			n++
		}
		cursor += int64(callsPerHour * 20)
		if _, err := st.Commit(ctx, cursor, evs); err != nil {
			t.Fatal(err)
		}
		due, err := st.Due(ctx, now, 1000)
		for err == nil && len(due) > 0 {
			for _, d := range due {
				if err := st.Delivered(ctx, d.ID, now); err != nil {
					t.Fatal(err)
				}
			}
			due, err = st.Due(ctx, now, 1000)
		}
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.Prune(ctx, now.Add(-retention)); err != nil {
			t.Fatal(err)
		}
		if hour%24 == 23 {
			maxRows = max(maxRows, count(t, look, "outbox"))
			if day := hour / 24; day == 7 {
				plateau = fileSize(t, look, path)
			}
		}
	}
	rows, calls := count(t, look, "outbox"), count(t, look, "calls")
	size := fileSize(t, look, path)
	bound := int((retention+24*time.Hour)/(24*time.Hour)) * perDay
	if maxRows > bound || rows > bound {
		t.Errorf("outbox held up to %d rows (now %d) of %d sent; want at most %d (retention plus a day)", maxRows, rows, n*3, bound)
	}
	if calls > bound/3 {
		t.Errorf("calls table holds %d of %d calls; want at most %d", calls, n, bound/3)
	}
	if size > plateau*3/2 {
		t.Errorf("state file grew from %d bytes on day 8 to %d on day %d; want it bounded", plateau, size, days)
	}
	t.Logf("%d days, %d calls: outbox %d rows (max %d), calls %d, file %d bytes (day 8: %d)", days, n, rows, maxRows, calls, size, plateau)
}

// TestHousekeeping_RunPrunes: celbridge run prunes delivered rows older than store.retention
// when it starts (and hourly): the wiring of store.Prune in the daemon. Without the
// housekeeping goroutine the old row stays.
func TestHousekeeping_RunPrunes(t *testing.T) {
	db := testdb.New(t)
	c := clitest.NewCRM(t)
	in := newInstall(t, db.ReaderDSN, c.PushURL(), "", "")
	path := filepath.Join(in.dir, "state.db")
	st, err := store.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	now := clock.Now()
	evs := append(callEvents(1, now.Add(-40*24*time.Hour)), callEvents(2, now.Add(-24*time.Hour))...)
	if _, err := st.Commit(t.Context(), 0, evs); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		due, err := st.Due(t.Context(), now, 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range due {
			if err := st.Delivered(t.Context(), d.ID, d.Event.Time); err != nil {
				t.Fatal(err)
			}
		}
	}
	st.Close()
	look := inspect(t, path)
	if k := count(t, look, "outbox"); k != 6 {
		t.Fatalf("outbox has %d rows before run, want 6", k)
	}
	d := in.start()
	ok := clitest.Until(20*time.Second, func() bool { return count(t, look, "outbox") == 3 })
	if code := d.Stop(); code != 0 {
		t.Errorf("celbridge run: exit %d\n%s", code, in.tail(20))
	}
	if !ok {
		t.Errorf("run did not prune the rows delivered 40 days ago (retention 30d): outbox has %d rows, want 3\n%s",
			count(t, look, "outbox"), in.tail(20))
	}
	if len(c.Snapshot()) != 0 {
		t.Errorf("run sent %d requests for delivered rows", len(c.Snapshot()))
	}
}
