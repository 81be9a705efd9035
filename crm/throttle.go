package crm

import (
	"sync"
	"time"
)

// LogEvery is how often the same failure is logged while it repeats. During a CRM outage every
// due row fails the same way several times a minute; one line per 30s with a count says as much.
const LogEvery = 30 * time.Second

// throttle decides which failures get a log line: a class of failure (see errClass) is logged
// at most once per interval, with the number of repeats suppressed since its last line; the
// first success after failures is logged once as a recovery (also at most once per interval,
// so a single bad row retrying among good ones cannot flood the log).
type throttle struct {
	mu           sync.Mutex
	every        time.Duration
	classes      map[string]*classLog
	failing      bool
	lastRecovery time.Time
}

type classLog struct {
	last       time.Time
	suppressed int
}

func newThrottle(every time.Duration) *throttle {
	return &throttle{every: every, classes: map[string]*classLog{}}
}

// failure records a failure of class at now. It reports whether to log it and how many
// failures of that class were suppressed since its previous line.
func (t *throttle) failure(class string, now time.Time) (log bool, suppressed int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.failing = true
	c := t.classes[class]
	if c == nil {
		c = &classLog{}
		t.classes[class] = c
	} else if now.Sub(c.last) < t.every {
		c.suppressed++
		return false, 0
	}
	suppressed, c.suppressed, c.last = c.suppressed, 0, now
	return true, suppressed
}

// success records a success at now. It reports whether to log a recovery and how many failures
// were suppressed and not yet reported; those counts are then cleared.
func (t *throttle) success(now time.Time) (log bool, suppressed int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.failing || (!t.lastRecovery.IsZero() && now.Sub(t.lastRecovery) < t.every) {
		return false, 0
	}
	t.failing, t.lastRecovery = false, now
	for _, c := range t.classes {
		suppressed += c.suppressed
		c.suppressed = 0
	}
	return true, suppressed
}
