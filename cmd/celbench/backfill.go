package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/celbridge/celbridge"
	"github.com/celbridge/celbridge/internal/loadgen"
)

const loadgenConfigTOML = loadgen.ConfigTOML

// expectation counts the events a set of generated calls must produce.
type expectation struct {
	calls  int // generated calls (a scenario clone may hold two linkedids)
	events int
	byType map[string]int
}

func (e *expectation) add(evs []celbridge.Event) {
	if e.byType == nil {
		e.byType = map[string]int{}
	}
	e.calls++
	e.events += len(evs)
	for _, ev := range evs {
		e.byType[ev.RequestType]++
	}
}

// load generates o.rows CEL rows into celbench_bulk.cel (two inserting connections while the
// generator runs ahead).
func (b *bench) load(ctx context.Context) error {
	if b.o.reuse {
		return b.reuseBulk(ctx)
	}
	db, err := b.createDB(ctx, b.bulkDB())
	if err != nil {
		return err
	}
	defer db.Close()
	cfg := loadgen.MapperConfig()
	exp := &b.res.bulkExpect
	g := loadgen.New(1, loadgen.OnCallDone(func(c *loadgen.Call) { exp.add(c.Expected(cfg)) }))
	began := time.Now()
	batches := make(chan []celbridge.CELRow, 8)
	errs := make(chan error, 2)
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for batch := range batches {
				if err := loadgen.Insert(ctx, db, "cel", batch); err != nil {
					errs <- err
					for range batches {
					}
					return
				}
			}
		})
	}
	var rows int64
	for batch := range g.Bulk(b.o.rows, 5000) {
		rows += int64(len(batch))
		batches <- batch
	}
	close(batches)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
	}
	took := time.Since(began)
	r := &b.res.Load
	r.Rows, r.Calls, r.Events, r.Seconds = rows, exp.byType[celbridge.Received], exp.events, took.Seconds()
	r.RowsPerSec = float64(rows) / took.Seconds()
	b.logf("loaded %d rows (%d calls, %d expected events) in %s: %.0f rows/s", rows, r.Calls, exp.events, took.Round(time.Millisecond), r.RowsPerSec)
	return nil
}

// reuseBulk keeps the bulk table of an earlier run when it holds the rows this one would
// insert (same generator, same -rows), and only computes what they must produce.
func (b *bench) reuseBulk(ctx context.Context) error {
	cfg := loadgen.MapperConfig()
	exp := &b.res.bulkExpect
	g := loadgen.New(1, loadgen.OnCallDone(func(c *loadgen.Call) { exp.add(c.Expected(cfg)) }))
	var rows, last int64
	for batch := range g.Bulk(b.o.rows, 5000) {
		rows += int64(len(batch))
		last = batch[len(batch)-1].ID
	}
	var have, maxID int64
	q := fmt.Sprintf("SELECT COUNT(*), COALESCE(MAX(id), 0) FROM `%s`.cel", b.bulkDB())
	if err := b.root.QueryRowContext(ctx, q).Scan(&have, &maxID); err != nil {
		return fmt.Errorf("-reuse: %w", err)
	}
	if have != rows || maxID != last {
		return fmt.Errorf("-reuse: %s.cel has %d rows up to id %d, -rows %d makes %d up to id %d (run without -reuse)",
			b.bulkDB(), have, maxID, b.o.rows, rows, last)
	}
	r := &b.res.Load
	r.Rows, r.Calls, r.Events = rows, exp.byType[celbridge.Received], exp.events
	b.logf("reusing %d rows (%d calls, %d expected events)", rows, r.Calls, exp.events)
	return nil
}

// raw measures, in b.o.rounds rounds, how fast MariaDB streams the table to a Go client, each
// round followed by a `backfill -dry-run` over the same rows (so that both see the same
// machine load; the best of the rounds is reported for each). The raw pass streams with celbridge's driver and query: SELECT of the same
// columns by primary-key ranges, batch 1000, values scanned as raw bytes (no conversion: the
// client's minimum work).
func (b *bench) raw(ctx context.Context) error {
	cfg, err := mysql.ParseDSN(b.readerDSN(b.bulkDB()))
	if err != nil {
		return err
	}
	cfg.InterpolateParams = true // as celbridge's source
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return err
	}
	db := sql.OpenDB(conn)
	defer db.Close()
	q := "SELECT `id`, `eventtype`, `eventtime`, `cid_name`, `cid_num`, `cid_ani`, `cid_rdnis`, `cid_dnid`, `exten`, " +
		"`context`, `channame`, `appname`, `appdata`, `accountcode`, `uniqueid`, `linkedid`, `peer`, `userdeftype`, `extra` " +
		"FROM `cel` WHERE id > ? ORDER BY id LIMIT ?"
	const batch = 1000
	vals := make([]sql.RawBytes, 19)
	dest := make([]any, len(vals))
	for i := range vals {
		dest[i] = &vals[i]
	}
	for pass := range b.o.rounds {
		if err := b.cliOnce(ctx, pass); err != nil {
			return err
		}
		began := time.Now()
		var n, after int64
		for {
			rows, err := db.QueryContext(ctx, q, after, batch)
			if err != nil {
				return err
			}
			k := 0
			for rows.Next() {
				if err := rows.Scan(dest...); err != nil {
					rows.Close()
					return err
				}
				after, _ = strconv.ParseInt(string(vals[0]), 10, 64)
				k++
			}
			if err := rows.Close(); err != nil {
				return err
			}
			n += int64(k)
			if k < batch {
				break
			}
		}
		took := time.Since(began)
		rate := float64(n) / took.Seconds()
		b.logf("Go client pass %d: %d rows in %s: %.0f rows/s", pass+1, n, took.Round(time.Millisecond), rate)
		b.res.RawRounds = append(b.res.RawRounds, rate)
		if rate > b.res.Raw.RowsPerSec {
			b.res.Raw = throughput{Rows: n, Calls: b.res.Load.Calls, Seconds: took.Seconds(), RowsPerSec: rate,
				CallsPerSec: float64(b.res.Load.Calls) / took.Seconds()}
		}
		if err := b.dryRunOnce(ctx); err != nil {
			return err
		}
	}
	return nil
}

// cliColumns is the select list celbridge builds for FreePBX's cel table.
const cliColumns = "`id`, `eventtype`, `eventtime`, `cid_name`, `cid_num`, `cid_ani`, `cid_rdnis`, `cid_dnid`, `exten`, " +
	"`context`, `channame`, `appname`, `appdata`, `accountcode`, `uniqueid`, `linkedid`, `peer`, `userdeftype`, `extra`"

// cliOnce times the baseline of issue 13: `mariadb --quick` streaming the rows of the bulk table
// (SELECT of celbridge's columns, WHERE id BETWEEN, as the SELECT-only user). Its output goes
// straight to /dev/null: no reader in between slows it (its 200 bytes of text a row would cost
// celbench more to count than the dry-run's requests do), so it is the fastest the client
// takes the rows. The table holds exactly the ids 1..rows (load checks it).
func (b *bench) cliOnce(ctx context.Context, pass int) error {
	took, err := b.runCLI(ctx, b.bulkDB(), b.res.Load.Rows)
	if err != nil {
		return err
	}
	rate := float64(b.res.Load.Rows) / took.Seconds()
	b.logf("mariadb --quick pass %d: %d rows in %s: %.0f rows/s", pass+1, b.res.Load.Rows, took.Round(time.Millisecond), rate)
	b.res.CLIRounds = append(b.res.CLIRounds, rate)
	if rate > b.res.CLI.RowsPerSec {
		b.res.CLI = b.rates(took)
	}
	return nil
}

// runCLI times mariadb --quick streaming ids 1..last of database name's cel table to /dev/null.
func (b *bench) runCLI(ctx context.Context, name string, last int64) (time.Duration, error) {
	cfg, err := mysql.ParseDSN(b.readerDSN(name))
	if err != nil {
		return 0, err
	}
	// The password goes in an option file, not on the command line.
	opts := fmt.Sprintf("[client]\nuser=%s\npassword=%s\n", cfg.User, cfg.Passwd)
	if cfg.Net == "unix" {
		opts += "socket=" + cfg.Addr + "\n"
	} else {
		host, port, _ := strings.Cut(cfg.Addr, ":")
		opts += fmt.Sprintf("host=%s\nport=%s\nprotocol=tcp\n", host, port)
	}
	optPath := filepath.Join(b.o.work, "reader.cnf")
	if err := os.WriteFile(optPath, []byte(opts), 0o600); err != nil {
		return 0, err
	}
	q := fmt.Sprintf("SELECT %s FROM cel WHERE id BETWEEN 1 AND %d", cliColumns, last)
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return 0, err
	}
	defer null.Close()
	cmd := exec.CommandContext(ctx, b.o.mariadb, "--defaults-file="+optPath, "--quick", "--batch", cfg.DBName, "-e", q)
	cmd.Stdout = null
	var stderr strings.Builder
	cmd.Stderr = &stderr
	began := time.Now()
	if err := cmd.Run(); err != nil {
		return 0, fmt.Errorf("%s: %w: %s", b.o.mariadb, err, stderr.String())
	}
	return time.Since(began), nil
}

// summary is backfill's last stderr line: "... 123 rows, 45 calls; ...".
var summary = regexp.MustCompile(`: (\d+) rows, (\d+) calls;`)

// dryRunOnce times `celbridge backfill -dry-run` over the whole bulk table, stdout counted,
// and keeps the fastest run.
func (b *bench) dryRunOnce(ctx context.Context) error {
	cfgPath, _, err := b.writeConfig(instance{name: "dryrun", db: b.bulkDB(), schedule: "@every 1s", path: "dryrun"})
	if err != nil {
		return err
	}
	out := &lineCounter{}
	p, err := startCelbridge(b.o.celbridge, out, "backfill", "-config", cfgPath, "-from-id", "1",
		"-to-id", strconv.FormatInt(b.res.Load.Rows, 10), "-dry-run")
	if err != nil {
		return err
	}
	if err := p.wait(ctx); err != nil {
		return err
	}
	took := time.Since(p.started)
	var r backfillResult
	defer func() {
		b.res.DryRunRounds = append(b.res.DryRunRounds, r.RowsPerSec)
		if r.RowsPerSec > b.res.DryRun.RowsPerSec {
			b.res.DryRun = r
		}
	}()
	r.throughput = b.rates(took)
	r.PeakRSSMiB, r.RSSProfileMiB = p.peakRSS(), p.rssProfile(profilePoints)
	r.Events, r.WantEvents = int(out.lines), b.res.bulkExpect.events
	if m := summary.FindStringSubmatch(p.stderrText()); m != nil {
		r.ReportedRows, _ = strconv.ParseInt(m[1], 10, 64)
	}
	b.logf("dry-run: %.0f rows/s, %d lines (want %d), peak RSS %.1f MiB", r.RowsPerSec, out.lines, r.WantEvents, r.PeakRSSMiB)
	if r.Events != r.WantEvents {
		return fmt.Errorf("dry-run printed %d requests, the generated calls expect %d", r.Events, r.WantEvents)
	}
	return nil
}

var profilePoints = []float64{0.1, 0.25, 0.5, 0.75, 1}

func twentieths() []float64 {
	var p []float64
	for i := 1; i <= 20; i++ {
		p = append(p, float64(i)/20)
	}
	return p
}

func (b *bench) rates(took time.Duration) throughput {
	return throughput{Rows: b.res.Load.Rows, Calls: b.res.Load.Calls, Seconds: took.Seconds(),
		RowsPerSec:  float64(b.res.Load.Rows) / took.Seconds(),
		CallsPerSec: float64(b.res.Load.Calls) / took.Seconds()}
}

// send times `celbridge backfill` delivering to the CRM stub, and the stub's own capacity
// with celbridge's client at the same concurrency.
func (b *bench) send(ctx context.Context) error {
	conc := b.o.conc
	if conc <= 0 {
		conc = 4 // crm.concurrency's default
	}
	// The stub's capacity with celbridge's client at the same concurrency, just before and
	// just after the backfill: the ratio uses their mean. As many requests as the backfill
	// sends (20,000 at most, 2,000 at least).
	probe := min(max(b.res.bulkExpect.events, 2000), 20000)
	before, err := stubCapacity(ctx, b.stub.url+"/capacity", probe, conc)
	if err != nil {
		return err
	}
	b.logf("stub capacity with crm.Client at concurrency %d (before): %.0f requests/s", conc, before)
	cfgPath, storePath, err := b.writeConfig(instance{name: "send", db: b.bulkDB(), schedule: "@every 1s", path: "send"})
	if err != nil {
		return err
	}
	p, err := startCelbridge(b.o.celbridge, nil, "backfill", "-config", cfgPath, "-from-id", "1",
		"-to-id", strconv.FormatInt(b.res.Load.Rows, 10))
	if err != nil {
		return err
	}
	if err := p.wait(ctx); err != nil {
		return err
	}
	took := time.Since(p.started)
	r := &b.res.Send
	r.throughput = b.rates(took)
	r.PeakRSSMiB, r.RSSProfileMiB = p.peakRSS(), p.rssProfile(profilePoints)
	b.logf("send: RSS (MiB) at every 5%% of the run: %.0f", p.rssProfile(twentieths()))
	r.Events, r.WantEvents = b.stub.received("send"), b.res.bulkExpect.events
	r.Duplicates = b.stub.duplicates("send")
	r.EventsPerSec = float64(r.Events) / took.Seconds()
	size := fileSize(storePath) + fileSize(storePath+"-wal") + fileSize(storePath+"-shm")
	r.StoreMiBPer100kCalls = float64(size) / (1 << 20) / (float64(r.Calls) / 100_000)
	b.logf("send: %.0f rows/s, %.0f events/s, %d events (want %d), %d duplicates, store %.1f MiB", r.RowsPerSec, r.EventsPerSec, r.Events, r.WantEvents, r.Duplicates, float64(size)/(1<<20))
	if r.Events != r.WantEvents {
		return fmt.Errorf("the CRM stub got %d distinct requests, the generated calls expect %d", r.Events, r.WantEvents)
	}
	after, err := stubCapacity(ctx, b.stub.url+"/capacity", probe, conc)
	if err != nil {
		return err
	}
	b.res.StubEventsPerSec, b.res.StubAfter, b.res.StubConcurrency = before, after, conc
	b.logf("stub capacity with crm.Client at concurrency %d (after): %.0f requests/s", conc, after)
	return nil
}

func fileSize(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return st.Size()
}
