package loadgen

import (
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/celbridge/celbridge"
	"github.com/celbridge/celbridge/mapper"
)

// collect runs a generator to the end and returns its rows and calls.
func collect(t *testing.T, seed int64, n int64, opts ...Option) ([]celbridge.CELRow, []*Call, *Generator) {
	t.Helper()
	var calls []*Call
	opts = append(opts, OnCallDone(func(c *Call) { calls = append(calls, c) }))
	g := New(seed, opts...)
	var rows []celbridge.CELRow
	for batch := range g.Bulk(n, 500) {
		rows = append(rows, batch...)
	}
	slices.SortFunc(calls, func(a, b *Call) int { return a.Seq - b.Seq })
	return rows, calls, g
}

func TestScenariosLoad(t *testing.T) {
	all, err := loadScenarios()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) < 15 {
		t.Fatalf("%d scenarios embedded, want the mapper's testdata (20)", len(all))
	}
	for _, s := range all {
		if len(s.linkedIDs) == 0 {
			t.Errorf("%s: no linkedid found", s.name)
		}
		// A clone must change every identifier: no uniqueid of the source survives.
		for _, r := range s.source {
			for _, tk := range s.tokens {
				if tk.kind == tokUniqueID && tk.value == r.UniqueID {
					goto found
				}
			}
			t.Errorf("%s row %d: uniqueid %q is not templated", s.name, r.ID, r.UniqueID)
		found:
		}
	}
}

func TestDeterministic(t *testing.T) {
	a, _, _ := collect(t, 7, 3000)
	b, _, _ := collect(t, 7, 3000)
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("same seed, different streams:\n%s", cmp.Diff(a, b))
	}
	c, _, _ := collect(t, 8, 3000)
	if reflect.DeepEqual(a, c) {
		t.Fatal("seeds 7 and 8 gave the same stream")
	}
	if len(a) < 3000 {
		t.Fatalf("Bulk(3000) gave %d rows", len(a))
	}
}

var (
	uniqueIDForm = regexp.MustCompile(`^[0-9]{10}\.[0-9]+$`)
	chanSuffix   = regexp.MustCompile(`-[0-9a-f]{8}(;[12])?$`)
	bridgeID     = regexp.MustCompile(`"bridge_id":"([^"]+)"`)
)

func TestIDsUnique(t *testing.T) {
	rows, calls, _ := collect(t, 1, 20000, WithFirstID(100))
	for i, r := range rows {
		if r.ID != int64(100+i) {
			t.Fatalf("row %d has id %d, want %d (contiguous from WithFirstID)", i, r.ID, 100+i)
		}
	}
	owner := map[string]int{} // identifier -> call seq
	claim := func(kind, v string, call int) {
		key := kind + " " + v
		if o, ok := owner[key]; ok && o != call {
			t.Errorf("%s %q used by calls %d and %d", kind, v, o, call)
		}
		owner[key] = call
	}
	total := 0
	for _, c := range calls {
		total += len(c.Rows)
		for _, r := range c.Rows {
			if !uniqueIDForm.MatchString(r.UniqueID) || !uniqueIDForm.MatchString(r.LinkedID) {
				t.Fatalf("call %d row %d: uniqueid %q / linkedid %q not <epoch>.<counter>", c.Seq, r.ID, r.UniqueID, r.LinkedID)
			}
			claim("uniqueid", r.UniqueID, c.Seq)
			claim("linkedid", r.LinkedID, c.Seq)
			if r.ChanName != "" {
				if !chanSuffix.MatchString(r.ChanName) {
					t.Fatalf("call %d row %d: channel %q lacks a -%%08x suffix", c.Seq, r.ID, r.ChanName)
				}
				claim("channel", strings.TrimSuffix(strings.TrimSuffix(r.ChanName, ";1"), ";2"), c.Seq)
			}
			if m := bridgeID.FindStringSubmatch(r.Extra); m != nil {
				claim("bridge", m[1], c.Seq)
			}
			// The linkedid's epoch is the call's first eventtime, as Asterisk makes it.
		}
	}
	if total != len(rows) {
		t.Fatalf("calls hold %d rows, the stream %d", total, len(rows))
	}
}

func TestInterleaved(t *testing.T) {
	_, calls, g := collect(t, 3, 5000, WithRate(5))
	split := 0
	for _, c := range calls {
		first, last := c.Rows[0].ID, c.Rows[len(c.Rows)-1].ID
		if last-first+1 > int64(len(c.Rows)) {
			split++
		}
		if !slices.IsSortedFunc(c.Rows, func(a, b celbridge.CELRow) int { return int(a.ID - b.ID) }) {
			t.Fatalf("call %d: rows out of order", c.Seq)
		}
	}
	if split < len(calls)/2 {
		t.Errorf("only %d of %d calls have other calls' rows between theirs", split, len(calls))
	}
	if g.PeakOpen() < 5 {
		t.Errorf("at most %d calls open at once at 5 calls/s", g.PeakOpen())
	}
}

// TestRelativeTiming: a clone keeps its source's eventtime offsets, and the stream's
// eventtimes never go back by more than the sub-second a burst waits for its second.
func TestRelativeTiming(t *testing.T) {
	_, calls, _ := collect(t, 4, 3000)
	byName := map[string]*scenario{}
	all, _ := loadScenarios()
	for _, s := range all {
		byName[s.name] = s
	}
	for _, c := range calls {
		s := byName[c.Scenario]
		for i, r := range c.Rows {
			if got, want := r.EventTime.Sub(c.Rows[0].EventTime), s.source[i].EventTime.Sub(s.source[0].EventTime); got != want {
				t.Fatalf("call %d (%s) row %d: offset %v, want %v", c.Seq, c.Scenario, i, got, want)
			}
			if r.EventType != s.source[i].EventType {
				t.Fatalf("call %d row %d: %s, want %s", c.Seq, i, r.EventType, s.source[i].EventType)
			}
		}
	}
}

// normalize rewrites events so a clone's and its source's compare equal: call ids become
// the index of the call's linkedid, CEL ids the row's index in the call, times offsets
// from the call's first row.
func normalize(evs []celbridge.Event, rows []celbridge.CELRow, linkedIDs []string) []celbridge.Event {
	idx := map[int64]int64{}
	for i, r := range rows {
		idx[r.ID] = int64(i)
	}
	out := slices.Clone(evs)
	for i := range out {
		e := &out[i]
		k := slices.Index(linkedIDs, e.LinkedID)
		e.GeneralCallID = strings.ReplaceAll(e.GeneralCallID, digits(e.LinkedID), fmt.Sprint("call", k))
		e.LinkedID = fmt.Sprint("call", k)
		e.CELID, e.FirstCELID = idx[e.CELID], idx[e.FirstCELID]
		e.Time = time.Time{}.Add(e.Time.Sub(rows[0].EventTime))
		e.CallStart = time.Time{}.Add(e.CallStart.Sub(rows[0].EventTime))
		e.Rule = ruleIDs.ReplaceAllString(e.Rule, "#")
	}
	return out
}

// ruleIDs are what a clone changes in an event's Rule text: CEL ids, channel suffixes,
// uniqueids.
var ruleIDs = regexp.MustCompile(`row [0-9]+|-[0-9a-f]{8}\b|\b[0-9]{10}\.[0-9]+\b`)

func digits(s string) string { return strings.ReplaceAll(s, ".", "") }

func TestExpectedMatchesSource(t *testing.T) {
	cfg := MapperConfig()
	_, calls, _ := collect(t, 5, 10000, WithRate(3))
	all, _ := loadScenarios()
	byName := map[string]*scenario{}
	for _, s := range all {
		byName[s.name] = s
	}
	seen := map[string]bool{}
	for _, c := range calls {
		s := byName[c.Scenario]
		src := make([]string, len(s.linkedIDs))
		for i, k := range s.linkedIDs {
			src[i] = s.tokens[k].value
		}
		want := normalize(mapper.MapAll(cfg, s.source), s.source, src)
		got := normalize(c.Expected(cfg), c.Rows, c.LinkedIDs)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("call %d (%s): events differ from the source's (-source +clone):\n%s", c.Seq, c.Scenario, diff)
		}
		if len(want) > 0 {
			seen[c.Scenario] = true
		}
	}
	if len(seen) < len(all)-1 { // s10-internal-sent may send nothing with the default config
		t.Errorf("only %d scenarios produced events: %v", len(seen), seen)
	}
}

// TestStreamMatchesPerCall: the mapper over the interleaved stream (fed in id order, with
// Expire after each batch as a backfill does) sends exactly the union of the calls' own
// expected events.
func TestStreamMatchesPerCall(t *testing.T) {
	cfg := MapperConfig()
	var want []celbridge.Event
	g := New(6, WithRate(8), OnCallDone(func(c *Call) { want = append(want, c.Expected(cfg)...) }))
	m := mapper.New(cfg)
	var got []celbridge.Event
	for batch := range g.Bulk(20000, 1000) {
		var last time.Time
		for _, r := range batch {
			e, _ := m.Feed(r)
			got = append(got, e...)
			if r.EventTime.After(last) {
				last = r.EventTime
			}
		}
		got = append(got, m.Expire(last)...)
	}
	got = append(got, m.Flush()...)
	key := func(a, b celbridge.Event) int { return strings.Compare(a.IdempotencyKey(), b.IdempotencyKey()) }
	slices.SortFunc(want, key)
	slices.SortFunc(got, key)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("interleaved stream's events differ from the calls' own (-per call +stream):\n%s", diff)
	}
	if len(want) < 1000 {
		t.Fatalf("only %d events", len(want))
	}
}

func TestMaxCallsAndOpen(t *testing.T) {
	g := New(9, WithRate(100000), WithMaxCalls(2000))
	rows := 0
	for {
		b, ok := g.Next()
		if !ok {
			break
		}
		rows += len(b.Rows)
	}
	if g.Calls() != 2000 {
		t.Fatalf("%d calls, want 2000", g.Calls())
	}
	if g.PeakOpen() != 2000 {
		t.Fatalf("peak %d calls open at once, want all 2000 (they start within 20ms)", g.PeakOpen())
	}
}

func TestInsertLiteral(t *testing.T) {
	r := celbridge.CELRow{ID: 5, EventType: "HANGUP", EventTime: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		CIDName: "O'Brien \\ \"x\"\n", AccountCode: "acc", Extra: `{"a":1}`}
	got := string(appendRow(nil, &r))
	want := `(5,'HANGUP','2026-01-02 03:04:05','O\'Brien \\ \"x\"\n','','','','','','','','','',3,'acc','','','','','{\"a\":1}')`
	if got != want {
		t.Fatalf("literal\n got %s\nwant %s", got, want)
	}
}
