package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/celbridge/celbridge"
	"github.com/celbridge/celbridge/crm"
	"github.com/celbridge/celbridge/mapper"
	"github.com/celbridge/celbridge/poller"
	"github.com/celbridge/celbridge/store"
)

// backfillFlags are backfill's own flags.
type backfillFlags struct {
	from, to     string
	fromID, toID int64
	dryRun       bool
}

// flags adds backfill's own flags to fs.
func (f *backfillFlags) flags(fs *flag.FlagSet) {
	fs.StringVar(&f.from, "from", "", `first call start time: "2026-11-25", "2026-11-25 14:00:00" (mysql.timezone) or RFC 3339`)
	fs.StringVar(&f.to, "to", "", "end of the range (exclusive; a date alone means the end of that day); default: now")
	fs.Int64Var(&f.fromID, "from-id", 0, "first CEL id of the range (instead of -from)")
	fs.Int64Var(&f.toID, "to-id", 0, "last CEL id of the range (instead of -to)")
	fs.BoolVar(&f.dryRun, "dry-run", false, "print each request as one JSON object per line instead of sending")
}

// check rejects a range given twice or not at all.
func (f backfillFlags) check() error {
	if f.to != "" && f.toID != 0 {
		return usageError{errors.New("give the end of the range with -to TIME or -to-id ID, not both")}
	}
	if (f.from == "") == (f.fromID == 0) {
		return usageError{errors.New("give the start of the range with -from TIME or -from-id ID (one of them)")}
	}
	return nil
}

func (cl commandLine) cmdBackfill(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	var f backfillFlags
	a, err := cl.setup("backfill", args, stderr, f.flags)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, a.Close()) }()
	// A backfill's heap stays small and flat (rows stream through); collecting less often
	// buys about a tenth more throughput (BENCHMARKS.md). The soft limit keeps that from
	// growing the process past 64 MiB (of which the SQLite page caches and the runtime take
	// some). The daemon keeps Go's defaults.
	if cl.process {
		debug.SetGCPercent(400)
		softMemoryLimit(backfillMemoryLimit)
	}
	return a.Backfill(ctx, f, stdout, stderr)
}

// Backfill rebuilds and sends (or, with -dry-run, prints) the calls of the range f gives; the
// progress bar and the summary go to stderr. The caller closes a.
func (a *App) Backfill(ctx context.Context, f backfillFlags, stdout, stderr io.Writer) error {
	if err := f.check(); err != nil {
		return err
	}
	if err := a.openSource(ctx); err != nil {
		return err
	}
	a.openFreePBX(ctx)
	fromID, toID, err := a.resolveRange(ctx, f)
	if err != nil {
		return err
	}
	sum := &backfillSummary{byType: map[string]int{}}
	b := &poller.Backfill{
		Source:    a.Source,
		Mapper:    mapper.New(a.mapperConfig()),
		BatchSize: a.Config.MySQL.BatchSize,
		FromID:    fromID,
		ToID:      toID,
		Routine:   func(err error) bool { return errors.Is(err, mapper.ErrUnknownCall) },
		Warn: func(r celbridge.CELRow, err error) {
			if errors.Is(err, celbridge.ErrInternal) {
				a.Logger.Error("mapper internal error; CEL row skipped", "cel_id", r.ID, "err", err)
				return
			}
			a.Logger.Warn("malformed CEL row; processed with what is known", "cel_id", r.ID, "err", err)
		},
	}
	bar := newProgress(stderr, fromID, toID)
	b.Progress = bar.set
	if f.dryRun {
		w := bufio.NewWriterSize(stdout, 64<<10)
		var line []byte
		b.Emit = func(_ context.Context, events []celbridge.Event) (err error) {
			sum.add(events)
			for _, e := range events {
				if line, err = writeJSONLine(w, line, e.Fields(a.Config.CRM.CompanyID)); err != nil {
					return err
				}
			}
			return w.Flush()
		}
		rows, err := b.Run(ctx)
		bar.finish()
		sum.print(stderr, rows, fromID, toID)
		return err
	}
	return a.backfillSend(ctx, b, bar, sum, stderr)
}

// backfillMemoryLimit is the Go heap's soft limit during a backfill.
const backfillMemoryLimit = 32 << 20

// enqueueGroup is how many events backfill stores in one transaction: one fsync for them all.
const enqueueGroup = 2048

// backfillSend enqueues the range's events in the store and delivers them, unless a running
// daemon holds the store, which then delivers them itself. When it holds the store it delivers
// while it reads and enqueues. It returns when every event of the range is delivered, or an
// error if some could not be.
//
// It does not keep the events' keys: their outbox rows get ids above the store's last id
// before the first enqueue, and it waits until no row up to the last id after the last one is
// pending. Events already queued before (a call the daemon or an earlier backfill queued) are
// below that and waited for too.
func (a *App) backfillSend(ctx context.Context, b *poller.Backfill, bar *progress, sum *backfillSummary, stderr io.Writer) error {
	if err := a.openStore(ctx, false); err != nil {
		return err
	}
	start, err := a.Store.OutboxEnd(ctx)
	if err != nil {
		return err
	}
	// Deliver them ourselves unless a running daemon holds the store (DeliverUpTo asks again).
	lock := &store.Lock{Path: a.Config.Store.Path, Role: store.RoleBackfill} // run waits for a backfill
	defer lock.Release()
	d := a.dispatcher()
	ours, err := lock.TryAcquire()
	if err != nil {
		return err
	}
	var loop *crm.DrainLoop
	if ours {
		loop = d.StartDrainLoop(ctx)
	}
	batch := &store.Batch{DB: a.Store, Size: enqueueGroup, Flushed: loop.Kick}
	b.Emit = func(ctx context.Context, events []celbridge.Event) error {
		sum.add(events)
		return batch.Add(ctx, events...)
	}
	rows, err := b.Run(ctx)
	if err == nil {
		err = batch.Flush(ctx)
	}
	sum.sending, sum.added = true, batch.Added
	bar.finish()
	if derr := loop.Stop(); err == nil && ctx.Err() == nil {
		err = derr
	}
	if err != nil {
		return err
	}
	end, err := a.Store.OutboxEnd(ctx)
	if err != nil {
		return err
	}
	err = d.DeliverUpTo(ctx, a.Store, end, lock.TryAcquire, func() {
		a.Logger.Info("a running celbridge holds the store; it delivers the backfilled events")
	})
	// Counted even after ^C, so that the message says what is left.
	wctx := context.WithoutCancel(ctx)
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		n, err := a.Store.CountUpTo(wctx, store.StatePending, 0, end)
		if err != nil {
			return err
		}
		return fmt.Errorf("interrupted with %d requests not yet delivered; they stay queued, run backfill again or start the daemon", n)
	}
	if err != nil {
		return err
	}
	failed, err := a.Store.CountUpTo(wctx, store.StateFailed, start, end)
	if err != nil {
		return err
	}
	sum.failed = failed + batch.DupFailed
	sum.print(stderr, rows, b.FromID, b.ToID)
	if sum.failed > 0 {
		return fmt.Errorf("%d requests were refused by the CRM; see 'celbridge status' and the log", sum.failed)
	}
	return nil
}

// resolveRange turns -from/-to or -from-id/-to-id into a CEL id range.
func (a *App) resolveRange(ctx context.Context, f backfillFlags) (fromID, toID int64, err error) {
	loc := a.Config.Location()
	fromID, toID = f.fromID, f.toID
	if f.from != "" {
		t, _, err := parseTime(f.from, loc)
		if err != nil {
			return 0, 0, usageError{fmt.Errorf("-from: %w", err)}
		}
		if fromID, err = a.Source.FirstIDAt(ctx, t); err != nil {
			return 0, 0, err
		}
	}
	if f.to != "" {
		t, dateOnly, err := parseTime(f.to, loc)
		if err != nil {
			return 0, 0, usageError{fmt.Errorf("-to: %w", err)}
		}
		if dateOnly {
			t = t.AddDate(0, 0, 1)
		}
		first, err := a.Source.FirstIDAt(ctx, t)
		if err != nil {
			return 0, 0, err
		}
		toID = first - 1
	}
	if f.to == "" && f.toID == 0 {
		if toID, err = a.Source.MaxID(ctx); err != nil {
			return 0, 0, err
		}
	}
	if toID < fromID {
		return 0, 0, usageError{fmt.Errorf("the range is empty: CEL ids %d..%d (check -from and -to)", fromID, toID)}
	}
	return fromID, toID, nil
}

// parseTime reads "2026-11-25", "2026-11-25 14:00:00" (in loc) or RFC 3339.
func parseTime(s string, loc *time.Location) (t time.Time, dateOnly bool, err error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, false, nil
	}
	if t, err := time.ParseInLocation(time.DateTime, s, loc); err == nil {
		return t, false, nil
	}
	if t, err := time.ParseInLocation(time.DateOnly, s, loc); err == nil {
		return t, true, nil
	}
	return time.Time{}, false, fmt.Errorf("%q is not a time (write 2026-11-25, \"2026-11-25 14:00:00\" or 2026-11-25T14:00:00+02:00)", s)
}

// writeJSONLine writes fields as one JSON object, keys in field order, through buf (reused
// between calls), and returns buf for the next call. The output is what encoding/json writes.
func writeJSONLine(w io.Writer, buf []byte, fields []celbridge.Field) ([]byte, error) {
	b := append(buf[:0], '{')
	for i, f := range fields {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, f.Name)
		b = append(b, ':')
		b = appendJSONString(b, f.Value)
	}
	b = append(b, '}', '\n')
	_, err := w.Write(b)
	return b, err
}

// appendJSONString appends s as a JSON string, as encoding/json quotes it: printable ASCII is
// copied (the usual case: numbers, ids and names), anything else goes through json.Marshal.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// backfillSummary counts what a backfill produced.
type backfillSummary struct {
	calls  int
	byType map[string]int
	failed int
	// sending: the requests went to the outbox, added of them new (the others were queued or
	// delivered by an earlier run, and are not sent again).
	sending bool
	added   int
}

func (s *backfillSummary) add(events []celbridge.Event) {
	for _, e := range events {
		s.byType[e.RequestType]++
		if e.RequestType == celbridge.Received {
			s.calls++
		}
	}
}

func (s *backfillSummary) print(w io.Writer, rows, fromID, toID int64) {
	fmt.Fprintf(w, "backfill of CEL ids %d..%d: %d rows, %d calls; requests: %d received, %d answered, %d transferred, %d hangup",
		fromID, toID, rows, s.calls, s.byType[celbridge.Received], s.byType[celbridge.Answered],
		s.byType[celbridge.Transferred], s.byType[celbridge.Hangup])
	if s.sending {
		total := 0
		for _, n := range s.byType {
			total += n
		}
		fmt.Fprintf(w, "; %d new, %d already queued or delivered by an earlier run (not sent again)", s.added, total-s.added)
	}
	fmt.Fprintf(w, "; %d failed\n", s.failed)
}

// progress shows how far a backfill got: a bar with rate and ETA on a terminal, a plain line
// every ten seconds otherwise.
type progress struct {
	bar      *progressbar.ProgressBar
	w        io.Writer
	from, to int64
	last     time.Time
}

func newProgress(w io.Writer, from, to int64) *progress {
	p := &progress{w: w, from: from, to: to, last: time.Now()}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.bar = progressbar.NewOptions64(max(to-from+1, 1),
			progressbar.OptionSetWriter(w), progressbar.OptionSetDescription("backfill"),
			progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString("rows"),
			progressbar.OptionSetPredictTime(true), progressbar.OptionThrottle(200*time.Millisecond))
	}
	return p
}

func (p *progress) set(lastID int64) {
	done := lastID - p.from + 1
	if p.bar != nil {
		_ = p.bar.Set64(done)
		return
	}
	if time.Since(p.last) >= 10*time.Second {
		p.last = time.Now()
		fmt.Fprintf(p.w, "backfill: CEL id %d of %d (%.0f%%)\n", lastID, p.to, 100*float64(done)/float64(max(p.to-p.from+1, 1)))
	}
}

func (p *progress) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
		fmt.Fprintln(p.w)
	}
}
