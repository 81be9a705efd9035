package poller

import (
	"context"
	"errors"

	"github.com/celbridge/celbridge"
)

// ErrStopped is returned by Backfill.Run when its context was cancelled before the range was
// read.
var ErrStopped = errors.New("stopped before the end of the range")

// RangeSource reads CEL rows by primary-key range. *freepbx.CEL implements it. Its errors
// say what was read ("read cel after id 42: …"); Run returns them as they are.
type RangeSource interface {
	ReadAfter(ctx context.Context, afterID int64, limit int) ([]celbridge.CELRow, error)
}

// RangeStreamer reads a whole id range with one query; *freepbx.CEL implements it. Backfill
// reads its range with it when its Source has it, and the rows after the range (of calls
// still open at its end) in batches.
type RangeStreamer interface {
	Stream(ctx context.Context, fromID, toID int64, chunk int, fn func([]celbridge.CELRow) error) error
}

// BackfillMapper is the mapper as Backfill uses it: past the range it follows the calls still
// open (OldestOpen: a call, or a row held for its eventtime) with the rows they Want, and Skip
// gives it the time of the other rows.
type BackfillMapper interface {
	Feed(row celbridge.CELRow) ([]celbridge.Event, error)
	Skip(row celbridge.CELRow) []celbridge.Event
	OldestOpen() (id int64, ok bool)
	Wants(row celbridge.CELRow) bool
}

// Backfill rebuilds the calls that started in a CEL id range and hands their events to Emit.
// It reads past ToID only for rows of calls still open at ToID, so a call that started in
// the range is complete and a call that started after it is left to the live poller. It
// never touches the live cursor.
type Backfill struct {
	Source    RangeSource
	Mapper    BackfillMapper
	BatchSize int
	FromID    int64 // first id of the range
	ToID      int64 // last id of the range
	// Emit receives the events of each batch in order; an error stops the backfill.
	Emit func(ctx context.Context, events []celbridge.Event) error
	// Progress, when set, is called after each batch with the last id read.
	Progress func(lastID int64)
	// Warn, when set, is told about each malformed row.
	Warn func(row celbridge.CELRow, err error)
	// Routine, when set, marks mapper warnings that are expected (rows of calls that started
	// before the range); Warn is not told about those.
	Routine func(error) bool
}

// Run reads the range and emits every event. It returns the number of rows read.
func (b *Backfill) Run(ctx context.Context) (rows int64, err error) {
	limit := b.BatchSize
	if limit <= 0 {
		limit = 1000
	}
	after := b.FromID - 1
	if st, ok := b.Source.(RangeStreamer); ok && b.ToID >= b.FromID {
		err := st.Stream(ctx, b.FromID, b.ToID, limit, func(batch []celbridge.CELRow) error {
			if err := ctx.Err(); err != nil {
				return ErrStopped
			}
			events, _, n := b.feed(batch)
			rows += n
			after = batch[len(batch)-1].ID
			return b.emit(ctx, events, after)
		})
		switch {
		case errors.Is(err, ErrStopped) || err != nil && ctx.Err() != nil:
			return rows, ErrStopped
		case err != nil:
			return rows, err // Stream's error names the range
		}
		after = b.ToID
		if !b.open() {
			return rows, nil
		}
	}
	// The range in batches (a Source that cannot stream), then the rows after it that belong
	// to calls still open.
	for {
		if err := ctx.Err(); err != nil {
			return rows, ErrStopped
		}
		batch, err := b.Source.ReadAfter(ctx, after, limit)
		if err != nil {
			return rows, err // already says "read cel after id N"
		}
		events, past, n := b.feed(batch)
		rows += n
		if len(batch) > 0 {
			after = batch[len(batch)-1].ID
		}
		if err := b.emit(ctx, events, after); err != nil {
			return rows, err
		}
		if past || len(batch) < limit {
			return rows, nil
		}
	}
}

// feed maps a batch of rows in id order. It stops at the first row past ToID once no call is
// open (done), and counts the rows fed.
func (b *Backfill) feed(batch []celbridge.CELRow) (events []celbridge.Event, done bool, rows int64) {
	for _, r := range batch {
		if r.ID > b.ToID {
			if !b.open() {
				return events, true, rows
			}
			if !b.Mapper.Wants(r) {
				// Its time still counts: it ends calls without LINKEDID_END.
				events = append(events, b.Mapper.Skip(r)...)
				continue
			}
		}
		rows++
		ev, warn := b.Mapper.Feed(r)
		if warn != nil && b.Warn != nil && (b.Routine == nil || !b.Routine(warn)) {
			b.Warn(r, warn)
		}
		events = append(events, ev...)
	}
	return events, false, rows
}

// open reports whether a call the range started is still open.
func (b *Backfill) open() bool {
	_, ok := b.Mapper.OldestOpen()
	return ok
}

// emit hands a batch's events to Emit and reports progress up to lastID. Calls still open at
// the end of the table may be in progress: they are left to the live poller (a Flush here sent
// a wrong early hangupTheCall for a call in progress).
func (b *Backfill) emit(ctx context.Context, events []celbridge.Event, lastID int64) error {
	if err := b.Emit(ctx, events); err != nil {
		return err
	}
	if b.Progress != nil {
		b.Progress(min(lastID, b.ToID))
	}
	return nil
}
