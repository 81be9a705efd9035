package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/celbridge/celbridge"
	"github.com/celbridge/celbridge/poller"
)

// countingMapper counts the calls the mapper opens and closes, for /metrics.
type countingMapper struct {
	poller.Mapper
	opened, closed prometheus.Counter
}

// Feed implements poller.Mapper.
func (c *countingMapper) Feed(row celbridge.CELRow) ([]celbridge.Event, error) {
	events, warn := c.Mapper.Feed(row)
	c.count(events)
	return events, warn
}

// Expire implements poller.Mapper.
func (c *countingMapper) Expire(now time.Time) []celbridge.Event {
	events := c.Mapper.Expire(now)
	c.count(events)
	return events
}

func (c *countingMapper) count(events []celbridge.Event) {
	for _, e := range events {
		switch e.RequestType {
		case celbridge.Received:
			c.opened.Inc()
		case celbridge.Hangup:
			c.closed.Inc()
		}
	}
}
