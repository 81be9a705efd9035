package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/celbridge/celbridge/freepbx"
	"github.com/celbridge/celbridge/health"
	"github.com/celbridge/celbridge/internal/clock"
	"github.com/celbridge/celbridge/store"
)

// statusReport is what `celbridge status` shows; its JSON form is for scripts, with stable
// snake_case keys. Times are RFC 3339, absent when unknown.
type statusReport struct {
	Store          string     `json:"store"`
	DaemonRunning  bool       `json:"daemon_running"`
	Cursor         *int64     `json:"cursor"` // null before the first start
	OpenCalls      int        `json:"open_calls"`
	Pending        int        `json:"outbox_pending"`
	OldestPending  *time.Time `json:"oldest_pending_at,omitempty"`
	Failed         int        `json:"outbox_failed"`
	DeliveredToday int        `json:"delivered_today"`
	LastError      string     `json:"last_crm_error,omitempty"`
	LastErrorAt    *time.Time `json:"last_crm_error_at,omitempty"`

	// The first start: when the daemon first ran on this store, and the CEL id it began
	// after (the calls before it were not sent). Absent for stores begun by older versions.
	FirstStartAt     *time.Time `json:"first_start_at,omitempty"`
	FirstStartCursor *int64     `json:"first_start_cursor,omitempty"`

	NewestID   *int64     `json:"newest_cel_id,omitempty"`
	NewestTime *time.Time `json:"newest_cel_time,omitempty"`
	LagRows    *int64     `json:"lag_rows,omitempty"`
	LagSeconds *float64   `json:"lag_seconds,omitempty"`
	MySQLError string     `json:"mysql_error,omitempty"`
}

func (cl commandLine) cmdStatus(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var asJSON bool
	fs := newFlags("status", stderr)
	path := fs.String("config", defaultConfigPath, "configuration file (TOML; see config.example.toml)")
	fs.BoolVar(&asJSON, "json", false, "print one JSON object (for scripts)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := cl.loadConfig(*path)
	if err != nil {
		return err
	}
	a := NewApp("status", cfg, stderr)
	if cl.process {
		a.logDriver()
	}
	return a.Status(ctx, asJSON, stdout)
}

// Status prints the report, as JSON when asJSON. It opens nothing that needs closing: the
// store and the database are read and closed again.
func (a *App) Status(ctx context.Context, asJSON bool, stdout io.Writer) error {
	cfg := a.Config
	now := clock.Now()
	r, err := readStoreStatus(ctx, cfg.Store.Path, now)
	if err != nil {
		return err
	}
	// The last error holds the start of the CRM's answer; older versions stored it as
	// received: redact it again, as explain and retry do.
	r.LastError = storedTextRedactor(cfg)(r.LastError)
	if err := readCELStatus(ctx, cfg, r, now); err != nil {
		r.MySQLError = err.Error()
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			return err
		}
	} else {
		r.print(stdout, now)
	}
	if r.MySQLError != "" {
		return errors.New("MySQL is unreachable; the store part above is current (run 'celbridge check' for the cause)")
	}
	return nil
}

// readStoreStatus reads the state file read-only, so it is safe while the daemon writes it.
func readStoreStatus(ctx context.Context, path string, now time.Time) (*statusReport, error) {
	busy, err := store.InUse(path)
	if err != nil {
		return nil, fmt.Errorf("store %s: %w (check store.path and the file's owner)", path, err)
	}
	db, err := store.OpenReadOnly(ctx, path)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	s, err := db.Stats(ctx, now)
	if err != nil {
		return nil, err
	}
	r := &statusReport{
		Store: path, DaemonRunning: busy, OpenCalls: s.OpenCalls,
		Pending: s.Pending, Failed: s.Failed, DeliveredToday: s.DeliveredToday, LastError: s.LastError,
	}
	if s.HasCursor {
		r.Cursor = &s.Cursor
	}
	at, cursor, ok, err := db.FirstStart(ctx)
	if err != nil {
		return nil, err
	}
	if ok {
		at = at.Local()
		r.FirstStartAt, r.FirstStartCursor = &at, &cursor
	}
	r.OldestPending, r.LastErrorAt = timePtr(s.OldestPending), timePtr(s.LastErrorAt)
	return r, nil
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// readCELStatus adds the newest CEL row and the lag behind it.
func readCELStatus(ctx context.Context, cfg Config, r *statusReport, now time.Time) error {
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	src, err := freepbx.OpenCEL(ctx, cfg.MySQL.DSN, cfg.MySQL.Table, cfg.Location())
	if err != nil {
		return err
	}
	defer src.Close()
	cursor := int64(-1)
	if r.Cursor != nil {
		cursor = *r.Cursor
	}
	lag, err := src.Lag(ctx, cursor)
	if err != nil {
		return err
	}
	r.NewestID, r.NewestTime = &lag.NewestID, timePtr(lag.NewestTime)
	if r.Cursor != nil {
		secs := lag.Behind.Seconds()
		r.LagRows, r.LagSeconds = &lag.Rows, &secs
	}
	return nil
}

// print writes the report for people.
func (r *statusReport) print(w io.Writer, now time.Time) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	defer tw.Flush()
	daemon := "no celbridge daemon holds it"
	if r.DaemonRunning {
		daemon = "in use by a running celbridge"
	}
	fmt.Fprintf(tw, "store\t%s (%s)\n", r.Store, daemon)
	if r.Cursor == nil {
		fmt.Fprintf(tw, "cursor\tnone yet (the daemon sets it on its first start)\n")
	} else {
		fmt.Fprintf(tw, "cursor\tCEL id %d\n", *r.Cursor)
	}
	if r.FirstStartAt != nil {
		began := "(calls before were not sent; use backfill)"
		if *r.FirstStartCursor == 0 {
			began = "(the CEL table was empty)"
		}
		fmt.Fprintf(tw, "first start\t%s, began at CEL id %d %s\n", ago(*r.FirstStartAt, now), *r.FirstStartCursor, began)
	}
	fmt.Fprintf(tw, "open calls\t%d\n", r.OpenCalls)
	pending := fmt.Sprintf("%d pending", r.Pending)
	if r.OldestPending != nil {
		pending += fmt.Sprintf(" (oldest %s)", ago(*r.OldestPending, now))
	}
	fmt.Fprintf(tw, "outbox\t%s, %d failed, %d delivered today\n", pending, r.Failed, r.DeliveredToday)
	if r.LastErrorAt != nil {
		fmt.Fprintf(tw, "last CRM error\t%s: %s\n", ago(*r.LastErrorAt, now), shown(r.LastError))
	} else {
		fmt.Fprintf(tw, "last CRM error\tnone\n")
	}
	if r.MySQLError != "" {
		fmt.Fprintf(tw, "MySQL\tunreachable: %s\n", r.MySQLError)
		return
	}
	newest := fmt.Sprintf("CEL id %d", *r.NewestID)
	if r.NewestTime != nil {
		newest += " at " + ago(*r.NewestTime, now)
	}
	fmt.Fprintf(tw, "newest CEL row\t%s\n", newest)
	if r.LagRows != nil {
		lag := fmt.Sprintf("%d rows, %s", *r.LagRows, health.Age(time.Duration(*r.LagSeconds*float64(time.Second))))
		if r.OpenCalls > 0 && *r.LagRows > 0 {
			lag += " (the cursor stays before the oldest open call, so this includes calls in progress)"
		}
		fmt.Fprintf(tw, "lag\t%s\n", lag)
	}
}

// ago renders t as "2026-11-26 02:10:00, 5m3s ago" in t's location.
func ago(t, now time.Time) string {
	d := now.Sub(t)
	if d < 0 {
		return fmt.Sprintf("%s, in %s", t.Format(time.DateTime), health.Age(-d))
	}
	return fmt.Sprintf("%s, %s ago", t.Format(time.DateTime), health.Age(d))
}
