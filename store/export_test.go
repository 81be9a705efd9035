package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Queries whose plans the tests check.
const (
	DueQuery       = dueQuery
	StatsCounts    = statsCounts
	StatsLastError = statsLastError
	PromoteHead    = promoteHead
	MarkAll        = markAll
	PromoteAll     = promoteAll
	InsertEvent    = insertEvent
	Requeue        = requeueFailed
	Undelivered    = countUndelivered
	PendingUpTo    = pendingUpTo
	CountUpTo      = countUpTo
	PruneOutbox    = pruneOutbox
	PruneCalls     = pruneCalls
	SelectCall     = selectCall
	SelectEntries  = selectEntries
)

// SetNow replaces the clock the store uses for created_at and last_error_at.
func SetNow(db *DB, now func() time.Time) { db.now = now }

// SQL returns the underlying handle, for assertions on raw rows.
func SQL(db *DB) *sql.DB { return db.db }

// CheckHeads verifies the invariant Due relies on: head = 1 exactly on the lowest-id row of
// each call that is not delivered.
func CheckHeads(ctx context.Context, db *DB) error {
	var bad int
	err := db.db.QueryRowContext(ctx, `SELECT count(*) FROM outbox o WHERE o.head !=
		(o.state != 'delivered' AND NOT EXISTS (SELECT 1 FROM outbox p
			WHERE p.general_call_id = o.general_call_id AND p.state != 'delivered' AND p.id < o.id))`).Scan(&bad)
	if err != nil {
		return err
	}
	if bad > 0 {
		return fmt.Errorf("%d outbox rows have a wrong head flag", bad)
	}
	return nil
}
