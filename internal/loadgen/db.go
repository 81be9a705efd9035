package loadgen

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/celbridge/celbridge"
)

// Execer is what Insert needs of a database handle (*sql.DB, *sqlx.DB, *sql.Conn, *sql.Tx).
type Execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// celInsertColumns are the columns Insert writes (FreePBX's cel, internal/celschema).
const celInsertColumns = "(`id`,`eventtype`,`eventtime`,`cid_name`,`cid_num`,`cid_ani`,`cid_rdnis`," +
	"`cid_dnid`,`exten`,`context`,`channame`,`appname`,`appdata`,`amaflags`,`accountcode`," +
	"`uniqueid`,`linkedid`,`peer`,`userdeftype`,`extra`)"

// maxStatementBytes bounds one INSERT statement (MariaDB's max_allowed_packet is 16 MiB by
// default; 1 MiB statements are as fast and safe everywhere).
const maxStatementBytes = 1 << 20

// Insert writes rows into table (a quoted or plain table name such as "cel") with their ids,
// in multi-row INSERT statements built as literals (no placeholders: one round trip per
// statement, no prepare). eventtime is written as its wall clock in its own location;
// amaflags is 3 (DOCUMENTATION) as Asterisk writes it. The server must not run with
// NO_BACKSLASH_ESCAPES.
func Insert(ctx context.Context, db Execer, table string, rows []celbridge.CELRow) error {
	if !strings.HasPrefix(table, "`") {
		table = quoteTable(table)
	}
	head := "INSERT INTO " + table + " " + celInsertColumns + " VALUES "
	b := make([]byte, 0, 64<<10)
	for len(rows) > 0 {
		b = append(b[:0], head...)
		n := 0
		for n < len(rows) && (n == 0 || len(b) < maxStatementBytes) {
			if n > 0 {
				b = append(b, ',')
			}
			b = appendRow(b, &rows[n])
			n++
		}
		if _, err := db.ExecContext(ctx, string(b)); err != nil {
			return fmt.Errorf("insert %d cel rows from id %d: %w", n, rows[0].ID, err)
		}
		rows = rows[n:]
	}
	return nil
}

func quoteTable(t string) string {
	parts := strings.Split(t, ".")
	for i, p := range parts {
		parts[i] = "`" + strings.ReplaceAll(p, "`", "``") + "`"
	}
	return strings.Join(parts, ".")
}

func appendRow(b []byte, r *celbridge.CELRow) []byte {
	b = append(b, '(')
	b = strconv.AppendInt(b, r.ID, 10)
	b = append(b, ',')
	b = appendString(b, r.EventType)
	b = append(b, ',', '\'')
	if r.EventTime.IsZero() {
		b = append(b, "0000-00-00 00:00:00"...)
	} else {
		b = r.EventTime.AppendFormat(b, time.DateTime)
	}
	b = append(b, '\'')
	for i, p := range textPtrs(r) {
		b = append(b, ',')
		if i == 10 { // amaflags sits between appdata and accountcode
			b = append(b, '3', ',')
		}
		b = appendString(b, *p)
	}
	return append(b, ')')
}

// appendString appends s as a MySQL string literal.
func appendString(b []byte, s string) []byte {
	b = append(b, '\'')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case 0:
			b = append(b, '\\', '0')
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case 0x1a:
			b = append(b, '\\', 'Z')
		case '\'', '"', '\\':
			b = append(b, '\\', c)
		default:
			b = append(b, c)
		}
	}
	return append(b, '\'')
}

// Live inserts calls into table at real-time pacing: calls start at callsPerSecond (Poisson)
// for duration, each burst of rows is inserted (one INSERT) when its time comes, and Live
// returns once every started call has its last row inserted. The stream's clock starts now
// (eventtimes are current, in the location of WithStart's time, UTC by default). onInsert,
// when set, is called for each row with the time its INSERT returned (the row is then
// committed and visible). Live must be the generator's first use.
func (g *Generator) Live(ctx context.Context, db Execer, table string, callsPerSecond float64, duration time.Duration,
	onInsert func(row celbridge.CELRow, at time.Time)) error {
	if g.calls > 0 {
		return fmt.Errorf("loadgen: Live on a generator already used")
	}
	g.rate = callsPerSecond
	g.start = time.Now().In(g.start.Location())
	g.nextArrival = g.interarrival()
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	for {
		if g.nextArrival > duration {
			g.Stop()
		}
		b, ok := g.Next()
		if !ok {
			return nil
		}
		if wait := time.Until(b.At); wait > 0 {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-timer.C:
			}
		}
		if err := Insert(ctx, db, table, b.Rows); err != nil {
			return err
		}
		if onInsert != nil {
			at := time.Now()
			for _, r := range b.Rows {
				onInsert(r, at)
			}
		}
	}
}
