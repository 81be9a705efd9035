package mapper

import (
	"errors"
	"fmt"
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
	// pending lists calls holding back a ring burst for the ring-group decision; a row of any
	// other call, Expire or Flush releases it.
	pending []*call
}

// New returns a Mapper for cfg; zero fields of cfg take DefaultConfig's values.
func New(cfg Config) *Mapper {
	return &Mapper{cfg: cfg.withDefaults(), calls: make(map[string]*call),
		parties: make(map[string]*call), partyNames: make(map[string]*call)}
}

// Feed consumes one CEL row (rows come in id order) and returns the events it decides.
// warn != nil means the row was malformed or could not be used (the caller logs it with
// row.ID); the events are still valid. Feed never panics.
func (m *Mapper) Feed(row celbridge.CELRow) (events []celbridge.Event, warn error) {
	defer func() {
		if r := recover(); r != nil {
			events, warn = nil, fmt.Errorf("%s row: internal error (row skipped): %v", safeType(row.EventType), r)
		}
	}()
	return m.feed(&row)
}

func (m *Mapper) feed(row *celbridge.CELRow) ([]celbridge.Event, error) {
	et := eventTypeOf(row.EventType)
	if et == evIgnored || strings.HasPrefix(row.ChanName, "Message/") {
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
		c.movedTo = row.LinkedID
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
	evs = append(evs, e...)
	m.after(c)
	if warn != nil {
		warn = fmt.Errorf("call %s: %w", c.linkedID, warn)
	}
	return evs, warn
}

// after updates the mapper's indexes once c has taken a row.
func (m *Mapper) after(c *call) {
	if c.closed {
		delete(m.calls, c.linkedID)
		if c.party != nil && m.parties[c.party.uid] == c {
			delete(m.parties, c.party.uid)
		}
		if m.partyNames[c.partyName] == c {
			delete(m.partyNames, c.partyName)
		}
		m.pending = slices.DeleteFunc(m.pending, func(p *call) bool { return p == c })
		return
	}
	if c.pending != nil && !slices.Contains(m.pending, c) {
		m.pending = append(m.pending, c)
	}
	// Only the outside party of a call the CRM hears about: a phone's rows under another
	// linkedid belong to that other call (a transfer into a customer's call).
	if c.followsParty(&m.cfg) && m.parties[c.party.uid] == nil {
		m.parties[c.party.uid] = c
		if c.partyName != c.party.name {
			if m.partyNames[c.partyName] == c {
				delete(m.partyNames, c.partyName)
			}
			m.partyNames[c.party.name], c.partyName = c, c.party.name
		}
	}
	// The caller of an incoming call is known by name from its start, for a phone of
	// another call that joins it in a conference before anyone answered.
	if c.partyName == "" && c.dir == dirIncoming && c.origin != nil && c.origin.info.kind == kindTrunk && !c.answered {
		m.partyNames[c.origin.name], c.partyName = c, c.origin.name
	}
}

// joinedParty handles a BRIDGE_ENTER (of call c, possibly nil) whose peer names another
// call's outside party: a transfer target from an older call moved into the party's bridge,
// which gives the party the older linkedid without a row of its own. The party's call learns
// who it now talks to.
func (m *Mapper) joinedParty(row *celbridge.CELRow, c *call) []celbridge.Event {
	// A parking lot (holding bridge) holds many calls that talk to nobody. In a conference
	// the first phone to join a waiting caller answers it; later ones take nobody over.
	if tech, _ := extraField(row.Extra, "bridge_technology"); tech == "holding_bridge" {
		return nil
	}
	conf := isConference(row)
	var evs []celbridge.Event
	for p := range strings.SplitSeq(row.Peer, ",") {
		name := strings.TrimSpace(p)
		pc := m.partyNames[name]
		if pc == nil || pc == c || pc.closed || pc.partyName != name {
			continue
		}
		// In a basic bridge the party moved to the joiner's linkedid only if that one is
		// older; a phone of a newer call would have taken the party's linkedid, and its rows
		// reach pc directly.
		if !conf && !olderLinkedID(row.LinkedID, pc.linkedID) {
			continue
		}
		evs = append(evs, pc.peerJoined(&m.cfg, row, conf)...)
	}
	return evs
}

// olderLinkedID reports whether linkedid a (epoch.counter, as Asterisk makes them) was
// created before b. Asterisk gives a basic bridge's members the oldest linkedid.
func olderLinkedID(a, b string) bool {
	ae, ac, okA := splitID(a)
	be, bc, okB := splitID(b)
	if !okA || !okB {
		return a < b
	}
	return ae < be || (ae == be && ac < bc)
}

func splitID(id string) (epoch, counter int64, ok bool) {
	if i := strings.LastIndexByte(id, '-'); i >= 0 {
		id = id[i+1:] // asterisk.conf systemname: "pbx1-1795653134.45"
	}
	e, c, found := strings.Cut(id, ".")
	ei, err1 := strconv.ParseInt(e, 10, 64)
	ci, err2 := strconv.ParseInt(c, 10, 64)
	return ei, ci, found && err1 == nil && err2 == nil
}

// burstWait is how long a held ring burst waits after the first Expire that saw it. A Dial
// creates all legs of a ring-all group within milliseconds, so they are in the rows by then.
// Live, Expire runs at the end of every poll with the wall clock, and Held makes the poller
// poll again that soon: the screen pop is late by burstWait, not by a poll interval. In a
// backfill or a row-by-row replay, Expire runs with the rows' own time, whole seconds, so the
// burst is released at the next row of another second. Rows of other calls do not release a
// burst (calls interleave); the call's own next row does.
const burstWait = 50 * time.Millisecond

// releasePending decides the held ring bursts that Expire first saw at least burstWait before
// now (every burst when now is zero).
func (m *Mapper) releasePending(now time.Time) []celbridge.Event {
	var evs []celbridge.Event
	keep := m.pending[:0]
	for _, c := range m.pending {
		if c.pending != nil && !now.IsZero() {
			if c.heldSeen.IsZero() || now.Before(c.heldSeen) {
				c.heldSeen = now
			}
			if now.Sub(c.heldSeen) < burstWait {
				keep = append(keep, c)
				continue
			}
		}
		evs = append(evs, c.resolvePending(&m.cfg)...)
	}
	clear(m.pending[len(keep):])
	m.pending = keep
	return evs
}

// Held reports whether a ring burst waits for its ring-group decision: Expire releases it
// burstWait after it first saw it, so the poller should call Expire again that soon.
func (m *Mapper) Held() bool { return len(m.pending) > 0 }

// Expire closes calls whose channels all ended and whose last row is older than EndGrace at
// now, and calls older than MaxCallAge, and returns their events (hangupTheCall, preceded by
// receivedTheCall for a call that never reached anyone). It also releases ring bursts held
// for the ring-group decision once burstHold has passed, so it should be called after every
// batch of rows.
func (m *Mapper) Expire(now time.Time) []celbridge.Event {
	evs := m.releasePending(now)
	var done []*call
	for _, c := range m.calls {
		switch {
		case c.allEnded() && !now.Before(c.lastTime.Add(m.cfg.EndGrace)):
			c.closeHow = "no LINKEDID_END: every channel had ended and end_grace " + m.cfg.EndGrace.String() + " passed"
		case c.lidEnd.id != 0 && !c.partyLeft.IsZero() && !now.Before(c.lastTime.Add(m.cfg.EndGrace)):
			c.closeHow = fmt.Sprintf("LINKEDID_END at row %d, then the caller hung up and end_grace %s passed without its CHAN_END", c.lidEnd.id, m.cfg.EndGrace)
		case !c.firstTime.IsZero() && now.Sub(c.firstTime) > m.cfg.MaxCallAge:
			c.closeHow = "open longer than max_call_age " + m.cfg.MaxCallAge.String() + ": closed with what is known"
		default:
			continue
		}
		done = append(done, c)
	}
	return append(evs, m.closeAll(done)...)
}

// Flush closes every open call with what is known (end of a backfill).
func (m *Mapper) Flush() []celbridge.Event {
	evs := m.releasePending(time.Time{})
	done := make([]*call, 0, len(m.calls))
	for _, c := range m.calls {
		c.closeHow = "still open at the end of the rows (flush): closed with what is known"
		done = append(done, c)
	}
	return append(evs, m.closeAll(done)...)
}

// closeAll closes calls in the order they started.
func (m *Mapper) closeAll(done []*call) []celbridge.Event {
	slices.SortFunc(done, func(a, b *call) int { return compareInt(a.firstID, b.firstID) })
	var evs []celbridge.Event
	for _, c := range done {
		evs = append(evs, c.close(&m.cfg, rowRef{c.lastID, c.lastTime}, c.closeHow)...)
		m.after(c)
	}
	return evs
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
	var evs []celbridge.Event
	for _, r := range rows {
		e, _ := m.Feed(r)
		evs = append(evs, e...)
	}
	return append(evs, m.Flush()...)
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
