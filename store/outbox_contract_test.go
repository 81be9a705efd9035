package store_test

import (
	"testing"

	"github.com/celbridge/celbridge"
	"github.com/celbridge/celbridge/crm"
	"github.com/celbridge/celbridge/internal/outboxtest"
)

// TestDB_OutboxContract: the store keeps crm.Outbox's contract, the same suite crm's test
// double passes.
func TestDB_OutboxContract(t *testing.T) {
	outboxtest.Run(t, func(t *testing.T) (crm.Outbox, func(*testing.T, ...celbridge.Event)) {
		db, _ := openTemp(t)
		return db, func(t *testing.T, events ...celbridge.Event) {
			t.Helper()
			if _, err := db.Enqueue(t.Context(), events); err != nil {
				t.Fatal(err)
			}
		}
	})
}
