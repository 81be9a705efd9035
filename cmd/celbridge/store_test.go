package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite" // to damage a state file by hand

	"github.com/celbridge/celbridge/internal/clitest"
	"github.com/celbridge/celbridge/internal/clock"
	"github.com/celbridge/celbridge/store"
)

// TestRun_StopsWhenStoreLost deletes the state file under a running daemon (idle, nothing
// to write) and checks that it stops with exit 1 and says what to do, with the backfill
// that resends what the lost file held, instead of writing on into the deleted file.
func TestRun_StopsWhenStoreLost(t *testing.T) {
	t.Parallel()
	s := newSite(t, opts{})
	d := startRun(t, s.config)
	s.nowCall(t, 1, time.UTC)
	clitest.WaitFor(t, 20*time.Second, "the call's hangupTheCall at the CRM", func() bool { return s.crm.hangups() == 1 })
	// Idle: every request the CRM got is recorded as delivered (the line is logged after the
	// outbox wrote it), so the hint names the first CEL id after them.
	clitest.WaitFor(t, 20*time.Second, "every request recorded as delivered", func() bool {
		return strings.Count(d.log.String(), `msg="crm push delivered"`) == len(s.crm.received())
	})
	for _, p := range []string{s.store, s.store + "-wal", s.store + "-shm"} {
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-d.Done():
	case <-time.After(20 * time.Second):
		t.Fatalf("celbridge run still runs 20s after its store was deleted:\n%s", d.log)
	}
	var ee *exec.ExitError
	if !errors.As(d.Err(), &ee) || ee.ExitCode() != 1 {
		t.Errorf("exit: %v, want exit status 1", d.Err())
	}
	for _, want := range []string{"celbridge run: store " + s.store + " was deleted or moved away",
		"put it back", "celbridge backfill -from-id 14"} {
		if !strings.Contains(d.log.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, d.log)
		}
	}
}

// TestStatus_FirstStart starts the daemon for the first time on a CEL table that already
// holds a call: status shows where it began, so that a store lost and begun afresh is seen.
func TestStatus_FirstStart(t *testing.T) {
	t.Parallel()
	s := newSite(t, opts{})
	s.nowCall(t, 1, time.UTC)
	before := clock.Now().Truncate(time.Second)
	if r := s.do(t, "once"); r.code != 0 {
		t.Fatalf("once: exit %d\n%s", r.code, r.stderr)
	}
	after := clock.Now()
	r := s.do(t, "status")
	if r.code != 0 {
		t.Fatalf("status: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	line := regexp.MustCompile(`(?m)^first start     \d{4}-\d\d-\d\d \d\d:\d\d:\d\d, \S+ ago, began at CEL id 13 \(calls before were not sent; use backfill\)$`)
	if !line.MatchString(r.stdout) {
		t.Errorf("status lacks the first start line:\n%s", r.stdout)
	}
	r = s.do(t, "status", "-json")
	var got statusReport
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || r.code != 0 {
		t.Fatalf("status -json: exit %d, %v\n%s", r.code, err, r.stdout)
	}
	if got.FirstStartCursor == nil || *got.FirstStartCursor != 13 || got.FirstStartAt == nil ||
		got.FirstStartAt.Before(before) || got.FirstStartAt.After(after) {
		t.Errorf("status -json: first start %v at cursor %v; want between %s and %s at 13\n%s",
			got.FirstStartAt, got.FirstStartCursor, before, after, r.stdout)
	}
}

func TestStatusReport_FirstStart(t *testing.T) {
	now := time.Date(2026, 11, 26, 9, 30, 0, 0, time.UTC)
	at := now.Add(-76 * time.Hour)
	for _, tc := range []struct {
		cursor int64
		want   string
	}{
		{1013, "first start     2026-11-23 05:30:00, 3d4h ago, began at CEL id 1013 (calls before were not sent; use backfill)\n"},
		{0, "first start     2026-11-23 05:30:00, 3d4h ago, began at CEL id 0 (the CEL table was empty)\n"},
	} {
		cursor, newest := tc.cursor, tc.cursor
		r := &statusReport{Store: "/var/lib/celbridge/state.db", Cursor: &cursor, FirstStartAt: &at,
			FirstStartCursor: &cursor, NewestID: &newest}
		var out strings.Builder
		r.print(&out, now)
		if !strings.Contains(out.String(), tc.want) {
			t.Errorf("status output lacks %q:\n%s", tc.want, out.String())
		}
	}
	var out strings.Builder
	(&statusReport{Store: "x", NewestID: new(int64)}).print(&out, now)
	if strings.Contains(out.String(), "\nfirst start ") {
		t.Errorf("a store with no first start on record shows one:\n%s", out.String())
	}
}

// TestCheck_ConfigReadable warns when the config holds the MySQL password and every user may
// read it; a warning does not fail check.
func TestCheck_ConfigReadable(t *testing.T) {
	t.Parallel()
	s := newSite(t, opts{})
	s.nowCall(t, 1, time.UTC)
	for _, mode := range []os.FileMode{0o644, 0o604, 0o640, 0o600} {
		if err := os.Chmod(s.config, mode); err != nil {
			t.Fatal(err)
		}
		r := cli(t, nil, "check", "-config", s.config)
		if r.code != 0 {
			t.Errorf("mode %04o: exit %d, want 0 (a warning)\n%s", mode, r.code, r.stdout)
		}
		if mode&0o004 == 0 {
			if strings.Contains(r.stdout, "readable by every user") {
				t.Errorf("mode %04o: warned:\n%s", mode, r.stdout)
			}
			continue
		}
		wantLine(t, r.stdout, "!", fmt.Sprintf("config %s is readable by every user (mode %04o) and holds the MySQL password (mysql.dsn)", s.config, mode),
			"→ chmod 640 "+s.config+" && chgrp celbridge "+s.config)
	}
}

func TestConfigSecrets(t *testing.T) {
	for _, tc := range []struct {
		dsn, url string
		headers  map[string]string
		want     []string
	}{
		{"celbridge@unix(/run/mysqld/mysqld.sock)/asteriskcdrdb", "https://crm.example/push", nil, nil},
		{"celbridge:s3cret@tcp(127.0.0.1:3306)/asteriskcdrdb", "https://crm.example/push", nil,
			[]string{"the MySQL password (mysql.dsn)"}},
		{"celbridge@tcp(127.0.0.1:3306)/asteriskcdrdb", "https://u:p@crm.example/push",
			map[string]string{"X-Token": "t0k3n", "Authorization": "Bearer x", "X-Empty": ""},
			[]string{"a password in crm.url", "crm.headers values (Authorization, X-Token)"}},
	} {
		cfg := DefaultConfig()
		cfg.MySQL.DSN, cfg.CRM.URL, cfg.CRM.Headers = tc.dsn, tc.url, tc.headers
		if got := configSecrets(cfg); !slices.Equal(got, tc.want) {
			t.Errorf("configSecrets(%s, %s, %v) = %q, want %q", tc.dsn, tc.url, tc.headers, got, tc.want)
		}
	}
}

// runBehindBackfill starts a backfill that delivers its events itself (the CRM answers 503,
// so it keeps the store's lock), then a run, and waits until the run says it waits for it.
func runBehindBackfill(t *testing.T) (s *site, backfill, run *process) {
	t.Helper()
	s = newSite(t, opts{})
	s.nowCall(t, 1, time.UTC)
	s.crm.setStatus(http.StatusServiceUnavailable)
	backfill = startProcess(t, "backfill", "-config", s.config, "-from-id", "1")
	clitest.WaitFor(t, 20*time.Second, "the backfill to hold the store's lock", func() bool {
		busy, err := store.InUse(s.store)
		return busy && err == nil
	})
	run = startProcess(t, "run", "-config", s.config)
	clitest.WaitFor(t, 20*time.Second, "run to say it waits", func() bool {
		run.exited(t)
		return strings.Contains(run.log.String(), "store in use by a backfill that delivers its events; waiting for it to finish")
	})
	return s, backfill, run
}

// TestRun_WaitsForBackfill starts run while a backfill delivers its events itself (the CRM
// answers 503, so it holds the store's lock): run waits, saying so once, instead of exiting
// 1 into a restart loop, and starts when the backfill is done. once, which cron repeats, and
// a second run are told at once who holds the store.
func TestRun_WaitsForBackfill(t *testing.T) {
	t.Parallel()
	s, backfill, run := runBehindBackfill(t)
	if !strings.Contains(run.log.String(), fmt.Sprintf("pid=%d", backfill.Cmd.Process.Pid)) {
		t.Errorf("run does not name the backfill's pid:\n%s", run.log)
	}
	r := s.do(t, "once")
	if r.code != 1 || !strings.Contains(r.stderr, fmt.Sprintf("is in use by a backfill (pid %d) that delivers its events (try again once it has finished", backfill.Cmd.Process.Pid)) {
		t.Errorf("once during the backfill: exit %d\n%s", r.code, r.stderr)
	}
	time.Sleep(2 * store.DefaultLockRetry) // run keeps waiting: it tries again, without exiting
	run.exited(t)

	s.crm.setStatus(0)
	if code := backfill.wait(t); code != 0 {
		t.Fatalf("backfill: exit %d\n%s", code, backfill.log)
	}
	clitest.WaitFor(t, 20*time.Second, "run to start", func() bool { return strings.Contains(run.log.String(), "celbridge started") })
	if n := strings.Count(run.log.String(), "waiting for it to finish"); n != 1 {
		t.Errorf("run said %d times that it waits, want once:\n%s", n, run.log)
	}
	r = cli(t, nil, "run", "-config", s.config)
	if r.code != 1 || !strings.Contains(r.stderr, fmt.Sprintf("is in use by another celbridge (stop it first: systemctl stop celbridge, or kill %d (celbridge run)", run.Cmd.Process.Pid)) {
		t.Errorf("second run: exit %d\n%s", r.code, r.stderr)
	}
	run.Cmd.Process.Signal(syscall.SIGTERM)
	if code := run.wait(t); code != 0 {
		t.Errorf("run: exit %d after SIGTERM\n%s", code, run.log)
	}
}

// TestRun_StopWhileWaitingForBackfill stops a run that waits for a backfill: a clean exit.
func TestRun_StopWhileWaitingForBackfill(t *testing.T) {
	t.Parallel()
	_, backfill, run := runBehindBackfill(t)
	run.Cmd.Process.Signal(syscall.SIGTERM)
	if code := run.wait(t); code != 0 {
		t.Errorf("run stopped while waiting: exit %d\n%s", code, run.log)
	}
	backfill.Cmd.Process.Signal(syscall.SIGTERM)
	backfill.wait(t)
}
