package main

import (
	"encoding/json"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/celbridge/celbridge/internal/clitest"
	"github.com/celbridge/celbridge/internal/clock"
)

// TestStatus_WhileRunning reads the status of a store that a running daemon writes.
func TestStatus_WhileRunning(t *testing.T) {
	t.Parallel()
	s := newSite(t, opts{})
	d := startRun(t, s.config)
	s.crm.failFirst(1) // one 503, then the retry goes through
	s.nowCall(t, 1, time.UTC)
	clitest.WaitFor(t, 20*time.Second, "the call's hangupTheCall at the CRM", func() bool { return s.crm.hangups() == 1 })
	// The daemon records a delivery a moment after the CRM's answer (marks share a write).
	clitest.WaitFor(t, 20*time.Second, "every delivery recorded", func() bool {
		var st statusReport
		r := s.do(t, "status", "-json")
		return json.Unmarshal([]byte(r.stdout), &st) == nil && st.Pending == 0 && st.DeliveredToday == len(s.crm.received())
	})
	d.waitMetric(t, "celbridge_outbox_pending", eq(0))

	r := s.do(t, "status")
	if r.code != 0 {
		t.Fatalf("status: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{
		"store           " + s.store + " (in use by a running celbridge)",
		"cursor          CEL id 13\n",
		"open calls      0\n",
		"outbox          0 pending, 0 failed, " + strconv.Itoa(len(s.crm.received())) + " delivered today\n",
		"last CRM error  " + clock.Now().Format(time.DateOnly),
		"HTTP 503: busy\n",
		"newest CEL row  CEL id 13 at ",
		"lag             0 rows, 0s\n",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("status output lacks %q:\n%s", want, r.stdout)
		}
	}

	r = s.do(t, "status", "-json")
	if r.code != 0 {
		t.Fatalf("status -json: exit %d\n%s", r.code, r.stderr)
	}
	var got statusReport
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("status -json is not JSON: %v\n%s", err, r.stdout)
	}
	if !got.DaemonRunning || got.Cursor == nil || *got.Cursor != 13 || got.NewestID == nil || *got.NewestID != 13 ||
		got.LagRows == nil || *got.LagRows != 0 || got.Pending != 0 || got.DeliveredToday != len(s.crm.received()) ||
		!strings.Contains(got.LastError, "HTTP 503") || got.LastErrorAt == nil || got.MySQLError != "" {
		t.Errorf("status -json = %s", r.stdout)
	}
	for _, key := range []string{`"store"`, `"cursor"`, `"outbox_pending"`, `"outbox_failed"`, `"delivered_today"`, `"lag_rows"`, `"lag_seconds"`, `"newest_cel_time"`, `"last_crm_error"`} {
		if !strings.Contains(r.stdout, key) {
			t.Errorf("status -json lacks the key %s", key)
		}
	}
}

// TestStatus_Lag checks the lag while the daemon is stopped and CEL grows.
func TestStatus_Lag(t *testing.T) {
	t.Parallel()
	s := newSite(t, opts{})
	if r := s.do(t, "once"); r.code != 0 {
		t.Fatalf("once: exit %d\n%s", r.code, r.stderr)
	}
	start := clock.Now().UTC().Add(-time.Hour)
	s.db.Insert(t, call(1, "1764100000.1", start)...)
	s.db.Insert(t, call(14, "1764100000.14", start.Add(90*time.Second))...)
	r := s.do(t, "status", "-json")
	var got statusReport
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || r.code != 0 {
		t.Fatalf("status -json: exit %d, %v\n%s%s", r.code, err, r.stdout, r.stderr)
	}
	if got.DaemonRunning || *got.Cursor != 0 || *got.LagRows != 26 || *got.LagSeconds != 92 {
		t.Errorf("status -json: daemon %v, cursor %d, lag %d rows %vs; want false, 0, 26, 92\n%s",
			got.DaemonRunning, *got.Cursor, *got.LagRows, *got.LagSeconds, r.stdout)
	}
}

// TestStatus_MySQLDown prints the store part and says MySQL is unreachable.
func TestStatus_MySQLDown(t *testing.T) {
	t.Parallel()
	s := newSite(t, opts{})
	if r := s.do(t, "once"); r.code != 0 {
		t.Fatalf("once: exit %d\n%s", r.code, r.stderr)
	}
	down := s.with(t, opts{dsn: "celbridge:pw@unix(" + filepath.Join(t.TempDir(), "gone.sock") + ")/asteriskcdrdb"})
	r := down.do(t, "status")
	if r.code != 1 {
		t.Errorf("exit %d, want 1", r.code)
	}
	for _, want := range []string{"cursor          CEL id 0", "outbox          0 pending", "MySQL           unreachable: connect to MySQL at unix socket", "is the server up"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("status output lacks %q:\n%s", want, r.stdout)
		}
	}
	if !strings.Contains(r.stderr, "MySQL is unreachable; the store part above is current") {
		t.Errorf("stderr: %q", r.stderr)
	}
	r = down.do(t, "status", "-json")
	if r.code != 1 || !strings.Contains(r.stdout, `"mysql_error": "connect to MySQL`) || !strings.Contains(r.stdout, `"cursor": 0`) {
		t.Errorf("status -json: exit %d\n%s", r.code, r.stdout)
	}
}

// TestStatus_NoStore says the daemon creates the store.
func TestStatus_NoStore(t *testing.T) {
	s := newSite(t, opts{})
	r := s.do(t, "status")
	if r.code != 1 || !strings.Contains(r.stderr, "the daemon creates the file on its first start") {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestStatus_LastErrorShown: the last CRM error, as an older version stored it (the CRM's
// answer as received), is printed escaped, like explain's and retry's.
func TestStatus_LastErrorShown(t *testing.T) {
	at := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	r := &statusReport{LastError: "HTTP 401: \x1b[31mno\r\n", LastErrorAt: &at, MySQLError: "not asked"}
	var b strings.Builder
	r.print(&b, at.Add(time.Minute))
	if !strings.Contains(b.String(), `HTTP 401: \x1b[31mno\r\n`) || strings.ContainsAny(b.String(), "\x1b\r") {
		t.Errorf("status printed the stored error unescaped:\n%q", b.String())
	}
}
