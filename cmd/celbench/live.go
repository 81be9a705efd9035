package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/celbridge/celbridge"
	"github.com/celbridge/celbridge/crm"
	"github.com/celbridge/celbridge/internal/loadgen"
)

// stubCapacity pushes n events to url with celbridge's CRM client from conc goroutines and
// returns requests per second: the most any delivery to this stub can reach.
func stubCapacity(ctx context.Context, url string, n, conc int) (float64, error) {
	c := &crm.Client{URL: url}
	var next atomic.Int64
	var firstErr atomic.Value
	began := time.Now()
	var wg sync.WaitGroup
	for range conc {
		wg.Go(func() {
			for {
				i := next.Add(1)
				if i > int64(n) {
					return
				}
				e := celbridge.Event{LinkedID: "1.1", GeneralCallID: strconv.FormatInt(i, 10), RequestType: celbridge.Hangup,
					Disposition: celbridge.DispAnswer, Billsec: 10}
				if err := c.Push(ctx, e); err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		return 0, err
	}
	return float64(n) / time.Since(began).Seconds(), nil
}

// decided is when the row deciding an expected event was committed.
type decided struct {
	key      string
	typ      string
	celID    int64
	scenario string
	rule     string
}

// live runs two celbridge daemons (polling @every 1s and @every 250ms) on an empty table
// while the generator inserts calls in real time; the stub timestamps arrivals. With the
// server's slow log on (long_query_time=0), it also records the rows examined by every poll.
func (b *bench) live(ctx context.Context) error {
	db, err := b.createDB(ctx, b.liveDB())
	if err != nil {
		return err
	}
	defer db.Close()
	if err := b.slowLogOn(ctx); err != nil {
		return err
	}
	defer b.slowLogOff(context.Background())
	insts := []instance{
		{name: "live-1s", db: b.liveDB(), schedule: "@every 1s", path: "live-1s"},
		{name: "live-250ms", db: b.liveDB(), schedule: "@every 250ms", path: "live-250ms"},
	}
	var procs []*proc
	defer func() {
		for _, p := range procs {
			p.stop()
		}
	}()
	for _, inst := range insts {
		cfgPath, storePath, err := b.writeConfig(inst)
		if err != nil {
			return err
		}
		p, err := startCelbridge(b.o.celbridge, nil, "run", "-config", cfgPath)
		if err != nil {
			return err
		}
		procs = append(procs, p)
		if err := waitFile(ctx, storePath, p); err != nil {
			return err
		}
	}
	// Idle polls: both daemons poll an empty table for a few seconds.
	time.Sleep(3 * time.Second)
	idleEnd := time.Now()

	cfg := loadgen.MapperConfig()
	var mu sync.Mutex
	inserted := map[int64]time.Time{}
	var want []decided
	exp := &expectation{}
	g := loadgen.New(2, loadgen.OnCallDone(func(c *loadgen.Call) {
		evs := c.Expected(cfg)
		mu.Lock()
		defer mu.Unlock()
		exp.add(evs)
		for _, e := range evs {
			if e.RequestType == celbridge.Received || e.RequestType == celbridge.Hangup {
				want = append(want, decided{e.IdempotencyKey(), e.RequestType, e.CELID, c.Scenario, e.Rule})
			}
		}
	}))
	b.logf("live: %.1f calls/s for %s, then until every call ended", b.o.liveRate, b.o.liveFor)
	err = g.Live(ctx, db, "cel", b.o.liveRate, b.o.liveFor, func(r celbridge.CELRow, at time.Time) {
		mu.Lock()
		inserted[r.ID] = at
		mu.Unlock()
	})
	if err != nil {
		return err
	}
	for i, inst := range insts {
		if !b.stub.waitFor(inst.path, exp.events, 30*time.Second) {
			return fmt.Errorf("%s: the stub got %d of %d events within 30s of the last insert; stderr:\n%s",
				inst.name, b.stub.received(inst.path), exp.events, tail(procs[i].stderrText(), 2000))
		}
	}
	for i, inst := range insts {
		arr := b.stub.arrivals(inst.path)
		lat := map[string][]time.Duration{}
		type slow struct {
			d time.Duration
			w decided
		}
		var worst []slow
		for _, w := range want {
			d := arr[w.key].Sub(inserted[w.celID])
			lat[w.typ] = append(lat[w.typ], d)
			worst = append(worst, slow{d, w})
		}
		slices.SortFunc(worst, func(a, b slow) int { return int(b.d - a.d) })
		for _, s := range worst[:min(len(worst), 5)] {
			b.logf("live %s slowest: %s %s %s after the insert of row %d: %s", inst.schedule, s.w.scenario, s.w.typ,
				s.d.Round(time.Millisecond), s.w.celID, s.w.rule)
		}
		interval := time.Second
		if strings.Contains(inst.schedule, "250ms") {
			interval = 250 * time.Millisecond
		}
		lr := latencyResult{Schedule: inst.schedule, Calls: exp.calls, Events: exp.events,
			Duplicates: b.stub.duplicates(inst.path), PeakRSSMiB: procs[i].peakRSS(),
			TargetMS: float64((interval + 100*time.Millisecond).Milliseconds())}
		lr.Received = summarize(lat[celbridge.Received])
		lr.Hangup = summarize(lat[celbridge.Hangup])
		b.res.Live = append(b.res.Live, lr)
		b.logf("live %s: receivedTheCall p50 %.0f ms p99 %.0f ms; hangupTheCall p50 %.0f ms p99 %.0f ms (n=%d)",
			inst.schedule, lr.Received.P50MS, lr.Received.P99MS, lr.Hangup.P50MS, lr.Hangup.P99MS, lr.Received.N)
	}
	for _, p := range procs {
		p.stop()
	}
	procs = nil
	b.slowLogOff(ctx)
	cost, err := parseSlowLog(b.o.slowLog, b.readerUser(), idleEnd)
	if err != nil {
		return err
	}
	b.res.DBCost = cost
	b.logf("db cost: %d idle polls (max %d examined), %d busy polls (%d returned, %d examined, worst examined-returned %d)",
		cost.IdlePolls, cost.IdleMaxExamined, cost.BusyPolls, cost.BusyReturned, cost.BusyExamined, cost.WorstExcess)
	return nil
}

// waitFile waits until celbridge created its store (it then has its checkpoint soon after).
func waitFile(ctx context.Context, path string, p *proc) error {
	for range 100 {
		if _, err := os.Stat(path); err == nil {
			time.Sleep(500 * time.Millisecond)
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("celbridge exited: %s", tail(p.stderrText(), 2000))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("celbridge did not create %s within 10s", path)
}

func (b *bench) slowLogOn(ctx context.Context) error {
	_ = os.Remove(b.o.slowLog)
	q := fmt.Sprintf("SET GLOBAL slow_query_log_file = '%s'; SET GLOBAL long_query_time = 0; "+
		"SET GLOBAL log_slow_verbosity = 'query_plan'; SET GLOBAL slow_query_log = 1", strings.ReplaceAll(b.o.slowLog, "'", "''"))
	_, err := b.root.ExecContext(ctx, q)
	return err
}

func (b *bench) slowLogOff(ctx context.Context) {
	_, _ = b.root.ExecContext(ctx, "SET GLOBAL slow_query_log = 0; SET GLOBAL long_query_time = 10")
}

// parseSlowLog reads the poll queries (SELECT … WHERE id > …) user ran and sums what they
// returned and examined; those logged before idleEnd with no row returned are idle polls.
func parseSlowLog(path, user string, idleEnd time.Time) (dbCost, error) {
	var c dbCost
	f, err := os.Open(path)
	if err != nil {
		return c, fmt.Errorf("read the slow log: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	var ours bool
	var sent, examined int64
	var stamp int64
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "# User@Host: "):
			ours = strings.HasPrefix(line, "# User@Host: "+user+"[")
		case strings.HasPrefix(line, "# Query_time: "):
			sent, examined = field(line, "Rows_sent:"), field(line, "Rows_examined:")
		case strings.HasPrefix(line, "SET timestamp="):
			stamp, _ = strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(line, "SET timestamp="), ";"), 10, 64)
		case ours && strings.HasPrefix(line, "SELECT ") && strings.Contains(line, "WHERE id > "):
			ours = false
			c.Polls++
			if sent == 0 && time.Unix(stamp, 0).Before(idleEnd) {
				c.IdlePolls++
				c.IdleMaxExamined = max(c.IdleMaxExamined, examined)
				continue
			}
			if sent == 0 {
				c.EmptyPolls++
				c.EmptyMaxExamined = max(c.EmptyMaxExamined, examined)
				continue
			}
			c.BusyPolls++
			c.BusyReturned += sent
			c.BusyExamined += examined
			c.WorstExcess = max(c.WorstExcess, examined-sent)
		}
	}
	if err := sc.Err(); err != nil {
		return c, err
	}
	if c.Polls == 0 {
		return c, fmt.Errorf("no poll query of user %s in the slow log %s", user, path)
	}
	return c, nil
}

func field(line, name string) int64 {
	i := strings.Index(line, name)
	if i < 0 {
		return -1
	}
	rest := strings.Fields(line[i+len(name):])
	if len(rest) == 0 {
		return -1
	}
	n, _ := strconv.ParseInt(rest[0], 10, 64)
	return n
}

// startDaemon starts `celbridge run` on database dbName with a config, store and metrics
// listener of its own (named name), and waits until it created its store. It returns the
// process, its config file, its store and the metrics address.
func (b *bench) startDaemon(ctx context.Context, name, dbName string) (p *proc, cfgPath, storePath, listen string, err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", "", "", err
	}
	listen = ln.Addr().String()
	ln.Close()
	cfgPath, storePath, err = b.writeConfig(instance{name: name, db: dbName, schedule: "@every 1s", path: name, listen: listen})
	if err != nil {
		return nil, "", "", "", err
	}
	if p, err = startCelbridge(b.o.celbridge, nil, "run", "-config", cfgPath); err != nil {
		return nil, "", "", "", err
	}
	if err := waitFile(ctx, storePath, p); err != nil {
		p.stop()
		return nil, "", "", "", err
	}
	return p, cfgPath, storePath, listen, nil
}

// memory runs a daemon while the generator inserts open-calls calls that all start before
// any ends, and records the daemon's peak RSS and the most calls its mapper held open.
func (b *bench) memory(ctx context.Context) error {
	db, err := b.createDB(ctx, b.memDB())
	if err != nil {
		return err
	}
	defer db.Close()
	p, _, storePath, listen, err := b.startDaemon(ctx, "memory", b.memDB())
	if err != nil {
		return err
	}
	defer p.stop()
	var peakOpen atomic.Int64
	scrapeCtx, stopScrape := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { scrapeOpenCalls(scrapeCtx, "http://"+listen+"/metrics", &peakOpen) })
	defer func() { stopScrape(); wg.Wait() }()

	cfg := loadgen.MapperConfig()
	exp := &expectation{}
	g := loadgen.New(3, loadgen.WithRate(100_000), loadgen.WithMaxCalls(b.o.openCalls),
		loadgen.WithStart(time.Now().UTC()), loadgen.OnCallDone(func(c *loadgen.Call) { exp.add(c.Expected(cfg)) }))
	var batch []celbridge.CELRow
	for {
		bu, ok := g.Next()
		if !ok {
			break
		}
		batch = append(batch, bu.Rows...)
		if len(batch) >= 5000 {
			if err := loadgen.Insert(ctx, db, "cel", batch); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	if err := loadgen.Insert(ctx, db, "cel", batch); err != nil {
		return err
	}
	if !b.stub.waitFor("memory", exp.events, 3*time.Minute) {
		return fmt.Errorf("memory: the stub got %d of %d events", b.stub.received("memory"), exp.events)
	}
	time.Sleep(1500 * time.Millisecond) // a last metrics scrape
	r := &b.res.Memory
	r.Calls, r.GeneratorPeakOpen, r.DaemonPeakOpen = g.Calls(), g.PeakOpen(), int(peakOpen.Load())
	r.PeakRSSMiB, r.HWMMiB = p.peakRSS(), p.hwm()
	r.StoreMiB = float64(fileSize(storePath)+fileSize(storePath+"-wal")) / (1 << 20)
	b.logf("memory: %d calls (generator peak open %d, daemon peak open %d), peak RSS %.1f MiB (VmHWM %.1f MiB)",
		r.Calls, r.GeneratorPeakOpen, r.DaemonPeakOpen, r.PeakRSSMiB, r.HWMMiB)
	return nil
}

// scrapeOpenCalls polls celbridge_open_calls and keeps its maximum.
func scrapeOpenCalls(ctx context.Context, url string, peak *atomic.Int64) {
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		if resp, err := client.Get(url); err == nil {
			sc := bufio.NewScanner(resp.Body)
			for sc.Scan() {
				if v, ok := strings.CutPrefix(sc.Text(), "celbridge_open_calls "); ok {
					if f, err := strconv.ParseFloat(v, 64); err == nil && int64(f) > peak.Load() {
						peak.Store(int64(f))
					}
				}
			}
			resp.Body.Close()
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// summarize gives percentiles of ds in milliseconds.
func summarize(ds []time.Duration) percentiles {
	if len(ds) == 0 {
		return percentiles{}
	}
	slices.Sort(ds)
	at := func(q float64) float64 {
		i := int(q*float64(len(ds)-1) + 0.5)
		return float64(ds[i].Microseconds()) / 1000
	}
	return percentiles{N: len(ds), P50MS: at(0.5), P99MS: at(0.99), MaxMS: at(1), MinMS: at(0)}
}
