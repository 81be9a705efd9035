package main

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestRun_StopsWhenStoreLost deletes the state file under a running daemon (idle, nothing
// to write) and checks that it stops with exit 1 and says what to do, with the backfill
// that resends what the lost file held, instead of writing on into the deleted file.
func TestRun_StopsWhenStoreLost(t *testing.T) {
	t.Parallel()
	s := newSite(t, opts{})
	d := startRun(t, s.config)
	s.nowCall(t, 1, time.UTC)
	waitFor(t, "the call's hangupTheCall at the CRM", func() bool { return s.crm.hangups() == 1 })
	for _, p := range []string{s.store, s.store + "-wal", s.store + "-shm"} {
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-d.done:
	case <-time.After(20 * time.Second):
		t.Fatalf("celbridge run still runs 20s after its store was deleted:\n%s", d.log)
	}
	var ee *exec.ExitError
	if !errors.As(d.err, &ee) || ee.ExitCode() != 1 {
		t.Errorf("exit: %v, want exit status 1", d.err)
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
	before := time.Now().Truncate(time.Second)
	if r := cli(t, nil, "once", "-config", s.config); r.code != 0 {
		t.Fatalf("once: exit %d\n%s", r.code, r.stderr)
	}
	after := time.Now()
	r := cli(t, nil, "status", "-config", s.config)
	if r.code != 0 {
		t.Fatalf("status: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	line := regexp.MustCompile(`(?m)^first start     \d{4}-\d\d-\d\d \d\d:\d\d:\d\d, \S+ ago, began at CEL id 13 \(calls before were not sent; use backfill\)$`)
	if !line.MatchString(r.stdout) {
		t.Errorf("status lacks the first start line:\n%s", r.stdout)
	}
	r = cli(t, nil, "status", "-config", s.config, "-json")
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
