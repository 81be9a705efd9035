package mapper

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/celbridge/celbridge"
)

// perCallText groups events by call, each call's events in order, with the deciding rows and
// rule: two runs agree when every call got the same requests decided by the same rows.
func perCallText(evs []celbridge.Event) map[string]string {
	m := map[string]string{}
	for _, e := range evs {
		m[e.LinkedID] += eventText(e, true)
	}
	return m
}

// straightRun feeds every row, then lets CEL time run past end_grace and flushes: MapAll with
// that Expire before the Flush, as the poller orders them.
func straightRun(cfg Config, rows []celbridge.CELRow) []celbridge.Event {
	m := New(cfg)
	evs := m.feedAll(rows)
	if len(rows) > 0 {
		evs = append(evs, m.Expire(rows[len(rows)-1].EventTime.Add(cfg.EndGrace))...)
	}
	return append(evs, m.Flush()...)
}

// batchedRun cuts rows into random batches and calls Expire after each at a random moment of
// CEL time up to the next row's eventtime (what a live poller's estimate can be: never past
// the rows still to come), sometimes twice, sometimes with a time in the past.
func batchedRun(cfg Config, rows []celbridge.CELRow, rnd *rand.Rand) []celbridge.Event {
	m := New(cfg)
	var evs []celbridge.Event
	for i := 0; i < len(rows); {
		n := 1 + rnd.IntN(8)
		for ; n > 0 && i < len(rows); n-- {
			e, _ := m.Feed(rows[i])
			evs = append(evs, e...)
			i++
		}
		for k := rnd.IntN(3); k > 0; k-- {
			from := m.Clock()
			if from.IsZero() {
				from = rows[i-1].EventTime
			}
			to := rows[len(rows)-1].EventTime.Add(cfg.EndGrace)
			if i < len(rows) {
				to = rows[i].EventTime
			}
			at := from.Add(-time.Second) // a stale estimate
			if span := to.Sub(from); span > 0 && rnd.IntN(4) > 0 {
				at = from.Add(time.Duration(rnd.Int64N(int64(span) + 1)))
			}
			evs = append(evs, m.Expire(at)...)
		}
	}
	if len(rows) > 0 {
		evs = append(evs, m.Expire(rows[len(rows)-1].EventTime.Add(cfg.EndGrace))...)
	}
	return append(evs, m.Flush()...)
}

// TestGoldenAnyBatches: for every golden case, the rows cut into random batches with Expire
// called at random moments between them give exactly the requests of one straight run: the
// mapper decides on CEL time only.
func TestGoldenAnyBatches(t *testing.T) {
	dirs, _ := filepath.Glob("testdata/*/input.json")
	if len(dirs) == 0 {
		t.Fatal("no golden cases")
	}
	for _, in := range dirs {
		dir := filepath.Dir(in)
		cfg := loadCaseConfig(t, dir)
		rows := loadRows(t, in)
		want := perCallText(straightRun(cfg, rows))
		for seed := range uint64(20) {
			got := perCallText(batchedRun(cfg, rows, rand.New(rand.NewPCG(seed, 7))))
			for id, w := range want {
				if got[id] != w {
					t.Errorf("%s seed %d call %s (-straight +batched):\n%s", filepath.Base(dir), seed, id, lineDiff(w, got[id]))
				}
			}
			for id := range got {
				if _, ok := want[id]; !ok {
					t.Errorf("%s seed %d: batched run made requests for call %s, the straight run none", filepath.Base(dir), seed, id)
				}
			}
		}
	}
}

// TestGoldenRowsReadLate: the same rows read days, or 400 days, after they were written map
// to the same requests: nothing in the mapper looks at this host's clock.
func TestGoldenRowsReadLate(t *testing.T) {
	dirs, _ := filepath.Glob("testdata/*/input.json")
	for _, in := range dirs {
		dir := filepath.Dir(in)
		cfg := loadCaseConfig(t, dir)
		rows := loadRows(t, in)
		want := perCallText(straightRun(cfg, rows))
		for _, shift := range []time.Duration{-400 * 24 * time.Hour, 3 * time.Hour, 400 * 24 * time.Hour} {
			moved := make([]celbridge.CELRow, len(rows))
			for i, r := range rows {
				r.EventTime = r.EventTime.Add(shift)
				moved[i] = r
			}
			got := perCallText(straightRun(cfg, moved))
			if fmt.Sprint(len(got)) != fmt.Sprint(len(want)) {
				t.Errorf("%s shifted %v: %d calls, want %d", filepath.Base(dir), shift, len(got), len(want))
			}
			for id, w := range want {
				if got[id] != w {
					t.Errorf("%s shifted %v call %s (-as written +shifted):\n%s", filepath.Base(dir), shift, id, lineDiff(w, got[id]))
				}
			}
		}
	}
}

// absurdRows is an answered incoming call (s01's real rows) with one row's eventtime replaced.
func absurdRows(t *testing.T, idx int, at time.Time) []celbridge.CELRow {
	t.Helper()
	rows := loadRows(t, filepath.Join("testdata", "s01-in-answered-customer-hangup", "input.json"))
	rows[idx].EventTime = at
	return rows
}

// TestAbsurdEventTime: one row dated 2099, 1970 or with no date, first among the call's
// rows or in its middle, neither closes the call early nor keeps it open: the call maps as
// it does with sane dates, and the odd row is reported.
func TestAbsurdEventTime(t *testing.T) {
	rows := loadRows(t, filepath.Join("testdata", "s01-in-answered-customer-hangup", "input.json"))
	want := formLines(straightRun(DefaultConfig(), rows))
	for _, tc := range []struct {
		name string
		at   time.Time
	}{
		{"2099", time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"1970", time.Unix(0, 0).UTC()},
		{"zero", time.Time{}},
		{"a year ago", rows[0].EventTime.AddDate(-1, 0, 0)},
	} {
		for _, idx := range []int{0, 1, len(rows) / 2} {
			t.Run(fmt.Sprintf("%s/row%d", tc.name, idx), func(t *testing.T) {
				m := New(DefaultConfig())
				var evs []celbridge.Event
				warned := false
				for _, r := range absurdRows(t, idx, tc.at) {
					e, warn := m.Feed(r)
					evs = append(evs, e...)
					if warn != nil {
						warned = true
					}
				}
				if m.OpenCalls() != 0 {
					t.Errorf("call still open after its LINKEDID_END")
				}
				if !m.Clock().Before(time.Date(2090, 1, 1, 0, 0, 0, 0, time.UTC)) {
					t.Errorf("clock moved to %v", m.Clock())
				}
				evs = append(evs, m.Flush()...)
				if got := formLines(evs); got != want {
					t.Errorf("requests (-sane +odd row):\n%s", lineDiff(want, got))
				}
				if !warned {
					t.Errorf("the odd eventtime was not reported")
				}
			})
		}
	}
}

// TestClockJumpAfterQuietDays: after a long weekend the first call is days ahead of the
// clock; its next row confirms the jump, so the call keeps its own times (an answered call's
// billsec is right and it is not closed as too old).
func TestClockJumpAfterQuietDays(t *testing.T) {
	first := loadRows(t, filepath.Join("testdata", "s02-in-caller-cancel", "input.json"))
	second := loadRows(t, filepath.Join("testdata", "s01-in-answered-customer-hangup", "input.json"))
	var rows []celbridge.CELRow
	rows = append(rows, first...)
	for _, r := range second {
		r.ID += 10000
		r.EventTime = r.EventTime.Add(60 * time.Hour)
		rows = append(rows, r)
	}
	want := formLines(straightRun(DefaultConfig(), first)) + formLines(straightRun(DefaultConfig(), second))
	m := New(DefaultConfig())
	var evs []celbridge.Event
	for _, r := range rows {
		e, warn := m.Feed(r)
		if warn != nil {
			t.Errorf("row %d: %v", r.ID, warn)
		}
		evs = append(evs, e...)
	}
	evs = append(evs, m.Flush()...)
	if got := formLines(evs); got != want {
		t.Errorf("requests (-each alone +after the jump):\n%s", lineDiff(want, got))
	}
}

// TestQuietJumpConfirmedByExpire: live, the poller's estimate of CEL time moves the clock
// through a quiet night, so the morning's first row is near the clock and is not held.
func TestQuietJumpConfirmedByExpire(t *testing.T) {
	rows := loadRows(t, filepath.Join("testdata", "s01-in-answered-customer-hangup", "input.json"))
	m := New(DefaultConfig())
	m.Feed(rows[0])
	m.Feed(rows[1]) // the clock is set
	later := rows[2]
	later.ID, later.LinkedID, later.UniqueID, later.EventType = 9999, "9.9", "9.9", "CHAN_START"
	later.EventTime = rows[1].EventTime.Add(48 * time.Hour)
	if evs, _ := m.Feed(later); len(evs) != 0 {
		t.Fatalf("a row 48h ahead decided %v at once", evs)
	}
	if id, _ := m.OldestOpen(); id != rows[0].ID {
		t.Fatalf("OldestOpen = %d", id)
	}
	// The estimate agrees with the held row: it is fed with its own time; the first call,
	// open since two days, is closed by max_call_age.
	evs := m.Expire(later.EventTime.Add(time.Second))
	if m.Clock() != later.EventTime.Add(time.Second) || m.OpenCalls() != 1 || len(evs) == 0 {
		t.Fatalf("after Expire: clock %v, open %d, events %v", m.Clock(), m.OpenCalls(), evs)
	}
}

// TestWideCallBounded: a linkedid with thousands of channels is tracked up to maxChannels,
// said once, and still answered and closed (speed: BenchmarkWideCall).
func TestWideCallBounded(t *testing.T) {
	m := New(DefaultConfig())
	var evs []celbridge.Event
	warnings := 0
	for _, r := range wideCallRows(2 * maxChannels) {
		e, warn := m.Feed(r)
		evs = append(evs, e...)
		if warn != nil {
			warnings++
		}
	}
	if warnings != 1 {
		t.Errorf("%d warnings, want one for the bound", warnings)
	}
	var types []string
	for _, e := range evs {
		types = append(types, e.RequestType)
	}
	if len(types) != 3 || types[0] != celbridge.Received || types[1] != celbridge.Answered || types[2] != celbridge.Hangup || m.OpenCalls() != 0 {
		t.Errorf("requests %v (open %d), want received, answered, hangup", types, m.OpenCalls())
	}
}
