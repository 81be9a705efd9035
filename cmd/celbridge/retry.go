package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/celbridge/celbridge/store"
)

// cmdRetry re-queues events parked as failed (a permanent CRM answer such as 400, or
// crm.max_attempts reached): they become pending with no attempts and are sent again, in
// order with the rest of their call, by the running daemon within a second or by the next
// `once`. With an ID (a generalCallID, a linkedid or an Idempotency-Key) only that call's or
// that request's failed event is re-queued; without one, every failed event.
func (cl commandLine) cmdRetry(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	fs := newFlags("retry", stderr)
	path := fs.String("config", defaultConfigPath, "configuration file (TOML; see config.example.toml)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: celbridge retry -config FILE [ID]\n\n"+
			"Re-queues events parked as failed. ID is a generalCallID (17956529280), a linkedid\n"+
			"(1795652928.0) or an Idempotency-Key (17956529280-answeredTheCall); without it, every\n"+
			"failed event is re-queued.\n\n")
		fs.PrintDefaults()
	}
	var rest []string
	for { // the ID may stand before or after the flags
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return err
			}
			return usageError{err}
		}
		if fs.NArg() == 0 {
			break
		}
		rest, args = append(rest, fs.Arg(0)), fs.Args()[1:]
	}
	if len(rest) > 1 {
		return usageError{fmt.Errorf("want at most one ID, got %d (see celbridge retry -h)", len(rest))}
	}
	cfg, err := cl.loadConfig(*path)
	if err != nil {
		return err
	}
	a := NewApp("retry", cfg, stderr)
	defer func() { err = errors.Join(err, a.Close()) }()
	id := ""
	if len(rest) == 1 {
		id = strings.TrimSpace(rest[0])
	}
	return a.Retry(ctx, id, stdout)
}

// Retry re-queues the failed events of id, or every failed event when id is "". The caller
// closes a.
func (a *App) Retry(ctx context.Context, id string, stdout io.Writer) error {
	// Not exclusive: the daemon may be running and holding the lock; the store's writes wait
	// for each other.
	if err := a.openStore(ctx, false); err != nil {
		return err
	}
	if id == "" {
		return a.retryAll(ctx, stdout)
	}
	return a.retryOne(ctx, id, stdout)
}

func (a *App) retryAll(ctx context.Context, stdout io.Writer) error {
	n, err := a.Store.Requeue(ctx, "")
	if err != nil {
		return err
	}
	if n == 0 {
		fmt.Fprintln(stdout, "no failed events to re-queue")
		return nil
	}
	fmt.Fprintf(stdout, "re-queued %d failed event(s); %s\n", n, retryHint)
	return nil
}

const retryHint = "a running celbridge sends them within a second, else the next `celbridge once` does"

// retryOne re-queues the failed events of one call (id is its generalCallID or linkedid) or
// one request (id is an Idempotency-Key, <generalCallID>-<requestType>[-n]) and prints them.
func (a *App) retryOne(ctx context.Context, id string, stdout io.Writer) error {
	if id == "" {
		return usageError{errors.New("empty ID (give a generalCallID, a linkedid or an Idempotency-Key)")}
	}
	call, key := id, ""
	c, entries, err := a.Store.Call(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		if gcid, _, ok := strings.Cut(id, "-"); ok {
			call, key = gcid, id
			c, entries, err = a.Store.Call(ctx, gcid)
		}
	}
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no call or request %q in the store (give a generalCallID, a linkedid or an Idempotency-Key, as the log and `celbridge explain` show them)", id)
	}
	if err != nil {
		return err
	}
	var failed []store.Entry
	for _, e := range entries {
		if e.State == store.StateFailed && (key == "" || e.Key == key) {
			failed = append(failed, e)
		}
	}
	if len(failed) == 0 {
		fmt.Fprintf(stdout, "no failed events of %s to re-queue\n", shown(call))
		return nil
	}
	redact := storedTextRedactor(a.Config)
	n := 0
	for _, e := range failed {
		m, err := a.Store.Requeue(ctx, e.Key)
		if err != nil {
			return err
		}
		if m > 0 {
			n += m
			fmt.Fprintf(stdout, "re-queued %s (attempts %d, last error: %s)\n", shown(e.Key), e.Attempts, oneLine(redact(e.LastError)))
		}
	}
	fmt.Fprintf(stdout, "re-queued %d failed event(s) of call %s; %s\n", n, shown(c.GeneralCallID), retryHint)
	return nil
}

// oneLine shortens a stored error (it may hold the CRM's response body, as received by older
// versions) to one output line of about 200 bytes, escaped (see shown).
func oneLine(s string) string {
	return cut(shown(strings.Join(strings.Fields(s), " ")), 201)
}
