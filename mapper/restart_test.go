package mapper

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/celbridge/celbridge"
)

// restartDiff simulates a crash after row k and a restart that replays from the checkpoint (oldest open
// call's first id - 1), deduplicating by (call, requestType, seq) like the outbox.
func restartDiff(cfg Config, rows []celbridge.CELRow) []string {
	key := func(e celbridge.Event) string { return fmt.Sprintf("%s/%s/%d", e.GeneralCallID, e.RequestType, e.Seq) }
	straight := map[string]string{}
	for _, e := range MapAll(cfg, rows) {
		if _, ok := straight[key(e)]; !ok {
			straight[key(e)] = eventText(e, false)
		}
	}
	var diffs []string
	for k := 1; k < len(rows); k++ {
		m := New(cfg)
		out := map[string]string{}
		add := func(evs []celbridge.Event) {
			for _, e := range evs {
				if _, ok := out[key(e)]; !ok {
					out[key(e)] = eventText(e, false)
				}
			}
		}
		for _, r := range rows[:k] {
			e, _ := m.Feed(r)
			add(e)
		}
		cp := rows[k-1].ID
		if id, ok := m.OldestOpen(); ok && id-1 < cp {
			cp = id - 1
		}
		m2 := New(cfg)
		for _, r := range rows {
			if r.ID > cp {
				e, _ := m2.Feed(r)
				add(e)
			}
		}
		add(m2.Flush())
		for kk, v := range straight {
			if out[kk] != v {
				diffs = append(diffs, fmt.Sprintf("crash after row %d: %s straight %q restarted %q", rows[k-1].ID, kk, v, out[kk]))
			}
		}
		for kk, v := range out {
			if _, ok := straight[kk]; !ok {
				diffs = append(diffs, fmt.Sprintf("crash after row %d: extra %s %q", rows[k-1].ID, kk, v))
			}
		}
	}
	return diffs
}

// TestGoldenRestartAnywhere: for every golden case (and with internal_calls on), a crash after
// any row and a replay from the checkpoint gives the same requests as one straight run.
func TestGoldenRestartAnywhere(t *testing.T) {
	dirs, _ := filepath.Glob("testdata/*/input.json")
	for _, in := range dirs {
		dir := filepath.Dir(in)
		cfg := loadCaseConfig(t, dir)
		for _, internal := range []bool{cfg.InternalCalls, true} {
			cfg.InternalCalls = internal
			for _, d := range restartDiff(cfg, loadRows(t, in)) {
				t.Errorf("%s internal=%v: %s", filepath.Base(dir), internal, d)
			}
		}
	}
}
