package testdb

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	"github.com/celbridge/celbridge"
)

// insertBatch keeps a multi-row INSERT well under the 65535 placeholders of one statement.
const insertBatch = 1000

// Insert inserts rows into cel as root, with their own ids (an id of 0 lets AUTO_INCREMENT
// pick one). EventTime is written as its wall clock in its own location; the zero time is
// written as '0000-00-00 00:00:00', which FreePBX's schema accepts. amaflags is 3
// (DOCUMENTATION), as Asterisk writes it.
func (db *DB) Insert(t testing.TB, rows ...celbridge.CELRow) {
	t.Helper()
	db.InsertIn(t, db.Admin, rows...)
}

// Execer is what InsertIn writes with: the root connection or a transaction on it.
type Execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// InsertIn is Insert through ex, e.g. inside a transaction that commits later.
func (db *DB) InsertIn(t testing.TB, ex Execer, rows ...celbridge.CELRow) {
	t.Helper()
	cols := []string{"id", "eventtype", "eventtime", "cid_name", "cid_num", "cid_ani", "cid_rdnis",
		"cid_dnid", "exten", "context", "channame", "appname", "appdata", "amaflags", "accountcode",
		"uniqueid", "linkedid", "peer", "userdeftype", db.extraColumn}
	if db.extraColumn == "eventextra" {
		cols = append(cols, "peeraccount", "userfield")
	}
	tuple := "(" + strings.TrimSuffix(strings.Repeat("?,", len(cols)), ",") + ")"
	head := "INSERT INTO `cel` (`" + strings.Join(cols, "`,`") + "`) VALUES "

	for len(rows) > 0 {
		n := min(len(rows), insertBatch)
		tuples := make([]string, n)
		args := make([]any, 0, n*len(cols))
		for i, r := range rows[:n] {
			tuples[i] = tuple
			args = append(args, r.ID, r.EventType, eventTime(r.EventTime), r.CIDName, r.CIDNum,
				r.CIDANI, r.CIDRDNIS, r.CIDDNID, r.Exten, r.Context, r.ChanName, r.AppName,
				r.AppData, 3, r.AccountCode, r.UniqueID, r.LinkedID, r.Peer, r.UserDefType, r.Extra)
			if db.extraColumn == "eventextra" {
				args = append(args, "", "")
			}
		}
		if _, err := ex.ExecContext(context.Background(), head+strings.Join(tuples, ","), args...); err != nil {
			t.Fatalf("testdb: insert %d cel rows from id %d: %v", n, rows[0].ID, err)
		}
		rows = rows[n:]
	}
}

// eventTime formats t as a zone-less DATETIME literal, the way Asterisk writes eventtime.
func eventTime(t time.Time) string {
	if t.IsZero() {
		return "0000-00-00 00:00:00"
	}
	return t.Format(time.DateTime)
}
