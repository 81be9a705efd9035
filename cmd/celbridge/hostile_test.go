package main

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/celbridge/celbridge"
	"github.com/celbridge/celbridge/internal/testdb"
	"github.com/celbridge/celbridge/mapper"
)

// TestOnce_HostileRows (issue 15.1, 15.3): the real capture through MariaDB in many small
// polls, with a call whose linkedid has no digits (it stopped all delivery: the store refused
// its empty generalCallID on every poll) and a call whose CHAN_START is dated 2099 (it pinned
// the restart point) or 1970 (its answer and hangup were dropped). Every call is delivered
// in order, the poison call under its fallback id, the odd dates with the calls' real
// requests.
func TestOnce_HostileRows(t *testing.T) {
	staging := testdb.New(t)
	loadCapture(t, staging)
	rows := realRows(t, staging)
	want := expected(t, rows)
	first := rows[0].LinkedID // scenario 1's call: poison linkedid
	var second string         // the next call: a 2099 CHAN_START
	for _, r := range rows {
		if r.LinkedID != first && r.UniqueID == r.LinkedID && r.EventType == "CHAN_START" {
			second = r.LinkedID
			break
		}
	}
	var third string // and the one after: 1970
	for _, r := range rows {
		if r.LinkedID != first && r.LinkedID != second && r.UniqueID == r.LinkedID && r.EventType == "CHAN_START" {
			third = r.LinkedID
			break
		}
	}
	poison := "abc.def"
	for i := range rows {
		r := &rows[i]
		if r.LinkedID == first {
			if r.UniqueID == first {
				r.UniqueID = poison
			}
			r.LinkedID = poison
		}
		if r.UniqueID == r.LinkedID && r.EventType == "CHAN_START" {
			switch r.LinkedID {
			case second:
				r.EventTime = time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)
			case third:
				r.EventTime = time.Unix(0, 0).UTC()
			}
		}
	}
	oldID, newID := celbridge.DigitsOnly(first), mapper.GeneralCallID(poison, mapper.CallIDDigits)
	for _, body := range want[oldID] {
		want[newID] = append(want[newID], strings.ReplaceAll(body, "generalCallID="+oldID, "generalCallID="+newID))
	}
	delete(want, oldID)

	b := newSite(t, opts{})
	if code, _, stderr := b.run(t, t.Context(), "once"); code != 0 {
		t.Fatalf("first once: exit %d\n%s", code, stderr)
	}
	var log strings.Builder
	for from := 0; from < len(rows); from += 17 {
		b.db.Insert(t, rows[from:min(from+17, len(rows))]...)
		code, _, stderr := b.run(t, t.Context(), "once")
		log.WriteString(stderr)
		if code != 0 {
			t.Fatalf("once after row %d: exit %d\n%s", from, code, stderr)
		}
	}
	if d := cmp.Diff(want, perCall(b.crm.received())); d != "" {
		t.Errorf("requests with hostile rows (-want +got):\n%s", d)
	}
	for _, s := range []string{"2099-01-01 00:00:00", "is not a date"} {
		if !strings.Contains(log.String(), s) {
			t.Errorf("the log does not report %q", s)
		}
	}
}
