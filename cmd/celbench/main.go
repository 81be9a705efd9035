// Command celbench measures celbridge against a MariaDB server it may write to (the bench's
// own throwaway server; never a PBX): backfill throughput against the raw rate MariaDB
// streams CEL rows, live latency from CEL insert to the CRM, rows examined per poll, and
// memory. It runs the real celbridge binary and a local CRM stub. scripts/bench.sh builds
// both, starts the server and runs it; see BENCHMARKS.md.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/celbridge/celbridge/internal/celschema"
	"github.com/go-sql-driver/mysql"
	"github.com/jmoiron/sqlx"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "celbench:", err)
		os.Exit(1)
	}
}

// options are celbench's flags.
type options struct {
	dsn       string // root DSN of the bench server
	celbridge string // the binary under test
	work      string // scratch directory (configs, stores)
	schema    string // FreePBX's cel DDL
	slowLog   string // where the server may write its slow log
	rows      int64
	liveRate  float64
	liveFor   time.Duration
	openCalls int
	phases    string
	rounds    int
	jsonOut   string
	prefix    string
	drop      bool
	reuse     bool
	conc      int
	mariadb   string // the mariadb command-line client, the read baseline
	// issue 13
	rowsMemory    int64   // rows of the bigmem backfill (0: not run)
	catchupPerDay float64 // calls a day in the catch-up measurement
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o options
	fs := flag.NewFlagSet("celbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.dsn, "dsn", os.Getenv("BENCH_MARIADB_DSN"), "root DSN of the bench MariaDB server (it creates databases celbench_*)")
	fs.StringVar(&o.celbridge, "celbridge", "celbridge", "celbridge binary to measure")
	fs.StringVar(&o.work, "work", "", "scratch directory (default: a temp dir)")
	fs.StringVar(&o.schema, "schema", "", "file with the cel table's DDL (default: FreePBX's, built in)")
	fs.StringVar(&o.slowLog, "slow-log", "", "slow log path for the rows-examined measurement (the server must be able to write it; default: in -work)")
	fs.Int64Var(&o.rows, "rows", 1_000_000, "CEL rows for the backfill measurements")
	fs.Float64Var(&o.liveRate, "live-rate", 5, "calls per second in the live latency measurement")
	fs.DurationVar(&o.liveFor, "live-for", 40*time.Second, "how long calls start in the live measurement (they then run to their end)")
	fs.IntVar(&o.openCalls, "open-calls", 10_000, "calls open at once in the memory measurement")
	fs.StringVar(&o.phases, "phases", "load,raw,send,catchup,live,memory", "phases to run (bigmem is added by -rows-memory)")
	fs.IntVar(&o.rounds, "rounds", 3, "rounds of (a) raw stream + (b) dry-run; the best of each is reported")
	fs.StringVar(&o.prefix, "prefix", "celbench", "name of the reader user and prefix of the databases created")
	fs.StringVar(&o.mariadb, "mariadb", "mariadb", "MariaDB's command-line client: its --quick stream is the read baseline")
	fs.Int64Var(&o.rowsMemory, "rows-memory", 0, "also back-fill this many rows (e.g. 10000000) for its peak RSS (phase bigmem; takes long)")
	fs.Float64Var(&o.catchupPerDay, "catchup-calls-per-day", 15000, "calls a day in the catch-up measurement (3 days; 200 phones × 75)")
	fs.IntVar(&o.conc, "crm-concurrency", 0, "crm.concurrency of the celbridge under test (0: its default)")
	fs.BoolVar(&o.reuse, "reuse", false, "load: keep the bulk table of an earlier run with the same -rows (skips the INSERTs)")
	fs.BoolVar(&o.drop, "drop", false, "drop the databases and the user at the end")
	fs.StringVar(&o.jsonOut, "json", "", "also write the results as JSON to this file")
	env := fs.String("celbridge-env", "", "space-separated NAME=value pairs for celbridge's environment (e.g. GOGC=400)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	celbridgeEnv = strings.Fields(*env)
	if o.dsn == "" {
		return fmt.Errorf("-dsn (or BENCH_MARIADB_DSN) is required")
	}
	if o.work == "" {
		d, err := os.MkdirTemp("", "celbench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		o.work = d
	}
	if err := os.MkdirAll(o.work, 0o755); err != nil {
		return err
	}
	if o.slowLog == "" {
		o.slowLog = filepath.Join(o.work, "slow.log")
	}
	b, err := newBench(ctx, o, stderr)
	if err != nil {
		return err
	}
	defer b.close()
	phases := map[string]func(context.Context) error{
		"load":    b.load,
		"raw":     b.raw,
		"send":    b.send,
		"live":    b.live,
		"memory":  b.memory,
		"catchup": b.catchup,
		"bigmem":  b.bigmem,
	}
	names := strings.Split(o.phases, ",")
	if o.rowsMemory > 0 && !slices.Contains(names, "bigmem") {
		names = append(names, "bigmem")
	}
	for _, name := range names {
		f, ok := phases[name]
		if !ok {
			return fmt.Errorf("unknown phase %q", name)
		}
		began := time.Now()
		b.logf("phase %s", name)
		if err := f(ctx); err != nil {
			return fmt.Errorf("phase %s: %w", name, err)
		}
		b.logf("phase %s done in %s", name, time.Since(began).Round(100*time.Millisecond))
	}
	b.res.report(stdout)
	if o.jsonOut != "" {
		j, _ := json.MarshalIndent(b.res, "", "  ")
		if err := os.WriteFile(o.jsonOut, j, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// bench holds what the phases share.
type bench struct {
	o        options
	log      io.Writer
	rootCfg  *mysql.Config
	root     *sqlx.DB
	stub     *stub
	readerPW string
	res      results
	began    time.Time
}

// The bench's databases and reader user are named from -prefix.
func (b *bench) readerUser() string { return b.o.prefix }
func (b *bench) bulkDB() string     { return b.o.prefix + "_bulk" }
func (b *bench) liveDB() string     { return b.o.prefix + "_live" }
func (b *bench) memDB() string      { return b.o.prefix + "_mem" }

func newBench(ctx context.Context, o options, log io.Writer) (*bench, error) {
	cfg, err := mysql.ParseDSN(o.dsn)
	if err != nil {
		return nil, fmt.Errorf("parse -dsn: %w", err)
	}
	cfg.MultiStatements = true
	b := &bench{o: o, log: log, rootCfg: cfg, readerPW: "celbench-reader", began: time.Now()}
	if b.root, err = sqlx.Open("mysql", cfg.FormatDSN()); err != nil {
		return nil, err
	}
	b.root.SetMaxOpenConns(4)
	if err := b.root.PingContext(ctx); err != nil {
		return nil, fmt.Errorf("connect to the bench server: %w", err)
	}
	if b.stub, err = newStub(); err != nil {
		return nil, err
	}
	if err := b.root.GetContext(ctx, &b.res.Machine.MariaDB, "SELECT VERSION()"); err != nil {
		return nil, err
	}
	b.res.Machine.fill()
	_, err = b.root.ExecContext(ctx, fmt.Sprintf("CREATE USER IF NOT EXISTS '%s'@'%%' IDENTIFIED BY '%s'", b.readerUser(), b.readerPW))
	return b, err
}

func (b *bench) close() {
	if b.o.drop {
		q := fmt.Sprintf("DROP DATABASE IF EXISTS `%[1]s`; DROP DATABASE IF EXISTS `%[2]s`; DROP DATABASE IF EXISTS `%[3]s`; "+
			"DROP DATABASE IF EXISTS `%[5]s`; DROP DATABASE IF EXISTS `%[6]s`; DROP USER IF EXISTS '%[4]s'@'%%'",
			b.bulkDB(), b.liveDB(), b.memDB(), b.readerUser(), b.catchupDB(), b.bigDB())
		if _, err := b.root.ExecContext(context.Background(), q); err != nil {
			b.logf("drop: %v", err)
		}
	}
	b.stub.srv.Close()
	b.root.Close()
}

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(b.log, "celbench %6.1fs: %s\n", time.Since(b.began).Seconds(), fmt.Sprintf(format, args...))
}

// createDB (re)creates database name with an empty cel table the reader may SELECT.
func (b *bench) createDB(ctx context.Context, name string) (*sqlx.DB, error) {
	ddl := []byte(celschema.DDL)
	if b.o.schema != "" {
		var err error
		if ddl, err = os.ReadFile(b.o.schema); err != nil {
			return nil, err
		}
	}
	q := fmt.Sprintf("DROP DATABASE IF EXISTS `%[1]s`; CREATE DATABASE `%[1]s`; USE `%[1]s`; %[2]s; GRANT SELECT ON `%[1]s`.`cel` TO '%[3]s'@'%%'",
		name, strings.TrimSuffix(strings.TrimSpace(string(ddl)), ";"), b.readerUser())
	if _, err := b.root.ExecContext(ctx, q); err != nil {
		return nil, fmt.Errorf("create %s: %w", name, err)
	}
	cfg := b.rootCfg.Clone()
	cfg.DBName = name
	db, err := sqlx.Open("mysql", cfg.FormatDSN())
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(4)
	return db, nil
}

// readerDSN is the SELECT-only user's DSN for database name, as celbridge would be given it.
func (b *bench) readerDSN(name string) string {
	cfg := b.rootCfg.Clone()
	cfg.User, cfg.Passwd, cfg.DBName = b.readerUser(), b.readerPW, name
	cfg.MultiStatements = false
	cfg.Params = nil
	return cfg.FormatDSN()
}

// instance is one celbridge configuration.
type instance struct {
	name, db, schedule, path string
	listen                   string // http.listen ("" = off)
	batch                    int
}

// writeConfig writes inst's celbridge.toml into the work dir and returns its path and the
// store's path. The store starts empty.
func (b *bench) writeConfig(inst instance) (cfgPath, storePath string, err error) {
	dir := filepath.Join(b.o.work, inst.name)
	if err := os.RemoveAll(dir); err != nil {
		return "", "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", err
	}
	storePath = filepath.Join(dir, "state.db")
	batch := inst.batch
	if batch == 0 {
		batch = 1000
	}
	conc := ""
	if b.o.conc > 0 {
		conc = fmt.Sprintf("concurrency = %d\n", b.o.conc)
	}
	toml := fmt.Sprintf(`[mysql]
dsn = %q
table = "cel"
timezone = "UTC"
batch_size = %d

[poll]
schedule = %q

[store]
path = %q

[http]
listen = %q

[log]
level = "warn"

%s
url = %q
%s`, b.readerDSN(inst.db), batch, inst.schedule, storePath, inst.listen, loadgenConfigTOML, b.stub.url+"/"+inst.path, conc)
	cfgPath = filepath.Join(dir, "celbridge.toml")
	return cfgPath, storePath, os.WriteFile(cfgPath, []byte(toml), 0o600)
}
