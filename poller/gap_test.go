package poller_test

import (
	"bytes"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jmoiron/sqlx"

	"github.com/celbridge/celbridge"
	"github.com/celbridge/celbridge/internal/testdb"
	"github.com/celbridge/celbridge/mapper"
	"github.com/celbridge/celbridge/poller"
	"github.com/celbridge/celbridge/store"
)

// Guarantee 1 of issue 4 (DESIGN §2): a CEL row whose id is below the cursor but that commits
// after a higher id (two concurrent transactions) is still processed when it commits within
// poll.gap_timeout, and a gap that never fills is given up after the timeout, logged once and
// counted. These tests use real concurrent transactions on the test MariaDB, the real
// MySQLSource with the SELECT-only user, the real store and the real mapper, and a fake clock.

const gapTimeout = 10 * time.Second

// rigStart is the fake clock's start; capture moves the rows' eventtime there, so that they
// are live rows (the hold-back applies only to rows written less than gapTimeout ago).
var rigStart = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

// capture returns the rows of two real calls from the FreePBX capture: scenario 1 and 2
// (inbound to 801, answered), in id order, with their ids cleared so that inserting them lets
// AUTO_INCREMENT number them as Asterisk's inserts would be.
func capture(t *testing.T) (x, y []celbridge.CELRow) {
	t.Helper()
	staging := testdb.New(t)
	staging.LoadSQL(t, "testdata/freepbx-cel/cel.sql")
	src, err := poller.OpenMySQL(t.Context(), staging.ReaderDSN, "cel", time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	rows, err := src.ReadAfter(t.Context(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	shift := rigStart.Sub(rows[0].EventTime) // live rows: written when the rig's clock starts
	for _, r := range rows {
		r.ID = 0
		r.EventTime = r.EventTime.Add(shift)
		switch r.LinkedID {
		case "1795652928.0":
			x = append(x, r)
		case "1795652939.2":
			y = append(y, r)
		}
	}
	if len(x) == 0 || len(y) == 0 {
		t.Fatalf("capture lacks scenario 1 or 2 (%d, %d rows)", len(x), len(y))
	}
	return x, y
}

// insertTx inserts rows into cel inside tx, as one multi-row INSERT; an id of 0 lets
// AUTO_INCREMENT pick it.
func insertTx(t *testing.T, tx *sqlx.Tx, rows []celbridge.CELRow) {
	t.Helper()
	q := "INSERT INTO cel (id, eventtype, eventtime, cid_name, cid_num, cid_ani, cid_rdnis, cid_dnid, exten, context, " +
		"channame, appname, appdata, amaflags, accountcode, uniqueid, linkedid, peer, userdeftype, extra) VALUES "
	var args []any
	for i, r := range rows {
		if i > 0 {
			q += ","
		}
		q += "(?,?,?,?,?,?,?,?,?,?,?,?,?,3,?,?,?,?,?,?)"
		args = append(args, r.ID, r.EventType, r.EventTime.Format(time.DateTime), r.CIDName, r.CIDNum, r.CIDANI,
			r.CIDRDNIS, r.CIDDNID, r.Exten, r.Context, r.ChanName, r.AppName, r.AppData, r.AccountCode,
			r.UniqueID, r.LinkedID, r.Peer, r.UserDefType, r.Extra)
	}
	if _, err := tx.ExecContext(t.Context(), q, args...); err != nil {
		t.Fatalf("insert %d rows in a transaction: %v", len(rows), err)
	}
}

// lockedBuffer is a log sink safe for the poller's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// gapRig is a poller over a real MariaDB table and a real store, with a settable clock.
type gapRig struct {
	db    *testdb.DB
	src   *poller.MySQLSource
	store *store.DB
	log   *lockedBuffer
	now   time.Time
}

func newGapRig(t *testing.T) *gapRig { return newGapRigAt(t, 0) }

// clockErrors are how far this host's clock is from the rows' eventtime in the gap tests: in
// step, a mysql.timezone 3 hours off either way (or a PBX clock that is wrong): a gap is timed
// on this host's clock from the moment it was first missed, whatever the rows' dates.
var clockErrors = []time.Duration{0, 3 * time.Hour, -3 * time.Hour}

// newGapRigAt is newGapRig with the host's clock off the rows' eventtime by off.
func newGapRigAt(t *testing.T, off time.Duration) *gapRig {
	t.Helper()
	r := &gapRig{db: testdb.New(t), log: &lockedBuffer{}, now: rigStart.Add(off)}
	var err error
	if r.src, err = poller.OpenMySQL(t.Context(), r.db.ReaderDSN, "cel", time.UTC); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.src.Close() })
	if r.store, err = store.Open(t.Context(), filepath.Join(t.TempDir(), "state.db")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.store.Close() })
	return r
}

// poller returns a fresh poller (a new process: empty mapper, state from the store only).
func (r *gapRig) poller() *poller.Poller {
	return &poller.Poller{
		Source:     r.src,
		Store:      r.store,
		Mapper:     mapper.New(mapper.DefaultConfig()),
		BatchSize:  5, // several batches per tick
		GapTimeout: gapTimeout,
		Logger:     slog.New(slog.NewTextHandler(r.log, nil)),
		Now:        func() time.Time { return r.now },
		Routine:    func(err error) bool { return true },
	}
}

func tick(t *testing.T, p *poller.Poller) {
	t.Helper()
	if err := p.Tick(t.Context()); err != nil {
		t.Fatalf("Tick: %v", err)
	}
}

func (r *gapRig) checkpoint(t *testing.T) int64 {
	t.Helper()
	c, _, err := r.store.Checkpoint(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// requests returns the CRM requests stored for the call with linkedid, in delivery order.
func (r *gapRig) requests(t *testing.T, linkedid string) []string {
	t.Helper()
	_, entries, err := r.store.Call(t.Context(), linkedid)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		out = append(out, celbridge.EncodeForm(e.Event.Fields("")))
	}
	return out
}

// want is what a call's rows alone, in order, produce.
func want(rows []celbridge.CELRow) []string {
	var out []string
	for _, e := range mapper.MapAll(mapper.DefaultConfig(), rows) {
		out = append(out, celbridge.EncodeForm(e.Fields("")))
	}
	return out
}

// openGap starts two transactions: the first inserts call x (lower ids), the second call y
// (higher ids) and commits; x's transaction is left open and returned.
func (r *gapRig) openGap(t *testing.T, x, y []celbridge.CELRow) *sqlx.Tx {
	t.Helper()
	txA, err := r.db.Admin.BeginTxx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { txA.Rollback() })
	insertTx(t, txA, x) // takes ids 1..len(x)
	txB, err := r.db.Admin.BeginTxx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	insertTx(t, txB, y) // takes the ids after x's
	if err := txB.Commit(); err != nil {
		t.Fatal(err)
	}
	return txA
}

// TestPoller_LateRowFillsGap: the lower ids commit after the poller has read the higher ones.
// Mechanism under test: the gap wait (Poller.noteGap remembers the missing ids, fillGaps reads
// them again on every tick). Without it, call x's rows, CHAN_START included, lie below the
// cursor when they commit and the call is never sent.
func TestPoller_LateRowFillsGap(t *testing.T) {
	x, y := capture(t)
	for _, off := range clockErrors {
		t.Run("clock"+off.String(), func(t *testing.T) { lateRowFillsGap(t, x, y, off) })
	}
}

func lateRowFillsGap(t *testing.T, x, y []celbridge.CELRow, off time.Duration) {
	r := newGapRigAt(t, off)
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
	r.now = r.now.Add(gapTimeout / 2)
	tick(t, p) // still missing
	if err := txA.Commit(); err != nil {
		t.Fatal(err)
	}
	r.now = r.now.Add(gapTimeout/2 - 3*time.Second) // still within the timeout
	tick(t, p)

	if d := cmp.Diff(want(x), r.requests(t, x[0].LinkedID)); d != "" {
		t.Errorf("call committed late (-want +got):\n%s", d)
	}
	if d := cmp.Diff(want(y), r.requests(t, y[0].LinkedID)); d != "" {
		t.Errorf("call committed first (-want +got):\n%s", d)
	}
	if n := p.Stats().GapsGivenUp.Load(); n != 0 {
		t.Errorf("GapsGivenUp = %d, want 0", n)
	}
	if c, end := r.checkpoint(t), int64(len(x)+len(y)); c != end {
		t.Errorf("checkpoint after the gap filled = %d, want %d", c, end)
	}
}

// TestPoller_GapSurvivesRestart: the process dies while the gap is open; the lower ids commit
// before it restarts. Mechanism under test: the restart point (Poller.restartPoint keeps the
// checkpoint below the first unresolved gap). Without it the checkpoint moves past the gap and
// the restarted poller never reads call x; with it, y's events are derived again but not
// stored twice.
func TestPoller_GapSurvivesRestart(t *testing.T) {
	x, y := capture(t)
	r := newGapRig(t)
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
	if d := cmp.Diff(want(x), r.requests(t, x[0].LinkedID)); d != "" {
		t.Errorf("call committed late, across a restart (-want +got):\n%s", d)
	}
	if d := cmp.Diff(yBefore, r.requests(t, y[0].LinkedID)); d != "" {
		t.Errorf("call y changed by the replay after restart (-before +after):\n%s", d)
	}
}

// TestPoller_GapNeverFills: the lower ids' transaction rolls back. Mechanism under test: the
// gap timeout (Poller.giveUpGaps). Without it the checkpoint stays below the hole forever and
// every restart re-reads from there; with it the gap is given up once GapTimeout passed,
// counted in Stats.GapsGivenUp and logged in one line.
func TestPoller_GapNeverFills(t *testing.T) {
	x, y := capture(t)
	r := newGapRig(t)
	p := r.poller()
	tick(t, p)
	txA := r.openGap(t, x, y)
	tick(t, p)
	if err := txA.Rollback(); err != nil {
		t.Fatal(err)
	}
	r.now = r.now.Add(gapTimeout - time.Second)
	tick(t, p)
	if n, c := p.Stats().GapsGivenUp.Load(), r.checkpoint(t); n != 0 || c != 0 {
		t.Fatalf("before the timeout: GapsGivenUp = %d, checkpoint = %d; want 0, 0", n, c)
	}
	r.now = r.now.Add(time.Second)
	for range 3 {
		tick(t, p)
		r.now = r.now.Add(gapTimeout)
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
	if d := cmp.Diff(want(y), r.requests(t, y[0].LinkedID)); d != "" {
		t.Errorf("call y (-want +got):\n%s", d)
	}
}

// TestPoller_LateRowMidCall: one row in the middle of a call commits a moment after the rows
// that follow it (another connection's transaction). The mapper rebuilds a call only from
// its rows in id order: fed late, the origin's CHAN_START would lose the whole call, the
// phone's CHAN_START the receivedTheCall's internalNumber, the BRIDGE_ENTER the answer.
// Mechanism under test: the hold-back (Poller.holdBack: rows first seen after a new gap are
// left to the next poll, which sees the late row in order). Without it these calls come out
// wrong.
func TestPoller_LateRowMidCall(t *testing.T) {
	x, _ := capture(t)
	for i := range x {
		x[i].ID = int64(i + 1)
	}
	for _, late := range []int{0, 1, 5} {
		for _, off := range clockErrors {
			t.Run(x[late].EventType+"_"+x[late].ChanName+"/clock"+off.String(), func(t *testing.T) {
				lateRowMidCall(t, x, late, off)
			})
		}
	}
}

func lateRowMidCall(t *testing.T, x []celbridge.CELRow, late int, off time.Duration) {
	{
		{
			r := newGapRigAt(t, off)
			p := r.poller()
			tick(t, p)
			txA, err := r.db.Admin.BeginTxx(t.Context(), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer txA.Rollback()
			insertTx(t, txA, x[late:late+1])
			txB, err := r.db.Admin.BeginTxx(t.Context(), nil)
			if err != nil {
				t.Fatal(err)
			}
			insertTx(t, txB, append(append([]celbridge.CELRow(nil), x[:late]...), x[late+1:]...))
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
			if d := cmp.Diff(want(x), r.requests(t, x[0].LinkedID)); d != "" {
				t.Errorf("row %d (%s) committed late (-want +got):\n%s", late+1, x[late].EventType, d)
			}
		}
	}
}

// TestPoller_SpacedIDs: every other id is missing, as with auto_increment_increment = 2
// (multi-primary replication). The hold-back costs one poll per new batch, not one poll per
// gap: rows seen by an earlier poll are fed whatever is missing before them.
func TestPoller_SpacedIDs(t *testing.T) {
	x, y := capture(t)
	rows := append(append([]celbridge.CELRow(nil), x...), y...)
	for i := range rows {
		rows[i].ID = int64(2*i + 1)
	}
	r := newGapRig(t)
	p := r.poller() // 5 rows per batch
	tick(t, p)
	r.db.Insert(t, rows...)
	polls := 2 * ((len(rows) + 4) / 5) // each batch: seen by one poll, fed by the next
	for range polls {
		r.now = r.now.Add(time.Second)
		tick(t, p)
	}
	if d := cmp.Diff(want(x), r.requests(t, x[0].LinkedID)); d != "" {
		t.Errorf("call x after %d polls (-want +got):\n%s", polls, d)
	}
	if d := cmp.Diff(want(y), r.requests(t, y[0].LinkedID)); d != "" {
		t.Errorf("call y after %d polls (-want +got):\n%s", polls, d)
	}
}

// TestPoller_OldGapFreshProcess: `once` from cron is a new process each time. A permanent
// gap (a rolled-back insert) in rows that are old by this host's clock, or that look old
// because mysql.timezone is hours off, is timed from the moment this host first missed it,
// and that moment is kept in the store: the first run holds the rows after the gap, the next
// run (a minute later) feeds them and gives the gap up. Without the store's record every run
// was a first sight and held at the gap for ever; dating the gap by its rows instead gave it
// up at once, which loses a row that commits a moment late when the zone is off.
func TestPoller_OldGapFreshProcess(t *testing.T) {
	x, y := capture(t)
	rows := append(append([]celbridge.CELRow(nil), x...), y...)
	for i := range rows {
		rows[i].ID = int64(i + 1)
		if i >= len(x) {
			rows[i].ID++ // the id after call x was rolled back
		}
	}
	for _, off := range []time.Duration{time.Hour, 3 * time.Hour, -3 * time.Hour} {
		t.Run("clock"+off.String(), func(t *testing.T) {
			r := newGapRigAt(t, off)
			tick(t, r.poller()) // first start: empty table, cursor 0
			r.db.Insert(t, rows...)
			tick(t, r.poller()) // one `once` run
			if d := cmp.Diff(want(x), r.requests(t, x[0].LinkedID)); d != "" {
				t.Errorf("call x (-want +got):\n%s", d)
			}
			r.now = r.now.Add(time.Minute)
			tick(t, r.poller()) // the next run, a new process
			if d := cmp.Diff(want(y), r.requests(t, y[0].LinkedID)); d != "" {
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

// TestPoller_FirstStartWarns: a first start on a CEL table that has rows logs a WARNING (a lost
// store looks exactly like a first install); on an empty table it is routine.
func TestPoller_FirstStartWarns(t *testing.T) {
	r := newGapRig(t)
	tick(t, r.poller())
	if strings.Contains(r.log.String(), "level=WARN") {
		t.Errorf("first start on an empty table warned:\n%s", r.log)
	}
	x, _ := capture(t)
	r2 := newGapRig(t)
	r2.db.Insert(t, x...)
	tick(t, r2.poller())
	if !strings.Contains(r2.log.String(), "level=WARN") || !strings.Contains(r2.log.String(), "backfill") {
		t.Errorf("first start on a table with rows did not warn about backfill:\n%s", r2.log)
	}
}
