package loadgen

import (
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/celbridge/celbridge"
	"github.com/celbridge/celbridge/freepbx"
	"github.com/celbridge/celbridge/internal/testdb"
)

// readAll reads the whole cel table the way celbridge does.
func readAll(t *testing.T, db *testdb.DB) []celbridge.CELRow {
	t.Helper()
	ctx := context.Background()
	src, err := freepbx.OpenCEL(ctx, db.ReaderDSN, "cel", time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var all []celbridge.CELRow
	for after := int64(0); ; {
		rows, err := src.ReadAfter(ctx, after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, rows...)
		if len(rows) < 1000 {
			return all
		}
		after = rows[len(rows)-1].ID
	}
}

func TestInsert(t *testing.T) {
	db := testdb.New(t)
	var want []celbridge.CELRow
	g := New(11)
	for batch := range g.Bulk(5000, 700) {
		if err := Insert(context.Background(), db.Admin, "cel", batch); err != nil {
			t.Fatal(err)
		}
		want = append(want, batch...)
	}
	got := readAll(t, db)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("rows read back differ (-inserted +read):\n%s", diff)
	}
}

func TestLive(t *testing.T) {
	db := testdb.New(t)
	// The 1-second scenarios keep the test short.
	g := New(12, WithScenarios(regexp.MustCompile(`^(s03-in-busy|s09b-out-busy)$`)))
	var inserted []celbridge.CELRow
	var stamps []time.Time
	began := time.Now()
	err := g.Live(context.Background(), db.Admin, "cel", 20, 300*time.Millisecond, func(r celbridge.CELRow, at time.Time) {
		inserted = append(inserted, r)
		stamps = append(stamps, at)
	})
	if err != nil {
		t.Fatal(err)
	}
	if g.Calls() == 0 {
		t.Fatal("no call started")
	}
	got := readAll(t, db)
	if diff := cmp.Diff(inserted, got); diff != "" {
		t.Fatalf("onInsert rows differ from the table (-reported +table):\n%s", diff)
	}
	for i, r := range got {
		if r.EventTime.Before(began.Truncate(time.Second)) {
			t.Fatalf("row %d: eventtime %v is before Live began (%v): live rows must carry current times", r.ID, r.EventTime, began)
		}
		if i > 0 && stamps[i].Before(stamps[i-1]) {
			t.Fatalf("row %d reported inserted before row %d", r.ID, got[i-1].ID)
		}
	}
}
