package store_test

import (
	"strings"
	"testing"

	"github.com/celbridge/celbridge/store"
)

// TestQueryPlans checks with EXPLAIN QUERY PLAN that the hot queries read through indexes:
// no full scan of a table and, for Due, no sort (the index gives the order, so LIMIT stops
// early however many rows wait).
func TestQueryPlans(t *testing.T) {
	db, _ := openTemp(t)
	tests := []struct {
		name      string
		query     string
		args      []any
		wantIndex string
	}{
		{"Due", store.DueQuery, []any{0, 100}, "outbox_due"},
		{"PromoteHead", store.PromoteHead, []any{1}, "sqlite_autoindex_outbox_"},
		{"MarkAll", store.MarkAll, []any{`[[1,2]]`}, "USING INTEGER PRIMARY KEY"},
		{"PromoteAll", store.PromoteAll, []any{`[[1,2]]`}, "sqlite_autoindex_outbox_"},
		{"StatsCounts", store.StatsCounts, []any{0}, "outbox_state_created_at"},
		{"StatsLastError", store.StatsLastError, nil, "outbox_last_error_at"},
		{"InsertEventHeadCheck", store.InsertEvent, []any{"1", "1.0", "r", 0, "k", "{}", 1, 0}, "sqlite_autoindex_outbox_"},
		{"Requeue", store.Requeue, []any{""}, "outbox_state_created_at"},
		{"Undelivered", store.Undelivered, []any{`["k"]`}, "sqlite_autoindex_outbox_"},
		{"PendingUpTo", store.PendingUpTo, []any{10}, "outbox_state_created_at"},
		{"CountUpTo", store.CountUpTo, []any{"failed", 0, 10}, "outbox_state_created_at"},
		{"PruneOutbox", store.PruneOutbox, []any{0}, "outbox_delivered_at"},
		{"PruneCalls", store.PruneCalls, []any{0}, "outbox_linked_id"},
		{"SelectCall", store.SelectCall, []any{"1"}, "calls_general_call_id"}, // sorts at most 2 rows
		{"SelectEntries", store.SelectEntries, []any{"1.0"}, "outbox_linked_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan := explain(t, db, tt.query, tt.args...)
			t.Logf("plan:\n%s", plan)
			if !strings.Contains(plan, tt.wantIndex) {
				t.Errorf("plan does not use index %s", tt.wantIndex)
			}
			for _, line := range strings.Split(plan, "\n") {
				if strings.HasPrefix(line, "SCAN ") && !strings.Contains(line, "INDEX") && line != "SCAN CONSTANT ROW" {
					t.Errorf("full table scan: %s", line)
				}
				if strings.Contains(line, "TEMP B-TREE") && tt.name != "SelectCall" {
					t.Errorf("sort in a temporary b-tree: %s", line)
				}
			}
		})
	}
}

func explain(t *testing.T, db *store.DB, query string, args ...any) string {
	t.Helper()
	rows, err := store.SQL(db).QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(lines, "\n")
}
