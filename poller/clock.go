package poller

import (
	"time"
)

// celClock is the one place where this host's clock meets CEL time (the PBX's eventtime, read
// in mysql.timezone). The mapper decides on CEL time only; the poller needs the host's clock
// for one thing: on a quiet line no row comes to move CEL time on, yet a call whose
// LINKEDID_END is not logged must close and a held ring burst must be released. So the
// poller estimates CEL time from the host's clock and hands it to Mapper.Expire, and turns
// the mapper's Deadline into a host time to wake up at.
//
// The estimate is host time minus an offset. Each poll that moved the mapper's clock gives
// one sample, offset = host time of the read - mapper's clock, which is the PBX's clock skew
// plus how late the newest row was read (commit delay, the poll interval, eventtime's
// truncation to whole seconds). The smallest sample of the last offsetWindow is the best
// estimate: it never puts CEL time ahead of the rows still to come, and it follows a PBX clock,
// a time zone or a replica that is hours off, because the offset is measured, not assumed.
// While no row comes the last offset stays, so CEL time runs on with the host's clock.
type celClock struct {
	// samples are the ones that can still be the window's smallest: oldest first, within
	// offsetWindow of the newest, offsets strictly increasing (a newer sample with a smaller
	// or equal offset makes the older ones useless). The first is the estimate. A backlog
	// read in thousands of batches keeps only a few.
	samples []offsetSample
}

type offsetSample struct {
	host   time.Time
	offset time.Duration
}

// offsetWindow is how long a sample counts: long enough to hold a sample read just after
// its row was written, short enough to follow a clock change within minutes.
const offsetWindow = 10 * time.Minute

// observe records that at host time host the mapper's clock read cel (after a poll whose rows
// moved it).
func (c *celClock) observe(host, cel time.Time) {
	if cel.IsZero() {
		return
	}
	s := offsetSample{host, host.Sub(cel)}
	n := len(c.samples)
	for n > 0 && c.samples[n-1].offset >= s.offset {
		n--
	}
	c.samples = append(c.samples[:n], s)
	drop := 0
	for drop < len(c.samples)-1 && host.Sub(c.samples[drop].host) > offsetWindow {
		drop++
	}
	c.samples = c.samples[drop:]
}

// offset returns the current estimate of host time - CEL time.
func (c *celClock) offset() (time.Duration, bool) {
	if len(c.samples) == 0 {
		return 0, false
	}
	return c.samples[0].offset, true
}

// now estimates CEL time at host time host; ok is false before the first sample.
func (c *celClock) now(host time.Time) (time.Time, bool) {
	o, ok := c.offset()
	return host.Add(-o), ok
}

// host returns the host time at which CEL time reaches cel.
func (c *celClock) host(cel time.Time) (time.Time, bool) {
	o, ok := c.offset()
	return cel.Add(o), ok
}
