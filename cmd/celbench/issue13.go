package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/celbridge/celbridge"
	"github.com/celbridge/celbridge/internal/loadgen"
)

// The phases issue 13 added: catchup (run after three days stopped) and bigmem (backfill of
// -rows-memory rows, for its peak RSS).

func (b *bench) catchupDB() string { return b.o.prefix + "_catchup" }
func (b *bench) bigDB() string     { return b.o.prefix + "_big" }

// insertAll inserts g's rows into db's cel table in batches of 5000 rows, two connections at
// once, and returns the rows inserted and the last id.
func insertAll(ctx context.Context, db *sqlx.DB, next func() ([]celbridge.CELRow, bool)) (rows, last int64, err error) {
	batches := make(chan []celbridge.CELRow, 8)
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			for batch := range batches {
				if err := loadgen.Insert(ctx, db, "cel", batch); err != nil {
					errs <- err
					for range batches {
					}
					return
				}
			}
			errs <- nil
		}()
	}
	for {
		batch, ok := next()
		if !ok {
			break
		}
		rows += int64(len(batch))
		last = batch[len(batch)-1].ID
		batches <- batch
	}
	close(batches)
	for range 2 {
		if e := <-errs; e != nil && err == nil {
			err = e
		}
	}
	return rows, last, err
}

// batchesOf turns a generator's bursts into batches of about n rows.
func batchesOf(g *loadgen.Generator, n int) func() ([]celbridge.CELRow, bool) {
	return func() ([]celbridge.CELRow, bool) {
		var batch []celbridge.CELRow
		for len(batch) < n {
			bu, ok := g.Next()
			if !ok {
				break
			}
			batch = append(batch, bu.Rows...)
		}
		return batch, len(batch) > 0
	}
}

// catchupResult is issue 13.4: run after three days stopped.
type catchupResult struct {
	Days, CallsPerDay        float64
	Rows                     int64
	Calls, Events            int
	CLIRowsPerSec            float64 // mariadb --quick on the same rows, just before
	ReadSeconds, RowsPerSec  float64 // start of run until every row was read
	DeliveredSeconds         float64 // start of run until the CRM had every request
	Duplicates, Mismatched   int     // requests repeated; calls whose requests differ from a backfill's
	LiveCalls, LiveEvents    int     // calls inserted after the catch-up
	LiveMaxMS                float64 // their worst insert → CRM delay
	PeakRSSMiB               float64
	Ratio                    float64 // RowsPerSec / CLIRowsPerSec
	BackfillSameCalls, Total int
}

// catchup: a daemon starts on an empty table (its checkpoint), stops; three days of a
// 200-phone clinic's calls are inserted; the daemon starts again and catches up. Measured:
// its read rate against mariadb --quick on the same rows (just before), that the CRM gets
// exactly the requests a backfill of the same range prints (same bodies, same order per
// call, nothing repeated), and that calls inserted afterwards are delivered as by a daemon
// that never stopped.
func (b *bench) catchup(ctx context.Context) error {
	db, err := b.createDB(ctx, b.catchupDB())
	if err != nil {
		return err
	}
	defer db.Close()
	// The first start: checkpoint at the (empty) table's end.
	p, cfgPath, _, listen, err := b.startDaemon(ctx, "catchup", b.catchupDB())
	if err != nil {
		return err
	}
	time.Sleep(1500 * time.Millisecond)
	p.stop()

	// Three days of calls, ending now.
	r := &b.res.Catchup
	r.Days, r.CallsPerDay = 3, b.o.catchupPerDay
	calls := int(r.Days * r.CallsPerDay)
	cfg := loadgen.MapperConfig()
	exp := &expectation{}
	start := time.Now().UTC().Add(-time.Duration(r.Days * 24 * float64(time.Hour)))
	g := loadgen.New(7, loadgen.WithRate(r.CallsPerDay/86400), loadgen.WithMaxCalls(calls), loadgen.WithStart(start),
		loadgen.OnCallDone(func(c *loadgen.Call) { exp.add(c.Expected(cfg)) }))
	began := time.Now()
	rows, last, err := insertAll(ctx, db, batchesOf(g, 5000))
	if err != nil {
		return err
	}
	r.Rows, r.Calls, r.Events = rows, exp.byType[celbridge.Received], exp.events
	b.logf("catchup: inserted %d rows (%d calls, %d events) of %.0f days in %s", rows, r.Calls, r.Events, r.Days, time.Since(began).Round(time.Second))
	if r.CLIRowsPerSec, err = b.cliRate(ctx, b.catchupDB(), last); err != nil {
		return err
	}

	// The restart: catch up.
	b.stub.keepBodies("catchup")
	p, err = startCelbridge(b.o.celbridge, nil, "run", "-config", cfgPath)
	if err != nil {
		return err
	}
	defer p.stop()
	readAt, err := waitMetric(ctx, p, "http://"+listen+"/metrics", "celbridge_cel_read_id", float64(last), 10*time.Minute)
	if err != nil {
		return err
	}
	r.ReadSeconds = readAt.Sub(p.started).Seconds()
	r.RowsPerSec = float64(rows) / r.ReadSeconds
	r.Ratio = r.RowsPerSec / r.CLIRowsPerSec
	b.logf("catchup: read %d rows in %.1f s: %.0f rows/s (mariadb --quick %.0f rows/s): %.2f", rows, r.ReadSeconds, r.RowsPerSec, r.CLIRowsPerSec, r.Ratio)
	if !b.stub.waitFor("catchup", exp.events, 10*time.Minute) {
		return fmt.Errorf("catchup: the stub got %d of %d events", b.stub.received("catchup"), exp.events)
	}
	r.DeliveredSeconds = time.Since(p.started).Seconds()

	// Then it polls as usual: calls inserted now, at their real pace.
	live := &expectation{}
	lg := loadgen.New(8, loadgen.WithRate(5), loadgen.WithMaxCalls(20), loadgen.WithStart(time.Now().UTC()), loadgen.WithFirstID(last+1),
		loadgen.OnCallDone(func(c *loadgen.Call) { live.add(c.Expected(cfg)) }))
	for {
		bu, ok := lg.Next()
		if !ok {
			break
		}
		time.Sleep(time.Until(bu.At)) // the generator's clock started now

		if err := loadgen.Insert(ctx, db, "cel", bu.Rows); err != nil {
			return err
		}
	}
	insertedAt := time.Now()
	want := exp.events + live.events
	if !b.stub.waitFor("catchup", want, time.Minute) {
		return fmt.Errorf("catchup: after the catch-up the stub got %d of %d events", b.stub.received("catchup"), want)
	}
	r.LiveCalls, r.LiveEvents = live.byType[celbridge.Received], live.events
	r.LiveMaxMS = float64(time.Since(insertedAt).Milliseconds())
	r.Duplicates = b.stub.duplicates("catchup")
	r.PeakRSSMiB = p.peakRSS()

	// The same requests as a backfill of the same range prints.
	got := b.stub.callBodies("catchup")
	bf, err := b.backfillBodies(ctx, b.catchupDB(), 1, last)
	if err != nil {
		return err
	}
	for call, bodies := range bf {
		r.Total++
		if strings.Join(got[call], "\n") == strings.Join(bodies, "\n") {
			r.BackfillSameCalls++
		}
	}
	r.Mismatched = r.Total - r.BackfillSameCalls
	b.logf("catchup: all %d requests in %.1f s, %d duplicates, %d of %d calls as a backfill sends them; %d calls after it delivered within %.0f ms of the last insert",
		exp.events, r.DeliveredSeconds, r.Duplicates, r.BackfillSameCalls, r.Total, r.LiveCalls, r.LiveMaxMS)
	return nil
}

// backfillBodies runs backfill -dry-run over ids from..to of database name and returns each
// call's requests as the CRM would get them (form bodies), in order.
func (b *bench) backfillBodies(ctx context.Context, name string, from, to int64) (map[string][]string, error) {
	cfgPath, _, err := b.writeConfig(instance{name: "catchup-backfill", db: name, schedule: "@every 1s", path: "unused"})
	if err != nil {
		return nil, err
	}
	pr, pw := io.Pipe()
	out := map[string][]string{}
	parsed := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
		for sc.Scan() {
			fields, err := orderedFields(sc.Bytes())
			if err != nil {
				parsed <- err
				io.Copy(io.Discard, pr)
				return
			}
			var call string
			for _, f := range fields {
				if f.Name == "generalCallID" {
					call = f.Value
				}
			}
			out[call] = append(out[call], celbridge.EncodeForm(fields))
		}
		parsed <- sc.Err()
	}()
	p, err := startCelbridge(b.o.celbridge, pw, "backfill", "-config", cfgPath, "-from-id", strconv.FormatInt(from, 10),
		"-to-id", strconv.FormatInt(to, 10), "-dry-run")
	if err != nil {
		return nil, err
	}
	err = p.wait(ctx)
	pw.Close()
	if perr := <-parsed; err == nil {
		err = perr
	}
	return out, err
}

// orderedFields reads one JSON object of strings, keeping its keys' order.
func orderedFields(line []byte) ([]celbridge.Field, error) {
	dec := json.NewDecoder(strings.NewReader(string(line)))
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	var fields []celbridge.Field
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return nil, err
		}
		v, err := dec.Token()
		if err != nil {
			return nil, err
		}
		ks, _ := k.(string)
		vs, _ := v.(string)
		fields = append(fields, celbridge.Field{Name: ks, Value: vs})
	}
	return fields, nil
}

// waitMetric polls a gauge of celbridge's /metrics until it reaches want and returns when it
// was first seen there.
func waitMetric(ctx context.Context, p *proc, url, name string, want float64, timeout time.Duration) (time.Time, error) {
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if resp, err := client.Get(url); err == nil {
			sc := bufio.NewScanner(resp.Body)
			for sc.Scan() {
				if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
					if f, err := strconv.ParseFloat(v, 64); err == nil && f >= want {
						resp.Body.Close()
						return time.Now(), nil
					}
				}
			}
			resp.Body.Close()
		}
		select {
		case <-p.done:
			return time.Time{}, fmt.Errorf("celbridge exited: %s", tail(p.stderrText(), 2000))
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return time.Time{}, fmt.Errorf("%s did not reach %.0f within %s", name, want, timeout)
}

// bigResult is issue 13.3: the peak RSS of a backfill of -rows-memory rows.
type bigResult struct {
	backfillResult
	LoadSeconds float64
}

// bigmem loads -rows-memory rows into their own database (kept with -reuse) and runs
// backfill (store, then send) over all of them, sampling its RSS.
func (b *bench) bigmem(ctx context.Context) error {
	n := b.o.rowsMemory
	cfg := loadgen.MapperConfig()
	exp := &expectation{}
	g := loadgen.New(11, loadgen.OnCallDone(func(c *loadgen.Call) { exp.add(c.Expected(cfg)) }))
	r := &b.res.Big
	began := time.Now()
	var rows, last int64
	if b.o.reuse && b.tableHolds(ctx, b.bigDB(), n) {
		for batch := range g.Bulk(n, 5000) {
			rows += int64(len(batch))
			last = batch[len(batch)-1].ID
		}
	} else {
		db, err := b.createDB(ctx, b.bigDB())
		if err != nil {
			return err
		}
		next, stop := iterPull(g.Bulk(n, 5000))
		defer stop()
		rows, last, err = insertAll(ctx, db, next)
		db.Close()
		if err != nil {
			return err
		}
	}
	r.LoadSeconds = time.Since(began).Seconds()
	b.logf("bigmem: %d rows (%d events expected) ready in %s", rows, exp.events, time.Since(began).Round(time.Second))
	cfgPath, _, err := b.writeConfig(instance{name: "big", db: b.bigDB(), schedule: "@every 1s", path: "big"})
	if err != nil {
		return err
	}
	p, err := startCelbridge(b.o.celbridge, nil, "backfill", "-config", cfgPath, "-from-id", "1", "-to-id", strconv.FormatInt(last, 10))
	if err != nil {
		return err
	}
	if err := p.wait(ctx); err != nil {
		return err
	}
	took := time.Since(p.started)
	r.Rows, r.Calls, r.Seconds = rows, exp.byType[celbridge.Received], took.Seconds()
	r.RowsPerSec, r.CallsPerSec = float64(rows)/took.Seconds(), float64(r.Calls)/took.Seconds()
	r.PeakRSSMiB, r.RSSProfileMiB = p.peakRSS(), p.rssProfile(profilePoints)
	r.Events, r.WantEvents, r.Duplicates = b.stub.received("big"), exp.events, b.stub.duplicates("big")
	r.EventsPerSec = float64(r.Events) / took.Seconds()
	b.logf("bigmem: backfill of %d rows in %s, %d requests (want %d), %d duplicates, peak RSS %.1f MiB; RSS at every 5%%: %.0f",
		rows, took.Round(time.Second), r.Events, r.WantEvents, r.Duplicates, r.PeakRSSMiB, p.rssProfile(twentieths()))
	if r.Events != r.WantEvents {
		return fmt.Errorf("bigmem: the CRM stub got %d distinct requests, want %d", r.Events, r.WantEvents)
	}
	return nil
}

// tableHolds reports whether database name's cel table has exactly the rows the bulk
// generator makes for n (-reuse).
func (b *bench) tableHolds(ctx context.Context, name string, n int64) bool {
	var have int64
	q := fmt.Sprintf("SELECT COUNT(*) FROM `%s`.cel", name)
	if err := b.root.QueryRowContext(ctx, q).Scan(&have); err != nil {
		return false
	}
	return have >= n && have < n+1000
}

// cliRate runs mariadb --quick over ids 1..last of database name once and returns its rows/s.
func (b *bench) cliRate(ctx context.Context, name string, last int64) (float64, error) {
	took, err := b.runCLI(ctx, name, last)
	if err != nil {
		return 0, err
	}
	return float64(last) / took.Seconds(), nil
}

// iterPull turns a sequence of batches into a next function.
func iterPull(seq iter.Seq[[]celbridge.CELRow]) (func() ([]celbridge.CELRow, bool), func()) {
	return iter.Pull(seq)
}
