// Command celbridge connects FreePBX's CEL table to a CRM that accepts Binotel-format PUSH
// requests (Clinica Web). See README.md and `celbridge help`.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
	_ "time/tzdata" // mysql.timezone must work on a machine without /usr/share/zoneinfo
)

// Set at build time with -ldflags "-X main.version=… -X main.commit=… -X main.date=…".
var (
	version = "dev"
	commit  = ""
	date    = ""
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1 // something went wrong at run time
	exitUsage   = 2 // bad command line or configuration
)

const usage = `celbridge connects FreePBX's CEL table to a Binotel-format CRM (Clinica Web).

Usage:
  celbridge run -config FILE        the daemon: poll CEL, push events, serve /metrics and /healthz
  celbridge once -config FILE       one poll and one delivery pass (for cron); non-zero if anything failed
  celbridge backfill -config FILE -from TIME [-to TIME] [-dry-run]
                                    rebuild and send the calls that started in a range (also -from-id/-to-id)
  celbridge explain -config FILE ID the CEL rows of one call (linkedid or generalCallID) and each request, with why
  celbridge check -config FILE      check config, MySQL grants, CEL, CRM reachability and store; exit 0 if all pass
  celbridge status -config FILE [-json]
                                    cursor, lag, open calls, outbox and last CRM error (safe while run runs)
  celbridge retry -config FILE [ID] re-queue events parked as failed (ID: generalCallID or Idempotency-Key; none: all)
  celbridge demo                    replay bundled sample calls into a built-in CRM receiver; needs no PBX
  celbridge version                 version and build info (also --version)

Run 'celbridge COMMAND -h' for a command's flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	stopProfile := cpuProfile(os.Getenv("CELBRIDGE_CPUPROFILE"))
	code := commandLine{readConfig: ReadConfigFile, process: true}.main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stopProfile()
	stop()
	os.Exit(code)
}

// cpuProfile writes a CPU profile of the whole process to path, when set (scripts/bench.sh
// profiles backfill with it; see BENCHMARKS.md). It returns the function that ends it.
func cpuProfile(path string) func() {
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err == nil {
		err = pprof.StartCPUProfile(f)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "celbridge: CELBRIDGE_CPUPROFILE:", err)
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}

// usageError is a problem with the command line or the configuration: exit code 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// commandLine runs celbridge's commands. Tests run them in-process with a readConfig that
// returns a Config built in Go; the process's own settings (Go's memory limit and GC, the
// MySQL driver's global logger) are made only when process is set, by main.
type commandLine struct {
	readConfig func(path string) (Config, error) // ReadConfigFile
	process    bool
}

// Main runs the command line args as main does, without the process-wide settings, and
// returns the exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return commandLine{readConfig: ReadConfigFile}.main(ctx, args, stdout, stderr)
}

// main runs the command line args and returns the process exit code.
func (cl commandLine) main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	cmds := map[string]func(context.Context, []string, io.Writer, io.Writer) error{
		"run":      cl.cmdRun,
		"once":     cl.cmdOnce,
		"backfill": cl.cmdBackfill,
		"demo":     cmdDemo,
		"check":    cl.cmdCheck,
		"status":   cl.cmdStatus,
		"explain":  cl.cmdExplain,
		"retry":    cl.cmdRetry,
		"version":  cmdVersion,
	}
	name := args[0]
	if name == "--version" || name == "-version" {
		name = "version"
	}
	if name == "help" || name == "-h" || name == "--help" || name == "-help" {
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	cmd, ok := cmds[name]
	if !ok {
		fmt.Fprintf(stderr, "celbridge: unknown command %q\n\n%s", name, usage)
		return exitUsage
	}
	return exitCode(name, cmd(ctx, args[1:], stdout, stderr), stderr)
}

// exitCode prints the error of command name, if any, and returns the exit code it means.
func exitCode(name string, err error, stderr io.Writer) int {
	var ue usageError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "celbridge %s: %v\n", name, err)
		return exitUsage
	default:
		fmt.Fprintf(stderr, "celbridge %s: %v\n", name, err)
		return exitFailure
	}
}

// newFlags returns a flag set whose errors become usage errors and whose -h shows the
// command's usage line and what it does (help.go).
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = usageFunc(fs, name, stderr)
	return fs
}

// parseFlags parses args and wraps a bad command line as a usage error.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	return nil
}

// loadConfig reads the config file; any problem is a usage error.
func (cl commandLine) loadConfig(path string) (Config, error) {
	cfg, err := cl.readConfig(path)
	if err != nil {
		return cfg, usageError{err}
	}
	return cfg, nil
}

// newLogger builds the slog logger described by [log]. Its level is a LevelVar, so that a
// SIGHUP can change it (reload.go); pass nil when that is not needed.
func newLogger(c LogConfig, w io.Writer, level *slog.LevelVar) *slog.Logger {
	if level == nil {
		level = new(slog.LevelVar)
	}
	l, _ := parseLevel(c.Level)
	level.Set(l)
	opts := &slog.HandlerOptions{Level: level}
	var log *slog.Logger
	if c.Format == "json" {
		log = slog.New(slog.NewJSONHandler(w, opts))
	} else {
		log = slog.New(slog.NewTextHandler(w, opts))
	}
	return log
}

func cmdVersion(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("version", stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "celbridge %s\n", buildInfo())
	return nil
}
