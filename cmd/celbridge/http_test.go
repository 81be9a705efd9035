package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/celbridge/celbridge/internal/clitest"
)

// metric returns the value of the sample of /metrics whose name and labels are exactly
// series (labels sorted by name, as client_golang writes them), and whether it is there.
func metric(body, series string) (float64, bool) {
	for line := range strings.SplitSeq(body, "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			return f, err == nil
		}
	}
	return 0, false
}

// waitMetric waits until cond holds for series' value on /metrics.
func (d *daemon) waitMetric(t *testing.T, series string, cond func(float64) bool) {
	t.Helper()
	var last string
	clitest.WaitFor(t, 20*time.Second, series+" on /metrics", func() bool {
		_, last = d.get(t, "/metrics")
		v, ok := metric(last, series)
		return ok && cond(v)
	})
}

// waitHealth waits until /healthz answers code with a body containing every part.
func (d *daemon) waitHealth(t *testing.T, code int, parts ...string) string {
	t.Helper()
	var body string
	clitest.WaitFor(t, 20*time.Second, fmt.Sprintf("/healthz %d %q", code, parts), func() bool {
		var got int
		got, body = d.get(t, "/healthz")
		if got != code {
			return false
		}
		for _, p := range parts {
			if !strings.Contains(body, p) {
				return false
			}
		}
		return true
	})
	return body
}

func eq(want float64) func(float64) bool   { return func(v float64) bool { return v == want } }
func atLeast(n float64) func(float64) bool { return func(v float64) bool { return v >= n } }

// hangups counts the hangupTheCall requests the CRM got.
func (c *crmServer) hangups() int {
	n := 0
	for _, b := range c.received() {
		if strings.Contains(b, "requestType=hangupTheCall") {
			n++
		}
	}
	return n
}

func TestRun_MetricsAndHealthz(t *testing.T) {
	t.Parallel()
	s := newSite(t, opts{})
	d := startRun(t, s.config)
	d.waitHealth(t, http.StatusOK, "ok")

	s.nowCall(t, 1, time.UTC)
	clitest.WaitFor(t, 20*time.Second, "the call's hangupTheCall at the CRM", func() bool { return s.crm.hangups() == 1 })
	requests := len(s.crm.received())
	for series, want := range map[string]func(float64) bool{
		"celbridge_cel_rows_read_total":                                     eq(13),
		"celbridge_calls_opened_total":                                      eq(1),
		"celbridge_calls_closed_total":                                      eq(1),
		`celbridge_requests_total{result="ok",type="receivedTheCall"}`:      eq(1),
		`celbridge_requests_total{result="ok",type="hangupTheCall"}`:        eq(1),
		"celbridge_outbox_pending":                                          eq(0),
		"celbridge_outbox_oldest_pending_age_seconds":                       eq(0),
		"celbridge_poll_duration_seconds_count":                             atLeast(2),
		"celbridge_lag_rows":                                                eq(0),
		"celbridge_lag_seconds":                                             eq(0),
		"celbridge_cel_newest_id":                                           eq(13),
		"celbridge_gaps_given_up_total":                                     eq(0),
		`celbridge_build_info{commit="0123456789ab",version="v9.9.9-test"}`: eq(1),
		"celbridge_poll_errors_total":                                       eq(0),
	} {
		d.waitMetric(t, series, want)
	}
	if requests < 2 {
		t.Errorf("CRM got %d requests, want at least receivedTheCall and hangupTheCall", requests)
	}
	_, body := d.get(t, "/metrics")
	if !regexp.MustCompile(`(?m)^celbridge_events_enqueued_total ` + strconv.Itoa(requests) + `$`).MatchString(body) {
		t.Errorf("celbridge_events_enqueued_total is not %d:\n%s", requests, grep(body, "celbridge_events"))
	}

	t.Run("CRMFails", func(t *testing.T) {
		s.crm.setStatus(http.StatusInternalServerError)
		s.nowCall(t, 101, time.UTC)
		d.waitHealth(t, http.StatusServiceUnavailable, "the last CRM request (receivedTheCall) failed", "HTTP 500", "celbridge status")
		d.waitMetric(t, `celbridge_requests_total{result="retry",type="receivedTheCall"}`, atLeast(1))
		d.waitMetric(t, "celbridge_outbox_pending", atLeast(1))
		d.waitMetric(t, "celbridge_outbox_oldest_pending_age_seconds", atLeast(0.001))
		s.crm.setStatus(0)
		d.waitHealth(t, http.StatusOK, "ok")
		clitest.WaitFor(t, 20*time.Second, "the second call's hangup", func() bool { return s.crm.hangups() == 2 })
	})
	t.Run("PollFails", func(t *testing.T) {
		s.db.Exec(t, fmt.Sprintf("REVOKE SELECT ON `%s`.`cel` FROM '%s'@'%%'", s.db.Name, s.db.User))
		body := d.waitHealth(t, http.StatusServiceUnavailable, "no successful poll for", "celbridge check")
		if !strings.Contains(body, "GRANT SELECT ON "+s.db.Name+".cel") {
			t.Errorf("healthz does not say what to do: %q", body)
		}
		d.waitMetric(t, "celbridge_poll_errors_total", atLeast(1))
	})
}

// TestRun_HealthzShowsNoBody: /healthz needs no login, so a failed CRM request is shown there
// by its status code and kind only, never with the CRM's answer (which may echo the token);
// `status` shows the answer, redacted.
func TestRun_HealthzShowsNoBody(t *testing.T) {
	t.Parallel()
	s := newSite(t, opts{})
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "crm-answer-text: bad token "+r.Header.Get("Authorization"), http.StatusInternalServerError)
	}))
	t.Cleanup(echo.Close)
	config := s.writeConfig(t, opts{crmURL: echo.URL + "/api/Binotel/Push", extra: "[crm.headers]\nAuthorization = \"Bearer s3cr3t-T0ken\"\n"})
	d := startRun(t, config)
	s.nowCall(t, 1, time.UTC)
	body := d.waitHealth(t, http.StatusServiceUnavailable, "the last CRM request (receivedTheCall) failed", "HTTP 500", "celbridge status")
	for _, shown := range []string{"crm-answer-text", "s3cr3t", "redacted"} {
		if strings.Contains(body, shown) {
			t.Errorf("/healthz shows %q of the CRM's answer: %q", shown, body)
		}
	}
	d.stop(t)
	r := cli(t, nil, "status", "-config", config)
	if !strings.Contains(r.stdout, "HTTP 500: crm-answer-text: bad token [redacted]") || strings.Contains(r.stdout, "s3cr3t") {
		t.Errorf("status does not show the answer redacted:\n%s%s", r.stdout, r.stderr)
	}
}

// grep returns the lines of body that contain s.
func grep(body, s string) string {
	var out []string
	for line := range strings.SplitSeq(body, "\n") {
		if strings.Contains(line, s) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

// TestRun_LogsNoSecrets runs the daemon through CRM and MySQL failures with a password in
// the DSN, an Authorization header and a password in the CRM URL, and scans its whole log.
func TestRun_LogsNoSecrets(t *testing.T) {
	t.Parallel()
	s := newSite(t, opts{})
	const token = "Bearer s3cr3t-T0ken"
	config := s.writeConfig(t, opts{
		crmURL: strings.Replace(s.crm.URL(), "http://", "http://clinic:p4ssw0rd@", 1) + "/api/Binotel/Push",
		extra:  "[log]\nformat = \"json\"\n[crm.headers]\nAuthorization = \"" + token + "\"\n",
	})
	d := startRun(t, config)
	s.crm.setStatus(http.StatusServiceUnavailable)
	s.nowCall(t, 1, time.UTC)
	clitest.WaitFor(t, 20*time.Second, "a logged CRM failure", func() bool { return strings.Contains(d.log.String(), "crm push failed") })
	s.db.Exec(t, fmt.Sprintf("REVOKE SELECT ON `%s`.`cel` FROM '%s'@'%%'", s.db.Name, s.db.User))
	clitest.WaitFor(t, 20*time.Second, "a logged poll failure", func() bool { return strings.Contains(d.log.String(), "poll failed") })
	d.stop(t)

	log := d.log.String()
	for _, secret := range []string{s.db.Password, s.db.ReaderDSN, "s3cr3t-T0ken", "p4ssw0rd"} {
		if strings.Contains(log, secret) {
			t.Errorf("the log contains the secret %q:\n%s", secret, log)
		}
	}
	lines := strings.Split(strings.TrimSpace(log), "\n")
	for _, line := range lines {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Errorf("log line is not JSON: %q", line)
			continue
		}
		for _, k := range []string{"time", "level", "msg"} {
			if _, ok := rec[k]; !ok {
				t.Errorf("log line lacks %q: %s", k, line)
			}
		}
		for k := range rec {
			if !regexp.MustCompile(`^[a-z][a-z0-9_]*$`).MatchString(k) {
				t.Errorf("log key %q is not snake_case: %s", k, line)
			}
		}
	}
	if !strings.Contains(log, `"mysql":"`+s.db.User+`:***@`) {
		t.Errorf("the start line does not show the redacted DSN:\n%s", log)
	}
}

// TestRun_Refuses checks start-up failures end with what to do.
func TestRun_Refuses(t *testing.T) {
	t.Parallel()
	s := newSite(t, opts{})
	t.Run("SecondDaemon", func(t *testing.T) {
		startRun(t, s.config)
		r := cli(t, nil, "run", "-config", s.config)
		if r.code != 1 || !strings.Contains(r.stderr, "is in use by another celbridge (stop it first") {
			t.Errorf("second run: exit %d, stderr:\n%s", r.code, r.stderr)
		}
	})
	t.Run("WrongPassword", func(t *testing.T) {
		dsn := strings.Replace(s.db.ReaderDSN, ":"+s.db.Password+"@", ":wrong-Pa55word@", 1)
		r := cli(t, nil, "run", "-config", s.writeConfig(t, opts{dsn: dsn}))
		if r.code != 2 || !strings.Contains(r.stderr, "check the user and password in mysql.dsn") { // systemd: no restart loop
			t.Errorf("exit %d, stderr:\n%s", r.code, r.stderr)
		}
		if strings.Contains(r.stderr, "wrong-Pa55word") {
			t.Errorf("stderr shows the password:\n%s", r.stderr)
		}
	})
	t.Run("BadConfig", func(t *testing.T) {
		path := s.writeConfig(t, opts{})
		b, _ := os.ReadFile(path)
		os.WriteFile(path, bytes.Replace(b, []byte(`level = "debug"`), []byte(`levle = "debug"`), 1), 0o600)
		r := cli(t, nil, "run", "-config", path)
		if r.code != 2 || !strings.Contains(r.stderr, `unknown key "log.levle"`) {
			t.Errorf("exit %d, stderr:\n%s", r.code, r.stderr)
		}
	})
}
