package mapper

import (
	"fmt"
	"time"

	"github.com/celbridge/celbridge"
)

// The state of one call, and the per-row dispatch to the rules of DESIGN §3, each in a file of
// its own: direction.go (who called whom), destination.go (ring group, queue, follow-me: the
// internalNumber of receivedTheCall), answer.go (a person picks up), transfer.go (transfers,
// the party followed across linkedids), park.go, clicktocall.go, conference.go, hangup.go
// (the end, billsec, disposition) and emit.go (the one way an event leaves a call).

// direction of a call as far as it is known.
type direction uint8

const (
	dirUndecided direction = iota // originator is a phone (or odd channel), no trunk seen yet
	dirIncoming                   // originator is a trunk or starts in an inbound context
	dirOutgoing                   // originator is a phone and a trunk leg was created
	dirInternal                   // phone to phone so far; sent as outgoing only with InternalCalls
)

// phase is where a call is in the CRM's eyes. It only moves forward: emit moves it to
// received, answered and closed; linkedIDEnd to ending; close to closed for a call not sent.
type phase uint8

const (
	phaseStarted  phase = iota // nothing sent yet: IVR, a held ring burst, a click-to-call waiting for its number
	phaseReceived              // receivedTheCall sent
	phaseAnswered              // answeredTheCall sent: a person talks with the external party
	phaseEnding                // LINKEDID_END came while the followed party talks on under another linkedid
	phaseClosed                // hangupTheCall sent, or the call closed without the CRM hearing of it
)

// rowRef is the id and time of the row that decided an event.
type rowRef struct {
	id int64
	t  time.Time
}

// channel is one channel of a call, keyed by uniqueid (a placeholder known only from a
// BRIDGE_ENTER peer field has no uniqueid yet).
type channel struct {
	uid, name string
	info      chanInfo
	// bridge is the non-holding bridge the channel is in now ("" if none).
	bridge      string
	holding     bool
	ended       bool
	hungUp      bool // HANGUP logged (CHAN_END may follow later)
	placeholder bool
	// pickedBy is the extension that picked this ringing channel up (PICKUP).
	pickedBy string
}

// call is the state of one open call (one linkedid). It is kept small: a handful of strings
// and a short slice of channels; it is dropped when the call closes.
type call struct {
	linkedID, callID    string
	firstID, lastID     int64
	firstTime, lastTime time.Time

	phase phase
	dir   direction
	// outFootprint: the originator ran FreePBX's outbound-route dialplan (an outgoing call
	// even if no trunk leg was created).
	outFootprint bool
	// tooWide: the call reached maxChannels; rows of further channels are ignored.
	tooWide bool

	origin *channel
	chans  []*channel

	num   numbers       // direction.go
	dest  destination   // destination.go
	burst heldBurst     // destination.go
	c2c   clickToCall   // clicktocall.go
	talk  talk          // answer.go, transfer.go, park.go
	party followedParty // transfer.go
	end   ending        // hangup.go
	rec   recording     // recording.go
}

// maxChannels bounds the channels one call tracks. Every bridge change looks at the call's
// channels, so a linkedid with thousands of them (a big conference, a runaway originate
// loop) made polling stop for seconds; past the bound its further channels are ignored, with
// one warning. The call still closes at its LINKEDID_END.
const maxChannels = 500

// maxPeers bounds the names taken from one row's peer field (a conference lists every member).
const maxPeers = 16

func newCall(cfg *Config, row *celbridge.CELRow) *call {
	return &call{
		linkedID:  row.LinkedID,
		callID:    GeneralCallID(row.LinkedID, cfg.CallID),
		firstID:   row.ID,
		lastID:    row.ID,
		firstTime: row.EventTime,
		lastTime:  row.EventTime,
	}
}

func (c *call) received() bool { return c.phase >= phaseReceived }
func (c *call) answered() bool { return c.phase == phaseAnswered || c.phase == phaseEnding }
func (c *call) closed() bool   { return c.phase == phaseClosed }

// feed applies one row of this call and returns the events it decides.
func (c *call) feed(cfg *Config, row *celbridge.CELRow, et evType) (evs []celbridge.Event, warn error) {
	if row.ID <= c.lastID && row.ID != c.firstID {
		warn = fmt.Errorf("%s row arrived after row %d of the same call (out of order)", row.EventType, c.lastID)
	}
	c.lastID = max(c.lastID, row.ID)
	t := row.EventTime
	if t.IsZero() {
		t = c.lastTime
		if warn == nil {
			warn = fmt.Errorf("%s row without a valid eventtime", row.EventType)
		}
	} else if t.After(c.lastTime) {
		c.lastTime = t
	}
	if c.firstTime.IsZero() {
		c.firstTime = t
	}
	ref := rowRef{row.ID, t}

	if et != evChanStart {
		// Any other row of the call means its ring burst is over.
		evs = c.decideBurst(cfg)
	}
	if row.UniqueID == "" {
		if et == evLinkedIDEnd {
			return append(evs, c.close(cfg, ref, fmt.Sprintf("LINKEDID_END, row %d", ref.id))...), warn
		}
		return evs, orWarn(warn, fmt.Errorf("%s row without uniqueid: ignored", row.EventType))
	}
	if len(c.chans) >= maxChannels && et != evLinkedIDEnd && c.find(row.UniqueID) == nil {
		if !c.tooWide {
			c.tooWide = true
			warn = orWarn(warn, fmt.Errorf("call has %d channels: the rows of further channels are ignored (a conference this big is not one conversation)", maxChannels))
		}
		return evs, warn
	}
	if et == evChanStart {
		e, w := c.chanStart(cfg, row, ref)
		return join(evs, e), orWarn(warn, w)
	}

	ch := c.channel(cfg, row)
	if ch == c.c2c.custLeg {
		evs = append(evs, c.customerLegRow(cfg, row, ref)...)
	}
	if ch == c.origin {
		evs = append(evs, c.trackOrigin(cfg, row, ref)...)
		if et == evAnswer {
			c.c2c.agentAnswered = true
		}
	}
	var e []celbridge.Event
	var w error
	switch et {
	case evHangup:
		w = c.hangupRow(row, ch, t)
	case evChanEnd:
		e = c.chanEnd(cfg, ch, ref)
	case evAppStart:
		c.rec.note(row)
		e = c.appStart(cfg, row, ref)
	case evAppEnd, evStreamBegin, evStreamEnd:
		c.end.voicemail.note(row, et, t)
	case evBridgeEnter, evBridgeExit, evBridgeStart11, evBridgeEnd11:
		e, w = c.bridgeRow(cfg, row, et, ch, ref)
	case evParkStart:
		c.parkStart(ch, t)
	case evParkEnd:
		c.parkEnd(ch)
	case evBlindTransfer, evAttendedTransfer:
		w = c.transferRow(row, et, ref)
	case evPickup:
		e, w = c.pickup(cfg, row, ch, ref)
	case evLinkedIDEnd:
		e = c.linkedIDEnd(cfg, row, ref)
	}
	return join(evs, e), orWarn(warn, w)
}

// bridgeRow handles BRIDGE_ENTER/EXIT (and Asterisk 11's BRIDGE_START/END): who is now
// connected with whom, which may be a person answering or taking the call over.
func (c *call) bridgeRow(cfg *Config, row *celbridge.CELRow, et evType, ch *channel, ref rowRef) ([]celbridge.Event, error) {
	switch et {
	case evBridgeStart11:
		return c.bridgeEnter(cfg, ch, "ast11:"+ch.uid, false, row.Peer, ref), nil
	case evBridgeEnd11:
		for _, o := range c.chans {
			if o.bridge == "ast11:"+ch.uid {
				o.bridge = ""
			}
		}
		return nil, nil
	}
	var warn error
	if err := checkExtra(row.Extra); err != nil {
		warn = fmt.Errorf("%s row of %s: %w", row.EventType, row.ChanName, err)
	}
	id, _ := extraField(row.Extra, "bridge_id")
	tech, _ := extraField(row.Extra, "bridge_technology")
	switch {
	case et == evBridgeEnter && c.answered() && isConference(row):
		c.enterConferenceAnswered(ch, id)
		return nil, warn
	case et == evBridgeEnter:
		return c.bridgeEnter(cfg, ch, id, tech == "holding_bridge", row.Peer, ref), warn
	}
	c.bridgeExit(ch, id, tech == "holding_bridge")
	return nil, warn
}

func orWarn(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// find returns the call's channel with this uniqueid, or nil.
func (c *call) find(uid string) *channel {
	for _, ch := range c.chans {
		if ch.uid == uid {
			return ch
		}
	}
	return nil
}

// channel finds (or adds) the row's channel, following renames (masquerades) and adopting a
// placeholder created from a peer field.
func (c *call) channel(cfg *Config, row *celbridge.CELRow) *channel {
	if ch := c.find(row.UniqueID); ch != nil {
		if row.ChanName != "" && row.ChanName != ch.name {
			ch.name = row.ChanName
			ch.info = cfg.classify(row.ChanName)
		}
		return ch
	}
	for _, ch := range c.chans {
		if ch.placeholder && ch.name == row.ChanName {
			ch.uid, ch.placeholder = row.UniqueID, false
			return ch
		}
	}
	ch := &channel{uid: row.UniqueID, name: row.ChanName, info: cfg.classify(row.ChanName)}
	c.chans = append(c.chans, ch)
	return ch
}

// byName returns the channel called name, adding a placeholder when the call has none.
func (c *call) byName(cfg *Config, name string) *channel {
	for _, ch := range c.chans {
		if ch.name == name {
			return ch
		}
	}
	ch := &channel{name: name, info: cfg.classify(name), placeholder: true}
	c.chans = append(c.chans, ch)
	return ch
}

// hasLocal reports whether a Local helper channel has started in the call.
func (c *call) hasLocal() bool {
	for _, ch := range c.chans {
		if ch.info.kind == kindLocal {
			return true
		}
	}
	return false
}

func orUnknown(s string) string {
	if s == "" {
		return "(unknown)"
	}
	return s
}
