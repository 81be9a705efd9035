package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// proc is a celbridge process under measurement: its RSS is sampled while it runs.
type proc struct {
	cmd     *exec.Cmd
	stderr  bytes.Buffer
	started time.Time

	mu      sync.Mutex
	samples []rssSample
	done    chan struct{}
	err     error
}

type rssSample struct {
	at  time.Duration // since start
	kib int64
}

// celbridgeEnv is added to the environment of every celbridge started (-celbridge-env).
var celbridgeEnv []string

// startCelbridge starts bin with args; stdout goes to out (nil: discarded).
func startCelbridge(bin string, out io.Writer, args ...string) (*proc, error) {
	p := &proc{done: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Env = append(os.Environ(), celbridgeEnv...)
	p.cmd.Stdout = out
	p.cmd.Stderr = &lockedWriter{w: &p.stderr}
	p.started = time.Now()
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	go p.sample()
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// lockedWriter serialises a process's stdout and stderr into one writer (a log file). It
// wraps any writer, where internal/clitest's Buffer is a locked buffer for tests.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

func (p *proc) sample() {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		if kib, ok := procStatus(p.cmd.Process.Pid, "VmRSS"); ok {
			p.mu.Lock()
			p.samples = append(p.samples, rssSample{time.Since(p.started), kib})
			p.mu.Unlock()
		}
		select {
		case <-p.done:
			return
		case <-t.C:
		}
	}
}

// procStatus reads a "kB" field of /proc/<pid>/status.
func procStatus(pid int, field string) (int64, bool) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}

// peakRSS is the highest sampled RSS in MiB, and VmHWM (the kernel's high-water mark) when it
// could still be read.
func (p *proc) peakRSS() float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	var m int64
	for _, s := range p.samples {
		m = max(m, s.kib)
	}
	return float64(m) / 1024
}

// rssAt returns the RSS (MiB) sampled closest after fraction f of the run so far.
func (p *proc) rssProfile(points []float64) []float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]float64, len(points))
	if len(p.samples) == 0 {
		return out
	}
	end := p.samples[len(p.samples)-1].at
	for i, f := range points {
		at := time.Duration(float64(end) * f)
		for _, s := range p.samples {
			if s.at >= at {
				out[i] = float64(s.kib) / 1024
				break
			}
		}
	}
	return out
}

func (p *proc) hwm() float64 {
	kib, _ := procStatus(p.cmd.Process.Pid, "VmHWM")
	return float64(kib) / 1024
}

// wait waits for the process to exit; a failure includes the end of its stderr.
func (p *proc) wait(ctx context.Context) error {
	select {
	case <-ctx.Done():
		p.cmd.Process.Kill()
		<-p.done
		return ctx.Err()
	case <-p.done:
	}
	if p.err != nil {
		return fmt.Errorf("%s: %w\n%s", strings.Join(p.cmd.Args, " "), p.err, tail(p.stderrText(), 2000))
	}
	return nil
}

// stop sends SIGTERM and waits.
func (p *proc) stop() error {
	_ = p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
	return nil
}

func (p *proc) stderrText() string {
	w := p.cmd.Stderr.(*lockedWriter)
	w.mu.Lock()
	defer w.mu.Unlock()
	return p.stderr.String()
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// lineCounter counts newline-terminated lines written to it.
type lineCounter struct {
	mu    sync.Mutex
	lines int64
	bytes int64
}

func (c *lineCounter) Write(b []byte) (int, error) {
	c.mu.Lock()
	c.lines += int64(bytes.Count(b, []byte{'\n'}))
	c.bytes += int64(len(b))
	c.mu.Unlock()
	return len(b), nil
}
