// Package poller reads FreePBX's CEL table by id cursor and drives one cycle: read the new
// rows, rebuild calls with the mapper, and commit the events together with the cursor.
package poller

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync/atomic"
	"time"

	"github.com/celbridge/celbridge"
	"github.com/celbridge/celbridge/internal/clock"
)

// Source reads CEL rows by primary key. *freepbx.CEL implements it. Its errors say what
// was read ("read cel after id 42: …"); the Poller and Backfill return them as they are.
type Source interface {
	ReadAfter(ctx context.Context, afterID int64, limit int) ([]celbridge.CELRow, error)
	ReadIDs(ctx context.Context, ids []int64) ([]celbridge.CELRow, error)
	MaxID(ctx context.Context) (int64, error)
}

// Store keeps the restart point and the outbox. *store.DB implements it. Its errors say what
// failed ("commit cursor 42 with 3 events: …"); the Poller returns them as they are.
type Store interface {
	Checkpoint(ctx context.Context) (cursor int64, ok bool, err error)
	Commit(ctx context.Context, cursor int64, events []celbridge.Event) (added int, err error)
}

// Mapper rebuilds calls from rows, on CEL time. *mapper.Mapper implements it.
type Mapper interface {
	Feed(row celbridge.CELRow) ([]celbridge.Event, error)
	// Expire moves the mapper's clock to the poller's estimate of CEL time (celClock) when no
	// row did; Clock is the mapper's clock and Deadline the CEL time at which Expire next
	// decides something.
	Expire(now time.Time) []celbridge.Event
	Clock() time.Time
	Deadline() (at time.Time, ok bool)
	OldestOpen() (id int64, ok bool)
	OpenCalls() int
}

// catchUpEvents is how many events of full batches the poller gathers before it commits them
// when it is behind (after a stop).
const catchUpEvents = 2048

// maxTrackedGap is the widest run of missing ids the poller waits for. A wider hole (an
// auto-increment jump, rows deleted by hand) cannot be a few transactions in flight.
const maxTrackedGap = 1000

// Poller reads new CEL rows after the cursor, feeds them to the mapper and commits the
// events with the new cursor in one store transaction. Set the exported fields, then call
// Run or Tick; a Poller is not safe for concurrent Ticks (Run never overlaps them).
type Poller struct {
	Source     Source
	Store      Store
	Mapper     Mapper
	BatchSize  int           // rows per query; default 1000
	GapTimeout time.Duration // how long a missing id is waited for; default 10s
	Notify     func()        // called after a commit that added events (wakes the dispatcher)
	Logger     *slog.Logger
	Now        func() time.Time
	// OnTick, when set, is called after every poll with its duration and outcome (metrics).
	OnTick func(took time.Duration, err error)
	// Routine, when set, marks mapper warnings that are expected in normal operation (rows of
	// calls that started before the poller did); they are logged at debug level only.
	Routine func(error) bool

	started     bool
	high        int64               // highest CEL id fed to the mapper
	gaps        map[int64]time.Time // missing ids below high, with when this host first missed them
	saved       string              // gaps as last saved in the store (gaps.go)
	clock       celClock            // host time <-> CEL time
	uncommitted []celbridge.Event   // events read but not yet committed (a backlog, a failed commit); committed first
	cursor      int64               // last committed cursor

	seen int64 // highest CEL id read by any poll (holdBack)

	stats Stats
}

// Stats are the poller's counters since start; read them with Poller.Stats.
type Stats struct {
	RowsRead, BadRows, GapsGivenUp, EventsAdded atomic.Int64
	// InternalErrors counts rows the mapper skipped for a bug of its own (celbridge.ErrInternal).
	InternalErrors          atomic.Int64
	Cursor, High, OpenCalls atomic.Int64
	LastOK                  atomic.Int64 // unix ms of the last successful Tick
	LastRowTime             atomic.Int64 // unix ms of the newest CEL row's eventtime
}

// Stats returns the poller's live counters.
func (p *Poller) Stats() *Stats { return &p.stats }

// failureLogEvery is how often failing polls are logged while they keep failing.
const failureLogEvery = 30 * time.Second

// Run polls at every tick of s until ctx is cancelled. Polls never overlap: the next one is
// computed after the current one finished. A failed poll is tried again at the next tick.
// The first failure is logged at once, then at most one line every failureLogEvery while
// polls keep failing, with the newest error and how many polls failed since the last line:
// during an outage the errors' texts differ (addresses, "refused" then "timeout"), so they
// are not told apart by text.
func (p *Poller) Run(ctx context.Context, s Schedule) error {
	failing, failed := false, 0 // failed: polls failed since the last line logged
	var lastLogged time.Time
	for {
		began := p.now()
		err := p.Tick(ctx)
		if p.OnTick != nil && ctx.Err() == nil {
			p.OnTick(p.now().Sub(began), err)
		}
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			failed++
			if !failing || p.now().Sub(lastLogged) >= failureLogEvery {
				p.logger().Error("poll failed; trying again at the next tick", "err", err, "failed_polls", failed)
				failing, failed, lastLogged = true, 0, p.now()
			}
		case failing:
			p.logger().Info("poll works again")
			failing, failed = false, 0
		}
		t := time.NewTimer(p.untilNext(s))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// minWake is the shortest wait before a poll that the mapper's Deadline asks for.
const minWake = 10 * time.Millisecond

// untilNext is the wait before the next poll: the schedule's, or less when the mapper has
// something to decide on CEL time before then (a held ring burst, a call to close) and no
// row may come to tell it the time.
func (p *Poller) untilNext(s Schedule) time.Duration {
	now := p.now()
	d := s.Next(now).Sub(now)
	if at, ok := p.Mapper.Deadline(); ok {
		if h, ok := p.clock.host(at); ok {
			d = min(d, max(h.Sub(now), minWake))
		}
	}
	return d
}

// Tick runs one poll: late rows that fill gaps, then every new row in batches, then the calls
// that ended without LINKEDID_END. The events are committed with their cursor at the end of
// the poll, and while it reads a backlog every catchUpEvents events.
func (p *Poller) Tick(ctx context.Context) error {
	if err := p.start(ctx); err != nil {
		return err
	}
	if err := p.commit(ctx, nil); err != nil { // whatever failed to commit last time
		return err
	}
	if err := p.fillGaps(ctx); err != nil {
		return err
	}
	seenBefore := p.seen
	for {
		rows, err := p.Source.ReadAfter(ctx, p.high, p.batchSize())
		if err != nil {
			return err // already says "read cel after id N"
		}
		if len(rows) > 0 {
			p.seen = max(p.seen, rows[len(rows)-1].ID)
		}
		var events []celbridge.Event
		held := false
		clockBefore := p.Mapper.Clock()
		newest := newestTime(rows)
		for _, r := range rows {
			if r.ID <= p.high {
				continue
			}
			if p.holdBack(r, newest, seenBefore) {
				p.noteGap(p.high+1, r.ID-1) // timed from now, in this process and the next
				held = true
				break
			}
			p.noteGap(p.high+1, r.ID-1)
			p.high = r.ID
			events = append(events, p.feed(r)...)
		}
		if c := p.Mapper.Clock(); c.After(clockBefore) {
			p.clock.observe(p.now(), c)
		}
		if held || len(rows) < p.batchSize() {
			p.giveUpGaps()
			events = append(events, p.expire()...)
			if err := p.commit(ctx, events); err != nil {
				return err
			}
			break
		}
		// A backlog (a full batch, more to read): the events wait for the next batches, so that
		// one transaction (one fsync) carries many batches while catching up. What is read
		// is committed at the end of the poll anyway.
		p.uncommitted = append(p.uncommitted, events...)
		if len(p.uncommitted) >= catchUpEvents {
			if err := p.commit(ctx, nil); err != nil {
				return err
			}
		}
	}
	p.stats.LastOK.Store(p.now().UnixMilli())
	return nil
}

// start loads the checkpoint once. An empty store starts at the newest CEL row, so a first
// start does not push history (backfill does that on purpose).
func (p *Poller) start(ctx context.Context) error {
	if p.started {
		return nil
	}
	cursor, ok, err := p.Store.Checkpoint(ctx)
	if err != nil {
		return fmt.Errorf("load checkpoint: %w", err)
	}
	if !ok {
		if cursor, err = p.Source.MaxID(ctx); err != nil {
			return fmt.Errorf("find newest cel id: %w", err)
		}
		if _, err := p.Store.Commit(ctx, cursor, nil); err != nil {
			return fmt.Errorf("save first checkpoint: %w", err)
		}
		if cursor > 0 {
			// Nothing tells a first install from a store that was lost or deleted: say so
			// loudly. status shows the first start too.
			p.logger().Warn("first start (the store has no checkpoint): beginning at the newest CEL row; calls before it are not sent. "+
				"If celbridge ran here before, its store was lost: send the missing calls with celbridge backfill -from <when it stopped>", "cursor", cursor)
		} else {
			p.logger().Info("first start: the CEL table is empty; beginning at its start")
		}
	}
	p.high, p.cursor, p.started = cursor, cursor, true
	if err := p.loadGaps(ctx, cursor); err != nil {
		return err
	}
	p.stats.Cursor.Store(cursor)
	p.stats.High.Store(cursor)
	return nil
}

func (p *Poller) feed(r celbridge.CELRow) []celbridge.Event {
	p.stats.RowsRead.Add(1)
	if !r.EventTime.IsZero() && r.EventTime.UnixMilli() > p.stats.LastRowTime.Load() {
		p.stats.LastRowTime.Store(r.EventTime.UnixMilli())
	}
	events, warn := p.Mapper.Feed(r)
	switch {
	case warn == nil:
	case errors.Is(warn, celbridge.ErrInternal):
		p.stats.InternalErrors.Add(1)
		p.logger().Error("mapper internal error; CEL row skipped", "cel_id", r.ID, "err", warn)
	case p.Routine != nil && p.Routine(warn):
		p.logger().Debug("CEL row skipped", "cel_id", r.ID, "err", warn)
	default:
		p.stats.BadRows.Add(1)
		p.logger().Warn("malformed CEL row; processed with what is known", "cel_id", r.ID, "err", warn)
	}
	return events
}

// fillGaps reads the ids still missing below high; rows that committed late are fed now.
func (p *Poller) fillGaps(ctx context.Context) error {
	if len(p.gaps) == 0 {
		return nil
	}
	ids := make([]int64, 0, len(p.gaps))
	for id := range p.gaps {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	rows, err := p.Source.ReadIDs(ctx, ids)
	if err != nil {
		return fmt.Errorf("read %d late cel ids from %d: %w", len(ids), ids[0], err)
	}
	var events []celbridge.Event
	for _, r := range rows {
		if _, missing := p.gaps[r.ID]; missing {
			delete(p.gaps, r.ID)
			events = append(events, p.feed(r)...)
		}
	}
	return p.commit(ctx, events)
}

// commit stores events (and any left from a failed commit) with the current restart point.
func (p *Poller) commit(ctx context.Context, events []celbridge.Event) error {
	p.uncommitted = append(p.uncommitted, events...)
	cursor := p.restartPoint()
	if len(p.uncommitted) == 0 && cursor == p.cursor {
		p.saveGaps(ctx)
		return nil
	}
	added, err := p.Store.Commit(ctx, cursor, p.uncommitted)
	if err != nil {
		return err // already says "commit cursor N with M events"
	}
	p.uncommitted, p.cursor = nil, cursor
	p.saveGaps(ctx)
	p.stats.Cursor.Store(cursor)
	p.stats.High.Store(p.high)
	p.stats.OpenCalls.Store(int64(p.Mapper.OpenCalls()))
	p.stats.EventsAdded.Add(int64(added))
	if added > 0 && p.Notify != nil {
		p.Notify()
	}
	return nil
}

// restartPoint is DESIGN §4's checkpoint: min(first id of any open call, first unresolved
// gap) - 1, or the highest id read. Re-reading from it rebuilds every open call; events
// already in the outbox are not enqueued twice.
func (p *Poller) restartPoint() int64 {
	c := p.high
	for id := range p.gaps {
		c = min(c, id-1)
	}
	if id, ok := p.Mapper.OldestOpen(); ok {
		c = min(c, id-1)
	}
	return max(c, 0)
}

// expire hands the mapper the estimate of CEL time now, for what no row decides on a quiet
// line.
func (p *Poller) expire() []celbridge.Event {
	now, ok := p.clock.now(p.now())
	if !ok {
		return nil
	}
	return p.Mapper.Expire(now)
}

func (p *Poller) batchSize() int {
	if p.BatchSize > 0 {
		return p.BatchSize
	}
	return 1000
}

func (p *Poller) gapTimeout() time.Duration {
	if p.GapTimeout > 0 {
		return p.GapTimeout
	}
	return 10 * time.Second
}

func (p *Poller) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return clock.Now()
}

func (p *Poller) logger() *slog.Logger {
	if p.Logger != nil {
		return p.Logger
	}
	return slog.Default()
}
