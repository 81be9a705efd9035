package main

import (
	"context"

	"github.com/celbridge/celbridge/store"
)

// checkStore reports on the state file: writable and sound, in use by a running daemon, or
// able to be created.
func (c *checker) checkStore(ctx context.Context) {
	c.add(store.Check(ctx, c.cfg.Store.Path, c.now()))
}
