package mapper

import (
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/celbridge/celbridge"
)

// ErrUnknownCall is wrapped by Feed's warning for a row whose linkedid belongs to no open
// call (a call that started before the mapper did, or one already closed). Such rows are
// normal after a first start mid-call; callers may log them at a low level.
var ErrUnknownCall = errors.New("row of an unknown call: ignored")

// Mapper turns CEL rows into call events. It is not safe for concurrent use.
type Mapper struct {
	cfg   Config
	calls map[string]*call
	// parties maps the uniqueid of an answered call's external party (the caller of an
	// incoming call, the trunk leg of an outgoing one) to its call: when a transfer bridges
	// that party with an older call, Asterisk gives the party the older linkedid, and its later
	// rows still belong to this call.
	parties map[string]*call
	// partyNames indexes the same calls by the party's channel name, for a BRIDGE_ENTER of
	// another call whose peer field names the party.
	partyNames map[string]*call
	// bursts lists the calls holding back a ring burst for the ring-group decision; the CEL
	// clock reaching the next second, the call's own next row, or Flush decides it.
	bursts []*call
	// clock is CEL time (clock.go); held is a row waiting for a neighbour to confirm its
	// eventtime.
	clock time.Time
	held  *heldRow
}

// New returns a Mapper for cfg; zero fields of cfg take DefaultConfig's values.
func New(cfg Config) *Mapper {
	return &Mapper{cfg: cfg.withDefaults(), calls: make(map[string]*call),
		parties: make(map[string]*call), partyNames: make(map[string]*call)}
}

// SetConfig replaces the configuration (FreePBX's, read again): the rows fed from now on are
// decided with it; what was decided stays. Like Feed, not safe for concurrent use.
func (m *Mapper) SetConfig(cfg Config) { m.cfg = cfg.withDefaults() }

// Feed consumes one CEL row (rows come in id order) and returns the events it decides.
// warn != nil means the row was malformed or could not be used (the caller logs it with
// row.ID); the events are still valid. Feed never panics: a panic is a bug, not bad data, and
// comes back as a warn wrapping celbridge.ErrInternal that names where it happened; the
// row is skipped.
func (m *Mapper) Feed(row celbridge.CELRow) (events []celbridge.Event, warn error) {
	defer func() {
		if r := recover(); r != nil {
			events, warn = nil, fmt.Errorf("%w: %s row %d: panic %q at %s; row skipped", celbridge.ErrInternal, safeType(row.EventType), row.ID, fmt.Sprint(r), panicSite())
		}
	}()
	return m.admit(row, false)
}

// panicSite is file:line of the code that panicked, read in a deferred recover: the first
// frame below runtime.gopanic.
func panicSite() string {
	pcs := make([]uintptr, 32)
	frames := runtime.CallersFrames(pcs[:runtime.Callers(2, pcs)])
	below := false
	for {
		f, more := frames.Next()
		if below && !strings.HasPrefix(f.Function, "runtime.") {
			return filepath.Base(f.File) + ":" + strconv.Itoa(f.Line)
		}
		below = below || f.Function == "runtime.gopanic"
		if !more {
			return "(unknown)"
		}
	}
}

// feedHook, when set (by tests), sees every row feed handles: a test makes it panic.
var feedHook func(*celbridge.CELRow)

// Skip gives the mapper the time of a row the caller read but does not feed (a backfill past
// its range, for rows of calls it does not follow): the clock moves as if the row were fed,
// so calls without LINKEDID_END still close. It returns the events that became due.
func (m *Mapper) Skip(row celbridge.CELRow) []celbridge.Event {
	evs, _ := m.admit(row, true)
	return evs
}

func (m *Mapper) feed(row *celbridge.CELRow) ([]celbridge.Event, error) {
	if feedHook != nil {
		r := *row // a copy: the hook's parameter escapes, and row must not (a heap copy per row)
		feedHook(&r)
	}
	et := eventTypeOf(row.EventType)
	if et == evIgnored || strings.HasPrefix(row.ChanName, "Message/") ||
		(et == evStreamBegin || et == evStreamEnd) && !strings.EqualFold(row.AppName, "VoiceMail") {
		return nil, nil
	}
	var evs []celbridge.Event
	if row.LinkedID == "" {
		return evs, fmt.Errorf("%s row of %q without linkedid: ignored", row.EventType, row.ChanName)
	}
	c := m.calls[row.LinkedID]
	if p := m.parties[row.UniqueID]; p != nil && p != c && et != evLinkedIDEnd {
		// The external party of p now carries another (older) linkedid: it was transferred
		// into an older call. Its rows still tell p's story (talk time, hang-up); the call of
		// that linkedid does not see them.
		c = p
		c.party.movedTo = row.LinkedID
	}
	if et == evBridgeEnter && row.Peer != "" {
		evs = append(evs, m.joinedParty(row, c)...)
	}
	if c == nil {
		if et != evChanStart || row.UniqueID != row.LinkedID {
			return evs, fmt.Errorf("%s row of linkedid %q: %w", row.EventType, row.LinkedID, ErrUnknownCall)
		}
		c = newCall(&m.cfg, row)
		m.calls[row.LinkedID] = c
	}
	e, warn := c.feed(&m.cfg, row, et)
	evs = join(evs, e)
	m.after(c)
	if warn != nil {
		warn = fmt.Errorf("call %s: %w", c.linkedID, warn)
	}
	return evs, warn
}

// after updates the mapper's indexes once c has taken a row.
func (m *Mapper) after(c *call) {
	if c.closed() {
		delete(m.calls, c.linkedID)
		if p := c.party.ch; p != nil && m.parties[p.uid] == c {
			delete(m.parties, p.uid)
		}
		if m.partyNames[c.party.indexed] == c {
			delete(m.partyNames, c.party.indexed)
		}
		m.bursts = slices.DeleteFunc(m.bursts, func(p *call) bool { return p == c })
		return
	}
	if c.burst.held() && !slices.Contains(m.bursts, c) {
		m.bursts = append(m.bursts, c)
	}
	// Only the outside party of a call the CRM hears about: a phone's rows under another
	// linkedid belong to that other call (a transfer into a customer's call).
	if p := c.party.ch; c.followsParty(&m.cfg) && m.parties[p.uid] == nil {
		m.parties[p.uid] = c
		m.index(c, p.name)
	}
	// The caller of an incoming call is known by name from its start, for a phone of
	// another call that joins it in a conference before anyone answered.
	if c.party.indexed == "" && c.dir == dirIncoming && c.origin != nil && c.origin.info.kind == kindTrunk && !c.answered() {
		m.index(c, c.origin.name)
	}
}

// index files c under the channel name of its party (or caller) in partyNames.
func (m *Mapper) index(c *call, name string) {
	if c.party.indexed == name {
		return
	}
	if c.party.indexed != "" && m.partyNames[c.party.indexed] == c {
		delete(m.partyNames, c.party.indexed)
	}
	m.partyNames[name], c.party.indexed = c, name
}

// Expire tells the mapper that CEL time is now now although no row came (the poller's
// estimate on a quiet line, see poller's celClock): it decides what is due by then (held ring
// bursts, calls whose channels all ended end_grace ago, calls older than max_call_age) and
// returns those events. A now at or before the mapper's clock changes nothing: the rows have
// already decided. A row held for its odd eventtime is confirmed when now agrees with it.
func (m *Mapper) Expire(now time.Time) []celbridge.Event {
	var evs []celbridge.Event
	if h := m.held; h != nil && now.After(minEventTime) && near(now, h.row.EventTime) {
		m.held = nil
		evs, _ = m.release(h, true)
	}
	if now.After(m.clock) && !m.clock.IsZero() {
		evs = append(evs, m.advance(now)...)
	}
	return evs
}

// Flush closes every open call with what is known (end of a backfill or a test), after
// feeding a row still held for its eventtime (with its own time only if the clock was never
// set, since then nothing contradicts it).
func (m *Mapper) Flush() []celbridge.Event {
	var evs []celbridge.Event
	if h := m.held; h != nil {
		m.held = nil
		evs, _ = m.release(h, m.clock.IsZero())
	}
	evs = append(evs, m.releaseBursts(maxTime)...)
	done := make([]*call, 0, len(m.calls))
	for _, c := range m.calls {
		c.end.how = "still open at the end of the rows (flush): closed with what is known"
		done = append(done, c)
	}
	return append(evs, m.closeAll(done)...)
}

// maxTime is later than any eventtime.
var maxTime = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)

// closeAll closes calls in the order they started.
func (m *Mapper) closeAll(done []*call) []celbridge.Event {
	slices.SortFunc(done, func(a, b *call) int { return compareInt(a.firstID, b.firstID) })
	var evs []celbridge.Event
	for _, c := range done {
		evs = append(evs, c.close(&m.cfg, rowRef{c.lastID, c.lastTime}, c.end.how)...)
		m.after(c)
	}
	return evs
}

// join returns a followed by b. When a is empty it returns b itself rather than a copy: every
// event slice is built by the function that returns it and kept by no one (a copy per layer
// of Feed was most of the mapper's allocation).
func join(a, b []celbridge.Event) []celbridge.Event {
	if len(a) == 0 {
		return b
	}
	return append(a, b...)
}

func compareInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// OldestOpen returns the smallest first CEL id of any open call (for the checkpoint).
func (m *Mapper) OldestOpen() (id int64, ok bool) {
	if m.held != nil && !m.held.timeOnly {
		id, ok = m.held.row.ID, true
	}
	for _, c := range m.calls {
		if !ok || c.firstID < id {
			id, ok = c.firstID, true
		}
	}
	return id, ok
}

// OpenCalls returns the number of open calls.
func (m *Mapper) OpenCalls() int { return len(m.calls) }

// MapAll feeds every row to a new Mapper and flushes it: the events of a finished set of
// rows, for tests, dry runs and the demo. Warnings are dropped.
func MapAll(cfg Config, rows []celbridge.CELRow) []celbridge.Event {
	m := New(cfg)
	return append(m.feedAll(rows), m.Flush()...)
}

// feedAll feeds rows in order and returns their events, dropping warnings.
func (m *Mapper) feedAll(rows []celbridge.CELRow) []celbridge.Event {
	var evs []celbridge.Event
	for _, r := range rows {
		e, _ := m.Feed(r)
		evs = append(evs, e...)
	}
	return evs
}

// safeType is an eventtype fit for a log line: ASCII letters, digits and _ only, truncated.
func safeType(s string) string {
	if len(s) > 32 {
		s = s[:32]
	}
	return strings.Map(func(r rune) rune {
		if r == '_' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		return '?'
	}, s)
}
