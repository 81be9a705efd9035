package metrics_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/celbridge/celbridge"
	"github.com/celbridge/celbridge/crm"
	"github.com/celbridge/celbridge/internal/clock"
	"github.com/celbridge/celbridge/metrics"
	"github.com/celbridge/celbridge/poller"
	"github.com/celbridge/celbridge/store"
)

// fakeStore answers Stats with stats and counts the reads.
type fakeStore struct {
	stats store.Stats
	err   error
	reads atomic.Int32
}

func (s *fakeStore) Stats(context.Context, time.Time) (store.Stats, error) {
	s.reads.Add(1)
	return s.stats, s.err
}

// fakeSource has its newest CEL row at id, written at.
type fakeSource struct {
	id    int64
	at    time.Time
	reads atomic.Int32
}

func (s *fakeSource) Newest(context.Context) (int64, time.Time, error) {
	s.reads.Add(1)
	return s.id, s.at, nil
}

// fakeMapper returns events from Feed and Expire.
type fakeMapper struct {
	poller.Mapper // the methods the metrics do not wrap are not called
	feed, expire  []celbridge.Event
}

func (m *fakeMapper) Feed(celbridge.CELRow) ([]celbridge.Event, error) { return m.feed, nil }
func (m *fakeMapper) Expire(time.Time) []celbridge.Event               { return m.expire }

// bundle is a Monitor registered over a poller and a dispatcher that never run: the tests
// call the hooks the Monitor set, as they would.
type bundle struct {
	m   *metrics.Monitor
	reg *prometheus.Registry
	p   *poller.Poller
	d   *crm.Dispatcher
	st  *fakeStore
	src *fakeSource
}

func setup(t *testing.T) *bundle {
	t.Helper()
	b := &bundle{reg: prometheus.NewRegistry(), st: &fakeStore{}, src: &fakeSource{}, d: &crm.Dispatcher{}}
	b.p = &poller.Poller{Mapper: &fakeMapper{
		feed:   []celbridge.Event{{RequestType: celbridge.Received}, {RequestType: celbridge.Answered}},
		expire: []celbridge.Event{{RequestType: celbridge.Hangup}},
	}}
	b.m = &metrics.Monitor{Store: b.st, Source: b.src, Version: "v9.9.9-test", Commit: "0123456789ab",
		Recent: 3 * time.Second, CRMTimeout: 10 * time.Second}
	b.m.Register(b.reg, b.p, b.d)
	return b
}

// scrape returns the registry's metrics as /metrics writes them.
func (b *bundle) scrape(t *testing.T) string {
	t.Helper()
	mfs, err := b.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	for _, mf := range mfs {
		if _, err := expfmt.MetricFamilyToText(&sb, mf); err != nil {
			t.Fatal(err)
		}
	}
	return sb.String()
}

// wantLines fails unless every line of want is a line of body.
func wantLines(t *testing.T, body string, want ...string) {
	t.Helper()
	lines := strings.Split(body, "\n")
	for _, w := range want {
		if !slices.Contains(lines, w) {
			t.Errorf("/metrics lacks %q", w)
		}
	}
}

// TestMonitor_Names pins every metric's name, type and help text: dashboards, alerts and the
// README use them.
func TestMonitor_Names(t *testing.T) {
	b := setup(t)
	b.d.OnResult("receivedTheCall", crm.ResultOK, time.Millisecond, "") // a labelled series to show
	wantLines(t, b.scrape(t),
		"# HELP celbridge_calls_opened_total Calls opened (receivedTheCall emitted) since start; a call open at a restart counts again.",
		"# TYPE celbridge_calls_opened_total counter",
		"# HELP celbridge_calls_closed_total Calls closed (hangupTheCall emitted) since start.",
		"# HELP celbridge_poll_duration_seconds Time one poll of the CEL table took, commit included.",
		"# TYPE celbridge_poll_duration_seconds histogram",
		"# HELP celbridge_poll_errors_total Polls that failed.",
		"# HELP celbridge_cel_rows_read_total CEL rows read and fed to the mapper.",
		"# TYPE celbridge_cel_rows_read_total counter",
		"# HELP celbridge_cel_bad_rows_total Malformed CEL rows (processed with what is known).",
		"# HELP celbridge_mapper_internal_errors_total CEL rows the mapper skipped for a bug of its own (logged as errors; please report).",
		"# HELP celbridge_gaps_given_up_total Missing CEL ids given up after poll.gap_timeout.",
		"# HELP celbridge_events_enqueued_total Events added to the outbox.",
		"# HELP celbridge_cursor The committed CEL restart point.",
		"# TYPE celbridge_cursor gauge",
		"# HELP celbridge_cel_read_id The highest CEL id read.",
		"# HELP celbridge_open_calls Calls open in the mapper.",
		"# HELP celbridge_last_poll_success_timestamp_seconds When the last poll succeeded (Unix time).",
		"# HELP celbridge_cel_newest_id The newest id in the CEL table (read at most every 2s).",
		"# HELP celbridge_lag_rows CEL rows not read yet.",
		"# HELP celbridge_lag_seconds How much older the newest row read is than the newest CEL row.",
		"# HELP celbridge_build_info Version of the running binary.",
		`celbridge_build_info{commit="0123456789ab",version="v9.9.9-test"} 1`,
		"# HELP celbridge_requests_total Requests sent to the CRM by requestType and result (ok, retry, failed).",
		"# TYPE celbridge_requests_total counter",
		"# HELP celbridge_request_duration_seconds Time a CRM request took.",
		"# TYPE celbridge_request_duration_seconds histogram",
		"# HELP celbridge_outbox_pending Events waiting for delivery (the retry queue).",
		"# HELP celbridge_outbox_failed Events the CRM refused for good, each blocking its call.",
		"# HELP celbridge_outbox_oldest_pending_age_seconds Age of the oldest event waiting for delivery; 0 when none.",
	)
}

func TestMonitor_Values(t *testing.T) {
	b := setup(t)
	st := b.p.Stats()
	st.RowsRead.Store(13)
	st.BadRows.Store(1)
	st.InternalErrors.Store(2)
	st.GapsGivenUp.Store(3)
	st.EventsAdded.Store(4)
	st.Cursor.Store(9)
	st.High.Store(10)
	st.OpenCalls.Store(5)
	st.LastOK.Store(1764079200500)
	st.LastRowTime.Store(time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC).UnixMilli())
	b.src.id, b.src.at = 25, time.Date(2026, 11, 25, 14, 1, 30, 0, time.UTC)
	b.st.stats = store.Stats{Pending: 7, Failed: 2, OldestPending: clock.Now().Add(-time.Minute)}

	b.p.Mapper.Feed(celbridge.CELRow{}) // receivedTheCall and answeredTheCall
	b.p.Mapper.Feed(celbridge.CELRow{})
	b.p.Mapper.Expire(time.Time{}) // hangupTheCall
	b.p.OnTick(20*time.Millisecond, nil)
	b.p.OnTick(40*time.Millisecond, errors.New("read cel: timeout"))
	b.d.OnResult("receivedTheCall", crm.ResultOK, time.Millisecond, "")
	b.d.OnResult("hangupTheCall", crm.ResultRetry, 2*time.Millisecond, "HTTP 503")
	b.d.OnResult("hangupTheCall", crm.ResultRetry, 2*time.Millisecond, "HTTP 503")

	body := b.scrape(t)
	wantLines(t, body,
		"celbridge_calls_opened_total 2", "celbridge_calls_closed_total 1",
		"celbridge_poll_duration_seconds_count 2", `celbridge_poll_duration_seconds_bucket{le="0.025"} 1`,
		"celbridge_poll_errors_total 1",
		"celbridge_cel_rows_read_total 13", "celbridge_cel_bad_rows_total 1", "celbridge_mapper_internal_errors_total 2",
		"celbridge_gaps_given_up_total 3", "celbridge_events_enqueued_total 4",
		"celbridge_cursor 9", "celbridge_cel_read_id 10", "celbridge_open_calls 5",
		"celbridge_last_poll_success_timestamp_seconds 1.7640792005e+09",
		"celbridge_cel_newest_id 25", "celbridge_lag_rows 15", "celbridge_lag_seconds 90",
		`celbridge_requests_total{result="ok",type="receivedTheCall"} 1`,
		`celbridge_requests_total{result="retry",type="hangupTheCall"} 2`,
		`celbridge_request_duration_seconds_count{type="hangupTheCall"} 2`,
		"celbridge_outbox_pending 7", "celbridge_outbox_failed 2",
	)
	for line := range strings.SplitSeq(body, "\n") {
		if v, ok := strings.CutPrefix(line, "celbridge_outbox_oldest_pending_age_seconds "); ok {
			if age, err := strconv.ParseFloat(v, 64); err != nil || age < 60 || age > 61 {
				t.Errorf("oldest pending age %s, want about 60", v)
			}
		}
	}
	// A scrape reads the store and the CEL table at most every 2s, whatever asks.
	b.scrape(t)
	b.m.Unhealthy(clock.Now())
	if s, n := b.st.reads.Load(), b.src.reads.Load(); s != 1 || n != 1 {
		t.Errorf("two scrapes and a /healthz read the store %d times and the CEL table %d times, want once each", s, n)
	}
}

func TestMonitor_LagUnknown(t *testing.T) {
	b := setup(t)
	b.p.Stats().High.Store(30) // read past what the source said (a stale read): no negative lag
	b.src.id = 25
	wantLines(t, b.scrape(t), "celbridge_lag_rows 0", "celbridge_lag_seconds 0", "celbridge_outbox_oldest_pending_age_seconds 0")
}

// TestMonitor_Unhealthy checks that /healthz judges the hooks' outcomes (the rules are
// health.Unhealthy's, tested in health).
func TestMonitor_Unhealthy(t *testing.T) {
	b := setup(t)
	now := clock.Now()
	b.st.stats = store.Stats{Pending: 3, OldestPending: now} // read once, then cached for 2s
	if got := b.m.Unhealthy(now); got != "" {
		t.Errorf("just started: %q, want healthy", got)
	}
	b.p.OnTick(time.Millisecond, errors.New("read cel: Access denied"))
	if got, want := b.m.Unhealthy(now.Add(4*time.Second)), "no successful poll for 4s: read cel: Access denied (run: celbridge check)"; got != want {
		t.Errorf("poll failed: %q, want %q", got, want)
	}
	b.p.Stats().LastOK.Store(now.UnixMilli())
	b.p.OnTick(time.Millisecond, nil)
	b.d.OnResult("receivedTheCall", crm.ResultRetry, time.Millisecond, "HTTP 500")
	if got := b.m.Unhealthy(clock.Now()); !strings.HasPrefix(got, "the last CRM request (receivedTheCall) failed ") || !strings.HasSuffix(got, ": HTTP 500 (3 events wait; the CRM's answer is in: celbridge status)") {
		t.Errorf("CRM failed: %q", got)
	}
	b.d.OnResult("receivedTheCall", crm.ResultOK, time.Millisecond, "")
	if got := b.m.Unhealthy(clock.Now()); got != "" {
		t.Errorf("CRM recovered: %q, want healthy", got)
	}
}
