package crm_test

import (
	"testing"

	"github.com/celbridge/celbridge"
	"github.com/celbridge/celbridge/crm"
	"github.com/celbridge/celbridge/internal/outboxtest"
)

// TestFakeOutbox_Contract: the dispatcher's tests run on fakeOutbox; it keeps the same
// contract as the store (store.TestDB_OutboxContract runs this suite on the real one).
func TestFakeOutbox_Contract(t *testing.T) {
	outboxtest.Run(t, func(*testing.T) (crm.Outbox, func(*testing.T, ...celbridge.Event)) {
		ob := &fakeOutbox{}
		return ob, func(_ *testing.T, events ...celbridge.Event) { ob.add(events...) }
	})
}
