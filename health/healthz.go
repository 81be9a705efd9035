package health

import (
	"fmt"
	"time"
)

// MinRecent is the shortest "recently" of /healthz, so that a fast schedule does not make one
// slow poll look like an outage.
const MinRecent = 3 * time.Second

// Schedule is the poll schedule, as poller.Schedule and a cron schedule have it.
type Schedule interface {
	Next(time.Time) time.Time
}

// Recent is "recently" for /healthz under schedule s: three poll intervals (for a cron spec,
// three times the gap between its next two times after now), at least MinRecent.
func Recent(s Schedule, now time.Time) time.Duration {
	next := s.Next(now)
	return max(3*s.Next(next).Sub(next), MinRecent)
}

// Inputs is what /healthz judges: the poller's and the dispatcher's last outcomes and the
// outbox's backlog.
type Inputs struct {
	Started    time.Time // when the daemon started: the last poll counts from there until one works
	LastPollOK time.Time // when the last poll worked; zero when none has yet
	PollErr    string    // the last poll's error, "" when it worked

	LastTry   time.Time // the last delivery attempt; zero when none was made
	LastTryOK bool
	LastType  string    // the last attempt's requestType
	LastKind  string    // of the last failed attempt: "HTTP 503", "timeout"… never the CRM's answer
	LastOK    time.Time // the last delivery that worked

	Pending       int       // outbox rows waiting for delivery
	OldestPending time.Time // created_at of the oldest of them

	Recent     time.Duration // "recently": see Recent
	CRMTimeout time.Duration // crm.timeout: a request may take that long before it counts as failed
}

// Unhealthy returns why celbridge is not healthy at now, or "" when it is: the last poll
// worked within in.Recent, the last delivery attempt worked (or none was needed), and no
// event waits for delivery longer than a request may take while no request works. Each
// reason ends with what to run; none quotes the CRM's answer, as /healthz needs no login and
// the answer may echo a token.
func Unhealthy(in Inputs, now time.Time) string {
	lastPoll := in.LastPollOK
	if lastPoll.IsZero() {
		lastPoll = in.Started
	}
	if since := now.Sub(lastPoll); since > in.Recent {
		reason := fmt.Sprintf("no successful poll for %s", Age(since))
		if in.PollErr != "" {
			reason += ": " + in.PollErr
		}
		return reason + " (run: celbridge check)"
	}
	if !in.LastTry.IsZero() && !in.LastTryOK {
		return fmt.Sprintf("the last CRM request (%s) failed %s ago: %s (%d events wait; the CRM's answer is in: celbridge status)",
			in.LastType, Age(now.Sub(in.LastTry)), in.LastKind, in.Pending)
	}
	stuck := in.Recent + in.CRMTimeout
	if in.Pending > 0 && now.Sub(in.OldestPending) > stuck && now.Sub(in.LastOK) > stuck {
		return fmt.Sprintf("%d events wait for delivery, the oldest for %s, and no CRM request worked for %s (see: celbridge status)",
			in.Pending, Age(now.Sub(in.OldestPending)), Age(stuck))
	}
	return ""
}
