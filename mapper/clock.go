package mapper

import (
	"fmt"
	"time"

	"github.com/celbridge/celbridge"
)

// The mapper's clock is CEL time: the newest eventtime it trusts, moved on by Expire when no
// row comes (a quiet night). Every time-based decision (end_grace, max_call_age, the ring
// burst) is measured on it, never on this host's clock, so the same rows give the same
// requests however they are cut into polls and however late they are read.
//
// One absurd eventtime (a CHAN_START dated 2099, a zero or 1970 date) must neither move the
// clock nor freeze it. A row's eventtime is trusted when it is within trustWindow of the clock,
// or when the next row (or an Expire) agrees with it: a row far ahead of the clock waits for
// that neighbour, because after a quiet weekend the first call of Monday is far ahead too. A
// row that no neighbour confirms, or one far behind the clock, is treated as written at the
// clock's time, with a warning.

// trustWindow is how far an eventtime may be from the clock and still be trusted on its own.
// It is wider than a day's quiet night and a DST change, and far narrower than a wrong century.
const trustWindow = 24 * time.Hour

// minEventTime is the earliest eventtime taken as a date at all: older ones (0000-00-00 read
// as the zero time, 1970 from a clock that was never set) carry no time.
var minEventTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// heldRow is a row whose eventtime waits for a neighbour's confirmation. timeOnly marks a row
// given to Skip: only its time counts.
type heldRow struct {
	row      celbridge.CELRow
	timeOnly bool
}

// near reports whether a and b are within trustWindow of each other.
func near(a, b time.Time) bool {
	d := a.Sub(b)
	return d <= trustWindow && d >= -trustWindow
}

// Clock returns the mapper's CEL clock: the newest trusted eventtime, or the latest time given
// to Expire if that is newer. It is the zero time before the first trusted row.
func (m *Mapper) Clock() time.Time { return m.clock }

// admit takes one row (or, with timeOnly, its time only) through the clock's guard and
// returns the events it decides. A row held for confirmation is decided first.
func (m *Mapper) admit(row celbridge.CELRow, timeOnly bool) ([]celbridge.Event, error) {
	var evs []celbridge.Event
	var warn error
	if h := m.held; h != nil {
		m.held = nil
		t := row.EventTime
		confirmed := t.After(minEventTime) && near(t, h.row.EventTime) && (m.clock.IsZero() || !near(t, m.clock))
		evs, warn = m.release(h, confirmed)
	}
	t := row.EventTime
	switch {
	case !t.After(minEventTime):
		if !t.IsZero() || !m.clock.IsZero() {
			warn = orWarn(warn, fmt.Errorf("%s row %d: eventtime %s is not a date: taken as %s", safeType(row.EventType), row.ID, stamp(t), stamp(m.clock)))
		}
		row.EventTime = m.clock
	case m.clock.IsZero() || t.Sub(m.clock) > trustWindow:
		m.held = &heldRow{row, timeOnly}
		return evs, warn
	case m.clock.Sub(t) > trustWindow:
		warn = orWarn(warn, fmt.Errorf("%s row %d: eventtime %s is far behind the CEL clock: taken as %s", safeType(row.EventType), row.ID, stamp(t), stamp(m.clock)))
		row.EventTime = m.clock
	}
	e, w := m.step(row, timeOnly)
	return join(evs, e), orWarn(warn, w)
}

// release feeds the held row h: with its own time when confirmed, else at the clock's time
// (or with no time before the clock is set).
func (m *Mapper) release(h *heldRow, confirmed bool) ([]celbridge.Event, error) {
	var warn error
	if !confirmed {
		warn = fmt.Errorf("%s row %d: eventtime %s is far from its neighbours': taken as %s", safeType(h.row.EventType), h.row.ID, stamp(h.row.EventTime), stamp(m.clock))
		h.row.EventTime = m.clock
	}
	evs, w := m.step(h.row, h.timeOnly)
	return evs, orWarn(warn, w)
}

// step moves the clock to the row's (trusted) time, deciding what became due before it, then
// feeds the row.
func (m *Mapper) step(row celbridge.CELRow, timeOnly bool) ([]celbridge.Event, error) {
	var evs []celbridge.Event
	if row.EventTime.After(m.clock) {
		evs = m.advance(row.EventTime)
	}
	if timeOnly {
		return evs, nil
	}
	e, warn := m.feed(&row)
	return join(evs, e), warn
}

// advance sets the clock to now and decides what is due by then: held ring bursts whose
// second is over, and calls to close (expire).
func (m *Mapper) advance(now time.Time) []celbridge.Event {
	m.clock = now
	evs := m.releaseBursts(now)
	var done []*call
	for _, c := range m.calls {
		if at, why := c.due(&m.cfg); why != dueNone && !now.Before(at) {
			c.end.how = c.dueHow(&m.cfg, why)
			done = append(done, c)
		}
	}
	return append(evs, m.closeAll(done)...)
}

// Why a call closes by itself (due).
const (
	dueNone     = iota
	dueAllEnded // every channel ended
	dueLeft     // LINKEDID_END, then the caller hung up
	dueMaxAge   // open longer than max_call_age
)

// due returns when the call closes by itself if no row comes, and why (a due* constant; the
// words are dueHow's, built only for a call that closes: advance asks every open call at every
// step of the clock).
func (c *call) due(cfg *Config) (at time.Time, why int) {
	switch {
	case c.allEnded():
		return c.lastTime.Add(cfg.EndGrace), dueAllEnded
	case c.party.lidEnd.id != 0 && !c.party.left.IsZero():
		return c.lastTime.Add(cfg.EndGrace), dueLeft
	case !c.firstTime.IsZero():
		return c.firstTime.Add(cfg.MaxCallAge), dueMaxAge
	}
	return time.Time{}, dueNone
}

// dueHow says in words why the call closes by itself (why from due).
func (c *call) dueHow(cfg *Config, why int) string {
	switch why {
	case dueAllEnded:
		return "no LINKEDID_END: every channel had ended and end_grace " + cfg.EndGrace.String() + " passed"
	case dueLeft:
		return fmt.Sprintf("LINKEDID_END at row %d, then the caller hung up and end_grace %s passed without its CHAN_END", c.party.lidEnd.id, cfg.EndGrace)
	case dueMaxAge:
		return "open longer than max_call_age " + cfg.MaxCallAge.String() + ": closed with what is known"
	}
	return ""
}

// burstSettle is how long after its row a held ring burst is decided. Eventtime has whole
// seconds and a Dial creates all legs of a ring-all group within milliseconds, so once the CEL
// clock shows the next second every leg of the burst is in the rows.
const burstSettle = time.Second

// releaseBursts decides the held ring bursts whose second is over at now.
func (m *Mapper) releaseBursts(now time.Time) []celbridge.Event {
	var evs []celbridge.Event
	keep := m.bursts[:0]
	for _, c := range m.bursts {
		if c.burst.held() && now.Before(c.burst.ref.t.Add(burstSettle)) {
			keep = append(keep, c)
			continue
		}
		evs = append(evs, c.decideBurst(&m.cfg)...)
	}
	clear(m.bursts[len(keep):])
	m.bursts = keep
	return evs
}

// Deadline returns the CEL time at which Expire next has something to decide (a ring burst to
// release, a call to close) if no row comes before; ok is false when nothing waits on time.
// The poller turns it into a wake-up on this host's clock.
func (m *Mapper) Deadline() (at time.Time, ok bool) {
	for _, c := range m.bursts {
		if c.burst.held() {
			if t := c.burst.ref.t.Add(burstSettle); !ok || t.Before(at) {
				at, ok = t, true
			}
		}
	}
	for _, c := range m.calls {
		if t, why := c.due(&m.cfg); why != dueNone && (!ok || t.Before(at)) {
			at, ok = t, true
		}
	}
	return at, ok
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "(none)"
	}
	return t.Format("2006-01-02 15:04:05")
}
