package poller

import (
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// Schedule tells when the next poll is due. robfig/cron's cron.Schedule satisfies it.
type Schedule interface {
	Next(time.Time) time.Time
}

// every is a constant interval. robfig/cron rounds "@every" up to whole seconds, which would
// turn "@every 250ms" into one poll a second; this keeps the interval as written.
type every time.Duration

// Next returns t plus the interval.
func (e every) Next(t time.Time) time.Time { return t.Add(time.Duration(e)) }

// ParseSchedule parses a poll.schedule value: any robfig/cron spec ("*/5 * * * * *" is not
// accepted, five fields or a descriptor such as "@hourly"), plus "@every D" for any positive
// duration, including sub-second ones like "@every 250ms".
func ParseSchedule(spec string) (Schedule, error) {
	spec = strings.TrimSpace(spec)
	if rest, ok := strings.CutPrefix(spec, "@every "); ok {
		d, err := time.ParseDuration(strings.TrimSpace(rest))
		if err != nil {
			return nil, fmt.Errorf("parse %q: %w", spec, err)
		}
		if d < 10*time.Millisecond {
			return nil, fmt.Errorf("parse %q: interval below 10ms", spec)
		}
		return every(d), nil
	}
	s, err := cron.ParseStandard(spec)
	if err != nil {
		return nil, fmt.Errorf("parse %q: %w", spec, err)
	}
	return s, nil
}
