package poller_test

import (
	"testing"

	"github.com/celbridge/celbridge/internal/pollertest"
)

// TestPoller runs the poller's cases on the in-memory table and store.
func TestPoller(t *testing.T) {
	t.Parallel()
	pollertest.Run(t, newMemEnv)
}
