// Package clitest runs the celbridge binary in tests: it builds it once per test binary,
// runs commands to their end, starts and stops daemons, and waits for conditions. The
// command tests of cmd/celbridge and the end-to-end tests of e2e use it; what can be tested
// in-process is tested without it.
package clitest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/celbridge/celbridge/internal/clock"
	"github.com/celbridge/celbridge/internal/testdb"
)

// Stamped into the binary, as the Makefile does; `celbridge version` prints them.
const (
	Version = "v9.9.9-test"
	Commit  = "0123456789ab"
	Date    = "2026-11-26T00:00:00Z"
)

// Option changes how Build builds.
type Option func(*options)

type options struct{ noRace bool }

// NoRace builds without the race detector even when the tests run with it: for tests that
// drive the daemon through thousands of rows against deadlines (e2e), where the detector's
// slowdown would be measured instead of celbridge.
func NoRace(o *options) { o.noRace = true }

// Main builds the binary into a temporary directory, stores its path in *bin, runs the
// tests and removes the directory; TestMain passes its result to os.Exit.
func Main(m *testing.M, bin *string, opts ...Option) int {
	dir, err := os.MkdirTemp("", "celbridge-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	if *bin, err = Build(dir, opts...); err != nil {
		fmt.Fprintln(os.Stderr, "build celbridge for the tests:", err)
		return 1
	}
	return m.Run()
}

// Build builds cmd/celbridge into dir with the version stamped in, with the race detector
// when the tests run with it (so the daemon's goroutines are checked too) and with the clock
// moved when the tests' clock is (internal/clock). Go's build cache makes a second build of
// the same source by another test package a link only.
func Build(dir string, opts ...Option) (string, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	root, err := testdb.FindModuleRoot()
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, "celbridge")
	args := []string{"build", "-o", out, "-ldflags",
		fmt.Sprintf("-X main.version=%s -X main.commit=%s -X main.date=%s", Version, Commit, Date)}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "-race" && s.Value == "true" && !o.noRace {
				args = append(args, "-race")
			}
		}
	}
	if clock.Tags != "" {
		args = append(args, "-tags", clock.Tags)
	}
	cmd := exec.Command(goTool(), append(args, "./cmd/celbridge")...)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/celbridge: %v\n%s", err, b)
	}
	return out, nil
}

func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	//lint:ignore SA1019 the tests run on the machine that built them, where it is meaningful
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}

// Result is the outcome of one command run to its end.
type Result struct {
	Code           int
	Stdout, Stderr string
}

// Run runs bin with args to its end (at most a minute); env entries are added to the
// environment.
func Run(t testing.TB, bin string, env []string, args ...string) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = dieWithTest()
	var out, errw bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errw
	err := cmd.Run()
	r := Result{Stdout: out.String(), Stderr: errw.String()}
	if ctx.Err() != nil {
		t.Fatalf("celbridge %v still ran after a minute; killed\n%s%s", args, r.Stdout, r.Stderr)
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		r.Code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run celbridge %v: %v", args, err)
	}
	return r
}

// dieWithTest has the kernel kill a command when the test process dies (a -timeout panic
// runs no cleanup): no daemon outlives its test, holding ports and test databases.
func dieWithTest() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// Process is a celbridge command running in the background.
type Process struct {
	Cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// Start starts bin with args, its stdout and stderr going to out. The process is killed when
// the test ends, if it still runs.
func Start(t testing.TB, bin string, out io.Writer, args ...string) *Process {
	t.Helper()
	p := &Process{Cmd: exec.Command(bin, args...), done: make(chan struct{})}
	p.Cmd.Stdout, p.Cmd.Stderr = out, out
	p.Cmd.SysProcAttr = dieWithTest()
	if err := p.Cmd.Start(); err != nil {
		t.Fatalf("start celbridge %v: %v", args, err)
	}
	go func() {
		p.err = p.Cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(p.Kill)
	return p
}

// Done is closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Exited reports whether the process has exited.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Err is what Wait returned; valid once Done is closed.
func (p *Process) Err() error { return p.err }

// Code is the exit code once Done is closed: 0, the code, or -1 for a signal.
func (p *Process) Code() int {
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		return ee.ExitCode()
	}
	if p.err != nil {
		return -1
	}
	return 0
}

// Kill sends SIGKILL and waits for the process to be gone.
func (p *Process) Kill() {
	p.Cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// Stop sends SIGTERM and waits up to 30s for the exit; it returns the exit code, or -1 when
// it had to kill the process.
func (p *Process) Stop() int {
	p.Cmd.Process.Signal(syscall.SIGTERM)
	return p.Wait(30 * time.Second)
}

// Wait waits up to timeout for the process to exit and returns its exit code, or kills it
// and returns -1.
func (p *Process) Wait(timeout time.Duration) int {
	select {
	case <-p.done:
		return p.Code()
	case <-time.After(timeout):
		p.Kill()
		return -1
	}
}

// Until polls cond every 50ms until it holds (true) or timeout passes (false).
func Until(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
	return true
}

// WaitFor is Until that fails the test when timeout passes; what describes the awaited state.
func WaitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	if !Until(timeout, cond) {
		t.Fatalf("timed out after %s waiting for %s", timeout, what)
	}
}

// Buffer is a bytes.Buffer safe for a writing process and a reading test.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
