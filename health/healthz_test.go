package health_test

import (
	"testing"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/celbridge/celbridge/health"
)

func TestUnhealthy(t *testing.T) {
	now := time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC)
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	// healthy: started a while ago, polled 1s ago, the last request worked, nothing waits.
	healthy := health.Inputs{
		Started: ago(time.Hour), LastPollOK: ago(time.Second),
		LastTry: ago(2 * time.Second), LastTryOK: true, LastType: "hangupTheCall", LastOK: ago(2 * time.Second),
		Recent: 3 * time.Second, CRMTimeout: 10 * time.Second,
	}
	for _, tc := range []struct {
		name string
		edit func(in *health.Inputs)
		want string
	}{
		{"OK", func(*health.Inputs) {}, ""},
		{"JustStarted", func(in *health.Inputs) {
			in.Started, in.LastPollOK, in.LastTry = ago(2*time.Second), time.Time{}, time.Time{}
		}, ""},
		{"NoPollSinceStart", func(in *health.Inputs) { in.Started, in.LastPollOK = ago(4*time.Second), time.Time{} },
			"no successful poll for 4s (run: celbridge check)"},
		{"PollFails", func(in *health.Inputs) {
			in.LastPollOK, in.PollErr = ago(4*time.Minute+10*time.Second), "read cel: Access denied (GRANT SELECT ON asteriskcdrdb.cel TO …)"
		}, "no successful poll for 4m10s: read cel: Access denied (GRANT SELECT ON asteriskcdrdb.cel TO …) (run: celbridge check)"},
		{"PollJustInTime", func(in *health.Inputs) { in.LastPollOK = ago(3 * time.Second) }, ""},
		{"PollFailsBeforeCRM", func(in *health.Inputs) { in.LastPollOK, in.LastTryOK = ago(time.Minute), false },
			"no successful poll for 1m0s (run: celbridge check)"},
		{"CRMFails", func(in *health.Inputs) {
			in.LastTryOK, in.LastType, in.LastKind, in.Pending = false, "receivedTheCall", "HTTP 500", 7
		}, "the last CRM request (receivedTheCall) failed 2s ago: HTTP 500 (7 events wait; the CRM's answer is in: celbridge status)"},
		{"Stuck", func(in *health.Inputs) {
			in.Pending, in.OldestPending, in.LastOK = 3, ago(2*time.Hour), ago(time.Hour)
		}, "3 events wait for delivery, the oldest for 2h, and no CRM request worked for 13s (see: celbridge status)"},
		{"WaitingNotYetStuck", func(in *health.Inputs) {
			in.Pending, in.OldestPending, in.LastOK = 3, ago(13*time.Second), ago(time.Hour)
		}, ""},
		{"IdleLongAfterTheLastRequest", func(in *health.Inputs) { in.LastTry, in.LastOK = ago(time.Hour), ago(time.Hour) }, ""},
		{"OldRowsButDelivering", func(in *health.Inputs) { in.Pending, in.OldestPending = 3, ago(2*time.Hour) }, ""},
		{"NeverDeliveredStuck", func(in *health.Inputs) {
			in.LastTry, in.LastOK, in.Pending, in.OldestPending = time.Time{}, time.Time{}, 1, ago(14*time.Second)
		}, "1 events wait for delivery, the oldest for 14s, and no CRM request worked for 13s (see: celbridge status)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := healthy
			tc.edit(&in)
			if got := health.Unhealthy(in, now); got != tc.want {
				t.Errorf("Unhealthy = %q\nwant        %q", got, tc.want)
			}
		})
	}
}

// every is a fixed poll interval.
type every time.Duration

func (e every) Next(t time.Time) time.Time { return t.Add(time.Duration(e)) }

func TestRecent(t *testing.T) {
	now := time.Date(2026, 11, 25, 14, 0, 7, 0, time.UTC)
	parse := func(spec string) health.Schedule {
		s, err := cron.ParseStandard(spec)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	for _, tc := range []struct {
		name string
		s    health.Schedule
		want time.Duration
	}{
		{"Fast", every(250 * time.Millisecond), health.MinRecent},
		{"EverySecond", every(time.Second), health.MinRecent},
		{"Every10s", every(10 * time.Second), 30 * time.Second},
		{"Cron5m", parse("*/5 * * * *"), 15 * time.Minute},
		{"Hourly", parse("@hourly"), 3 * time.Hour},
	} {
		if got := health.Recent(tc.s, now); got != tc.want {
			t.Errorf("%s: Recent = %s, want %s", tc.name, got, tc.want)
		}
	}
}
