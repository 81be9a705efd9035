package main

import (
	"context"

	"github.com/celbridge/celbridge/store"
)

// lockStore takes the store's lock for this command (a.name); with wait (run), it waits for a
// backfill that holds it (store.Lock.Acquire). close releases it.
func (a *App) lockStore(ctx context.Context, wait bool) error {
	a.lock = &store.Lock{Path: a.Config.Store.Path, Role: a.name, Wait: wait, Logger: a.Logger}
	return a.lock.Acquire(ctx)
}
