// Package pollertest is the poller's behaviour over a CEL table as one suite of tests: it
// runs against poller's in-memory table, source and store (no database), and against a real
// MariaDB table read by freepbx.CEL with the real store, so that the double cannot drift from
// what the poller meets in production. The cases are DESIGN §2's guarantees about ids that
// commit out of order (gaps), restarts and catching up.
package pollertest

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/celbridge/celbridge"
	"github.com/celbridge/celbridge/internal/clitest"
	"github.com/celbridge/celbridge/internal/testdb"
	"github.com/celbridge/celbridge/mapper"
	"github.com/celbridge/celbridge/poller"
)

// Table is the CEL table as a test writes it: rows committed at once, or inside a
// transaction that commits (or rolls back) later. An id of 0 lets the table number the row,
// as AUTO_INCREMENT does: at insert time, whether or not the transaction commits.
type Table interface {
	Insert(t *testing.T, rows ...celbridge.CELRow)
	Begin(t *testing.T) Tx
}

// Tx is a transaction on the Table, open until Commit or Rollback.
type Tx interface {
	Insert(t *testing.T, rows ...celbridge.CELRow)
	Commit() error
	Rollback() error
}

// Store is the poller's store, plus what the tests read back.
type Store interface {
	poller.Store
	poller.MetaStore
	// Requests returns the events stored for the call with linkedid, in delivery order.
	Requests(t *testing.T, linkedid string) []celbridge.Event
	// Keys returns the idempotency keys of every stored event, sorted.
	Keys(t *testing.T) []string
}

// Env is one empty CEL table, the source that reads it and an empty store.
type Env struct {
	Table  Table
	Source poller.Source
	Store  Store
}

// Factory returns a fresh Env for one subtest; it closes what it opened with t.Cleanup.
type Factory func(t *testing.T) Env

// Run runs the whole suite against the Envs of newEnv.
func Run(t *testing.T, newEnv Factory) {
	for _, c := range []struct {
		name string
		run  func(*testing.T, Factory)
	}{
		{"LateRowFillsGap", lateRowFillsGap},
		{"GapSurvivesRestart", gapSurvivesRestart},
		{"GapNeverFills", gapNeverFills},
		{"LateRowMidCall", lateRowMidCall},
		{"SpacedIDs", spacedIDs},
		{"OldGapFreshProcess", oldGapFreshProcess},
		{"FirstStartWarns", firstStartWarns},
		{"InternalErrorCountedApart", internalErrorCountedApart},
		{"CatchUp", catchUp},
	} {
		t.Run(c.name, func(t *testing.T) { c.run(t, newEnv) })
	}
}

// GapTimeout is the pollers' poll.gap_timeout in the suite.
const GapTimeout = 10 * time.Second

// Start is the fake clock's start; Calls moves the rows' eventtime there, so that they are
// live rows (the hold-back applies only to rows written less than GapTimeout ago).
var Start = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

// clockErrors are how far this host's clock is from the rows' eventtime in the gap tests: in
// step, a mysql.timezone 3 hours off either way (or a PBX clock that is wrong): a gap is timed
// on this host's clock from the moment it was first missed, whatever the rows' dates.
var clockErrors = []time.Duration{0, 3 * time.Hour, -3 * time.Hour}

// Calls returns the rows of two real calls from the FreePBX capture, scenarios 1 and 2
// (inbound to 801, answered; the mapper's golden cases s01 and s01b), in id order, dated
// from Start, with their ids cleared so that inserting them numbers them as Asterisk's
// inserts would be.
func Calls(t *testing.T) (x, y []celbridge.CELRow) {
	t.Helper()
	// mapper's golden test reads these files with a loader like this one; it cannot use this
	// package (pollertest imports mapper).
	read := func(name string) []celbridge.CELRow {
		path := filepath.Join(testdb.ModuleRoot(t), "mapper", "testdata", name, "input.json")
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var rows []celbridge.CELRow
		if err := json.Unmarshal(b, &rows); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		return rows
	}
	x, y = read("s01-in-answered-customer-hangup"), read("s01b-in-answered-agent-hangup")
	shift := Start.Sub(x[0].EventTime)
	for _, rows := range [][]celbridge.CELRow{x, y} {
		for i := range rows {
			rows[i].ID = 0
			rows[i].EventTime = rows[i].EventTime.Add(shift).UTC()
		}
	}
	return x, y
}

// rig is a poller over an Env with a settable clock and a log to read.
type rig struct {
	Env
	log *clitest.Buffer
	now time.Time
}

func newRig(t *testing.T, newEnv Factory, off time.Duration) *rig {
	t.Helper()
	return &rig{Env: newEnv(t), log: &clitest.Buffer{}, now: Start.Add(off)}
}

// poller returns a fresh poller (a new process: empty mapper, state from the store only).
func (r *rig) poller() *poller.Poller {
	return &poller.Poller{
		Source:     r.Source,
		Store:      r.Store,
		Mapper:     mapper.New(mapper.DefaultConfig()),
		BatchSize:  5, // several batches per tick
		GapTimeout: GapTimeout,
		Logger:     slog.New(slog.NewTextHandler(r.log, nil)),
		Now:        func() time.Time { return r.now },
		Routine:    func(error) bool { return true },
	}
}

func tick(t *testing.T, p *poller.Poller) {
	t.Helper()
	if err := p.Tick(t.Context()); err != nil {
		t.Fatalf("Tick: %v", err)
	}
}

func (r *rig) checkpoint(t *testing.T) int64 {
	t.Helper()
	c, _, err := r.Store.Checkpoint(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// requests returns the CRM requests stored for the call with linkedid, in delivery order.
func (r *rig) requests(t *testing.T, linkedid string) []string {
	t.Helper()
	return Forms(r.Store.Requests(t, linkedid))
}

// Forms renders events as the form bodies the CRM receives (no companyID), in order.
func Forms(events []celbridge.Event) []string {
	var out []string
	for _, e := range events {
		out = append(out, celbridge.EncodeForm(e.Fields("")))
	}
	return out
}

// Want is what rows alone, in order, produce: the requests of the calls they hold.
func Want(rows []celbridge.CELRow) []string {
	return Forms(mapper.MapAll(mapper.DefaultConfig(), rows))
}

// openGap starts two transactions: the first inserts call x (lower ids), the second call y
// (higher ids) and commits; x's transaction is left open and returned.
func (r *rig) openGap(t *testing.T, x, y []celbridge.CELRow) Tx {
	t.Helper()
	txA := r.Table.Begin(t)
	t.Cleanup(func() { txA.Rollback() })
	txA.Insert(t, x...) // takes ids 1..len(x)
	txB := r.Table.Begin(t)
	txB.Insert(t, y...) // takes the ids after x's
	if err := txB.Commit(); err != nil {
		t.Fatal(err)
	}
	return txA
}

// lateRowFillsGap: the lower ids commit after the poller has read the higher ones.
// Mechanism under test: the gap wait (Poller.noteGap remembers the missing ids, fillGaps reads
// them again on every tick). Without it, call x's rows, CHAN_START included, lie below the
// cursor when they commit and the call is never sent.
func lateRowFillsGap(t *testing.T, newEnv Factory) {
	x, y := Calls(t)
	for _, off := range clockErrors {
		t.Run("clock"+off.String(), func(t *testing.T) {
			r := newRig(t, newEnv, off)
			p := r.poller()
			tick(t, p) // first start on an empty table: cursor 0

			txA := r.openGap(t, x, y)
			tick(t, p) // sees y, misses x's ids: holds y back
			r.now = r.now.Add(time.Second)
			tick(t, p) // x still missing at the next poll: y is fed, the gap waited for
			if got := r.requests(t, y[0].LinkedID); len(got) == 0 {
				t.Fatalf("call y was not processed while x's rows were in flight")
			}
			if c := r.checkpoint(t); c != 0 {
				t.Errorf("checkpoint with ids 1..%d missing = %d, want 0 (restart before the gap)", len(x), c)
			}
			r.now = r.now.Add(GapTimeout / 2)
			tick(t, p) // still missing
			if err := txA.Commit(); err != nil {
				t.Fatal(err)
			}
			r.now = r.now.Add(GapTimeout/2 - 3*time.Second) // still within the timeout
			tick(t, p)

			if d := cmp.Diff(Want(x), r.requests(t, x[0].LinkedID)); d != "" {
				t.Errorf("call committed late (-want +got):\n%s", d)
			}
			if d := cmp.Diff(Want(y), r.requests(t, y[0].LinkedID)); d != "" {
				t.Errorf("call committed first (-want +got):\n%s", d)
			}
			if n := p.Stats().GapsGivenUp.Load(); n != 0 {
				t.Errorf("GapsGivenUp = %d, want 0", n)
			}
			if c, end := r.checkpoint(t), int64(len(x)+len(y)); c != end {
				t.Errorf("checkpoint after the gap filled = %d, want %d", c, end)
			}
		})
	}
}

// gapSurvivesRestart: the process dies while the gap is open; the lower ids commit before it
// restarts. Mechanism under test: the restart point (Poller.restartPoint keeps the checkpoint
// below the first unresolved gap). Without it the checkpoint moves past the gap and the
// restarted poller never reads call x; with it, y's events are derived again but not stored
// twice.
func gapSurvivesRestart(t *testing.T, newEnv Factory) {
	x, y := Calls(t)
	r := newRig(t, newEnv, 0)
	tick(t, r.poller())
	txA := r.openGap(t, x, y)
	p := r.poller()
	tick(t, p)
	r.now = r.now.Add(2 * time.Second)
	tick(t, p) // this process feeds y at the next poll, misses x, and dies
	yBefore := r.requests(t, y[0].LinkedID)
	if err := txA.Commit(); err != nil {
		t.Fatal(err)
	}
	r.now = r.now.Add(time.Second)
	p = r.poller() // restarted
	tick(t, p)
	if d := cmp.Diff(Want(x), r.requests(t, x[0].LinkedID)); d != "" {
		t.Errorf("call committed late, across a restart (-want +got):\n%s", d)
	}
	if d := cmp.Diff(yBefore, r.requests(t, y[0].LinkedID)); d != "" {
		t.Errorf("call y changed by the replay after restart (-before +after):\n%s", d)
	}
}

// gapNeverFills: the lower ids' transaction rolls back. Mechanism under test: the gap timeout
// (Poller.giveUpGaps). Without it the checkpoint stays below the hole forever and every
// restart re-reads from there; with it the gap is given up once GapTimeout passed, counted in
// Stats.GapsGivenUp and logged in one line.
func gapNeverFills(t *testing.T, newEnv Factory) {
	x, y := Calls(t)
	r := newRig(t, newEnv, 0)
	p := r.poller()
	tick(t, p)
	txA := r.openGap(t, x, y)
	tick(t, p)
	if err := txA.Rollback(); err != nil {
		t.Fatal(err)
	}
	r.now = r.now.Add(GapTimeout - time.Second)
	tick(t, p)
	if n, c := p.Stats().GapsGivenUp.Load(), r.checkpoint(t); n != 0 || c != 0 {
		t.Fatalf("before the timeout: GapsGivenUp = %d, checkpoint = %d; want 0, 0", n, c)
	}
	r.now = r.now.Add(time.Second)
	for range 3 {
		tick(t, p)
		r.now = r.now.Add(GapTimeout)
	}
	if n := p.Stats().GapsGivenUp.Load(); n != int64(len(x)) {
		t.Errorf("GapsGivenUp = %d, want %d (the rolled-back ids)", n, len(x))
	}
	if c, end := r.checkpoint(t), int64(len(x)+len(y)); c != end {
		t.Errorf("checkpoint after giving up = %d, want %d", c, end)
	}
	if n := strings.Count(r.log.String(), "gave up waiting for missing CEL ids"); n != 1 {
		t.Errorf("the given-up gap was logged %d times, want once:\n%s", n, r.log)
	}
	if got := r.requests(t, x[0].LinkedID); len(got) != 0 {
		t.Errorf("rolled-back call produced %q", got)
	}
	if d := cmp.Diff(Want(y), r.requests(t, y[0].LinkedID)); d != "" {
		t.Errorf("call y (-want +got):\n%s", d)
	}
}

// lateRowMidCall: one row in the middle of a call commits a moment after the rows that follow
// it (another connection's transaction). The mapper rebuilds a call only from its rows in id
// order: fed late, the origin's CHAN_START would lose the whole call, the phone's CHAN_START
// the receivedTheCall's internalNumber, the BRIDGE_ENTER the answer. Mechanism under test: the
// hold-back (Poller.holdBack: rows first seen after a new gap are left to the next poll, which
// sees the late row in order). Without it these calls come out wrong.
func lateRowMidCall(t *testing.T, newEnv Factory) {
	x, _ := Calls(t)
	for i := range x {
		x[i].ID = int64(i + 1)
	}
	for _, late := range []int{0, 1, 5} {
		for _, off := range clockErrors {
			t.Run(x[late].EventType+"_"+x[late].ChanName+"/clock"+off.String(), func(t *testing.T) {
				r := newRig(t, newEnv, off)
				p := r.poller()
				tick(t, p)
				txA := r.Table.Begin(t)
				defer txA.Rollback()
				txA.Insert(t, x[late])
				txB := r.Table.Begin(t)
				txB.Insert(t, slices.Concat(x[:late], x[late+1:])...)
				if err := txB.Commit(); err != nil {
					t.Fatal(err)
				}
				tick(t, p) // row late+1 is missing
				if err := txA.Commit(); err != nil {
					t.Fatal(err)
				}
				r.now = r.now.Add(500 * time.Millisecond)
				tick(t, p)
				r.now = r.now.Add(time.Minute)
				tick(t, p)
				if d := cmp.Diff(Want(x), r.requests(t, x[0].LinkedID)); d != "" {
					t.Errorf("row %d (%s) committed late (-want +got):\n%s", late+1, x[late].EventType, d)
				}
			})
		}
	}
}

// spacedIDs: every other id is missing, as with auto_increment_increment = 2 (multi-primary
// replication). The hold-back costs one poll per new batch, not one poll per gap: rows seen
// by an earlier poll are fed whatever is missing before them.
func spacedIDs(t *testing.T, newEnv Factory) {
	x, y := Calls(t)
	rows := slices.Concat(x, y)
	for i := range rows {
		rows[i].ID = int64(2*i + 1)
	}
	r := newRig(t, newEnv, 0)
	p := r.poller() // 5 rows per batch
	tick(t, p)
	r.Table.Insert(t, rows...)
	polls := 2 * ((len(rows) + 4) / 5) // each batch: seen by one poll, fed by the next
	for range polls {
		r.now = r.now.Add(time.Second)
		tick(t, p)
	}
	if d := cmp.Diff(Want(x), r.requests(t, x[0].LinkedID)); d != "" {
		t.Errorf("call x after %d polls (-want +got):\n%s", polls, d)
	}
	if d := cmp.Diff(Want(y), r.requests(t, y[0].LinkedID)); d != "" {
		t.Errorf("call y after %d polls (-want +got):\n%s", polls, d)
	}
}

// oldGapFreshProcess: `once` from cron is a new process each time. A permanent gap (a
// rolled-back insert) in rows that are old by this host's clock, or that look old because
// mysql.timezone is hours off, is timed from the moment this host first missed it, and that
// moment is kept in the store: the first run holds the rows after the gap, the next run (a
// minute later) feeds them and gives the gap up. Without the store's record every run was a
// first sight and held at the gap for ever; dating the gap by its rows instead gave it up at
// once, which loses a row that commits a moment late when the zone is off.
func oldGapFreshProcess(t *testing.T, newEnv Factory) {
	x, y := Calls(t)
	rows := slices.Concat(x, y)
	for i := range rows {
		rows[i].ID = int64(i + 1)
		if i >= len(x) {
			rows[i].ID++ // the id after call x was rolled back
		}
	}
	for _, off := range []time.Duration{time.Hour, 3 * time.Hour, -3 * time.Hour} {
		t.Run("clock"+off.String(), func(t *testing.T) {
			r := newRig(t, newEnv, off)
			tick(t, r.poller()) // first start: empty table, cursor 0
			r.Table.Insert(t, rows...)
			tick(t, r.poller()) // one `once` run
			if d := cmp.Diff(Want(x), r.requests(t, x[0].LinkedID)); d != "" {
				t.Errorf("call x (-want +got):\n%s", d)
			}
			r.now = r.now.Add(time.Minute)
			tick(t, r.poller()) // the next run, a new process
			if d := cmp.Diff(Want(y), r.requests(t, y[0].LinkedID)); d != "" {
				t.Errorf("call y after the gap (-want +got):\n%s", d)
			}
			if cursor := r.checkpoint(t); cursor != rows[len(rows)-1].ID {
				t.Errorf("checkpoint = %d, want %d: the given-up gap must not pin it", cursor, rows[len(rows)-1].ID)
			}
			if !strings.Contains(r.log.String(), "waited=1m0s") {
				t.Errorf("the log does not say the gap was waited for a minute:\n%s", r.log)
			}
		})
	}
}

// firstStartWarns: a first start on a CEL table that has rows logs a WARNING (a lost store
// looks exactly like a first install); on an empty table it is routine.
func firstStartWarns(t *testing.T, newEnv Factory) {
	r := newRig(t, newEnv, 0)
	tick(t, r.poller())
	if strings.Contains(r.log.String(), "level=WARN") {
		t.Errorf("first start on an empty table warned:\n%s", r.log)
	}
	x, _ := Calls(t)
	r2 := newRig(t, newEnv, 0)
	r2.Table.Insert(t, x...)
	tick(t, r2.poller())
	if !strings.Contains(r2.log.String(), "level=WARN") || !strings.Contains(r2.log.String(), "backfill") {
		t.Errorf("first start on a table with rows did not warn about backfill:\n%s", r2.log)
	}
}

// buggyMapper is the real mapper, except that it fails on one row as the real one does when
// it panics: a warning wrapping celbridge.ErrInternal.
type buggyMapper struct {
	*mapper.Mapper
	bad int64
}

func (b buggyMapper) Feed(r celbridge.CELRow) ([]celbridge.Event, error) {
	if r.ID == b.bad {
		return nil, fmt.Errorf("%w: row %d: panic at call.go:1; row skipped", celbridge.ErrInternal, r.ID)
	}
	return b.Mapper.Feed(r)
}

// internalErrorCountedApart: a bug of the mapper is logged as an error with the row id and
// counted in InternalErrors, not among malformed rows; the poll goes on.
func internalErrorCountedApart(t *testing.T, newEnv Factory) {
	r := newRig(t, newEnv, 0)
	x, y := Calls(t)
	p := r.poller()
	p.Mapper = buggyMapper{mapper.New(mapper.DefaultConfig()), 3}
	tick(t, p) // the first start begins at the newest row: an empty table
	r.Table.Insert(t, slices.Concat(x, y)...)
	tick(t, p)
	st := p.Stats()
	if st.InternalErrors.Load() != 1 || st.BadRows.Load() != 0 {
		t.Errorf("internal errors %d, bad rows %d; want 1 and 0", st.InternalErrors.Load(), st.BadRows.Load())
	}
	if st.RowsRead.Load() != int64(len(x)+len(y)) {
		t.Errorf("read %d rows, want all %d", st.RowsRead.Load(), len(x)+len(y))
	}
	var line string
	for l := range strings.SplitSeq(r.log.String(), "\n") {
		if strings.Contains(l, "internal error") {
			line = l
		}
	}
	if !strings.Contains(line, "level=ERROR") || !strings.Contains(line, "cel_id=3") {
		t.Errorf("log line %q: want an ERROR naming cel_id=3", line)
	}
}

// countingStore counts the poller's commits.
type countingStore struct {
	Store
	commits int
}

func (s *countingStore) Commit(ctx context.Context, cursor int64, events []celbridge.Event) (int, error) {
	s.commits++
	return s.Store.Commit(ctx, cursor, events)
}

// catchUp: a poller far behind (a daemon started again after a stop) reads the backlog in
// batches but commits them together, and stores what a poller reading it in one batch
// stores, with the same checkpoint.
func catchUp(t *testing.T, newEnv Factory) {
	x, y := Calls(t)
	var rows []celbridge.CELRow
	for n := range 15 { // 390 rows: 15 copies of the two calls, each with its own linkedid
		for _, r := range slices.Concat(x, y) {
			r.LinkedID += fmt.Sprint(n)
			r.UniqueID += fmt.Sprint(n)
			r.EventTime = r.EventTime.Add(time.Duration(n) * time.Minute)
			rows = append(rows, r)
		}
	}
	run := func(batch int) (commits int, keys []string, cursor int64) {
		env := newEnv(t)
		env.Table.Insert(t, rows...)
		if _, err := env.Store.Commit(t.Context(), 0, nil); err != nil { // stopped at the table's start
			t.Fatal(err)
		}
		cs := &countingStore{Store: env.Store}
		p := &poller.Poller{Source: env.Source, Store: cs, Mapper: mapper.New(mapper.DefaultConfig()), BatchSize: batch,
			Now: func() time.Time { return Start.Add(time.Hour) }, Routine: func(error) bool { return true }}
		if err := p.Tick(t.Context()); err != nil {
			t.Fatal(err)
		}
		cursor, _, err := env.Store.Checkpoint(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return cs.commits, env.Store.Keys(t), cursor
	}
	commits, got, cursor := run(5) // 78 batches
	if commits > 2 {
		t.Errorf("the backlog of %d rows in batches of 5 took %d commits, want them grouped", len(rows), commits)
	}
	_, wantKeys, wantCursor := run(1000)
	if !slices.Equal(got, wantKeys) || len(wantKeys) == 0 {
		t.Errorf("in batches of 5 the catch-up stored %d events, in one batch %d:\ngot  %v\nwant %v", len(got), len(wantKeys), got, wantKeys)
	}
	if cursor != wantCursor || cursor != int64(len(rows)) {
		t.Errorf("checkpoint after the catch-up = %d, in one batch %d, want %d", cursor, wantCursor, len(rows))
	}
}
