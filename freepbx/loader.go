package freepbx

import (
	"context"
	"database/sql"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// Loader reads the configuration at start and again when asked (every refresh interval, on
// SIGHUP), keeps the last good copy when a read fails, and logs what changed: tables that
// became unreadable or readable again are logged once, in one line, not at every refresh.
type Loader struct {
	DB     *sql.DB
	Schema string
	Logger *slog.Logger

	mu     sync.Mutex
	last   *Config
	user   string          // CURRENT_USER(), for the GRANT lines
	logged map[string]bool // tables whose absence was logged
}

// OpenLoader connects to the server of dsn (the CEL DSN: same server, same user) for reading
// the configuration in schema.
func OpenLoader(dsn, schema string, log *slog.Logger) (*Loader, error) {
	db, err := Open(dsn)
	if err != nil {
		return nil, err
	}
	return &Loader{DB: db, Schema: schema, Logger: log}, nil
}

// Close closes the connection pool. Its error is dropped: the pool only reads, and a
// connection that died with the server (a restart of MariaDB) fails its goodbye with "bad
// connection", which must not turn a clean stop into a failure.
func (l *Loader) Close() {
	l.DB.Close()
}

// Last returns the last configuration read (nil before the first good read).
func (l *Loader) Last() *Config {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.last
}

// Load reads the configuration. On success it becomes Last and is returned; on failure the
// error is logged and Last (possibly nil) is returned with it.
func (l *Loader) Load(ctx context.Context) (*Config, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	c, err := Read(ctx, l.DB, l.Schema)
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		if l.last != nil {
			l.Logger.Warn("FreePBX configuration: reading it again failed; keeping the copy read before", "database", l.Schema, "err", err)
		} else {
			l.Logger.Warn("FreePBX configuration: could not read it; celbridge works without it (only celbridge.toml)", "database", l.Schema, "err", err)
		}
		return l.last, err
	}
	if l.user == "" {
		l.user = CurrentUser(ctx, l.DB)
	}
	if l.logged == nil {
		l.logged = map[string]bool{}
	}
	var gone, back []string
	for _, t := range Tables {
		_, missing := c.Missing[t.Name]
		switch {
		case missing && !l.logged[t.Name]:
			l.logged[t.Name] = true
			gone = append(gone, t.Name)
		case !missing && l.logged[t.Name]:
			delete(l.logged, t.Name)
			back = append(back, t.Name)
		}
	}
	if len(gone) == len(Tables) {
		l.Logger.Warn("FreePBX configuration: no table readable; celbridge works from celbridge.toml only (celbridge check prints the GRANT lines; on plain Asterisk set [freepbx] read = false)",
			"database", l.Schema, "user", l.user, "reason", c.Missing[gone[0]])
	} else if len(gone) > 0 {
		l.Logger.Warn("FreePBX configuration: tables not readable, their part is off (celbridge check prints the GRANT lines)",
			"database", l.Schema, "tables", strings.Join(gone, ","), "user", l.user)
	}
	if len(back) > 0 {
		l.Logger.Info("FreePBX configuration: tables readable again", "database", l.Schema, "tables", strings.Join(back, ","))
	}
	if l.last == nil || l.last.Summary() != c.Summary() {
		l.Logger.Info("FreePBX configuration read", "database", l.Schema, "found", c.Summary())
	}
	l.last = c
	return c, nil
}

// CurrentUser is the account the server knows this connection as ("celbridge@localhost"), or
// "celbridge@localhost" when it cannot say.
func CurrentUser(ctx context.Context, db *sql.DB) string {
	var u string
	if err := db.QueryRowContext(ctx, "SELECT CURRENT_USER()").Scan(&u); err != nil || u == "" {
		return "celbridge@localhost"
	}
	return u
}
