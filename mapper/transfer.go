package mapper

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/celbridge/celbridge"
)

// Transfers (DESIGN §3): after the answer, each time the external party is connected with a
// different phone the talker changes (transferredTheCall, opt-in). Linkedids are inherited
// and in a basic bridge the oldest wins, so a transfer can move the party into an older call:
// its later rows carry that call's linkedid but still tell this call's story (talk time,
// hang-up). The Mapper indexes each answered call's party by uniqueid and channel name to
// route those rows (and other calls' BRIDGE_ENTER rows naming it) back here.

// followedParty is the external party whose leaving ends the talk time, followed across
// linkedids.
type followedParty struct {
	ch *channel // set at the answer
	// indexed is the channel name under which Mapper.partyNames finds this call: the party's,
	// or before the answer the caller's (a phone joining it in a conference).
	indexed string
	// left is when the party hung up.
	left time.Time
	// lidEnd is the LINKEDID_END row that came while the party was still up (the call goes on
	// under another linkedid); movedTo is the linkedid its rows moved to.
	lidEnd  rowRef
	movedTo string
	// outsideJoined: an outside party of another call entered the party's bridge last.
	outsideJoined bool
}

// takenOver records that ext, another phone than the talker's, now talks with the party.
func (c *call) takenOver(cfg *Config, ext string, ref rowRef) []celbridge.Event {
	c.talk.talker = ext
	c.talk.transfers++
	if !cfg.SendTransfers {
		return nil
	}
	e := c.event(cfg, celbridge.Transferred, ref)
	e.Seq = c.talk.transfers
	e.InternalNumber = ext
	e.Rule = fmt.Sprintf("transferred: the caller is now connected to %s's phone (transfer %d, row %d)", ext, c.talk.transfers, ref.id)
	return c.emit(cfg, e)
}

// transferRow counts a BLINDTRANSFER / ATTENDEDTRANSFER row: the call was handed on, even
// when the new talker is no phone of ours (an outside number).
func (c *call) transferRow(row *celbridge.CELRow, et evType, ref rowRef) error {
	c.talk.transferRows++
	if et == evBlindTransfer {
		c.talk.lastBlind = ref
	}
	if err := checkExtra(row.Extra); err != nil {
		return fmt.Errorf("%s row of %s: %w", row.EventType, row.ChanName, err)
	}
	return nil
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
	n := 0
	for p := range strings.SplitSeq(row.Peer, ",") {
		if n++; n > maxPeers {
			break
		}
		name := strings.TrimSpace(p)
		pc := m.partyNames[name]
		if pc == nil || pc == c || pc.closed() || pc.party.indexed != name {
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

// peerJoined notes that a channel of another call (row's) entered the bridge of this call's
// party, as the peer field of row says (conf: the bridge is a conference room). A phone now
// talks with the party; an outside party means the party was put through to someone outside
// (handedOver). The channel is not added to this call's channels: its leaving is a row of
// the other call.
func (c *call) peerJoined(cfg *Config, row *celbridge.CELRow, conf bool) []celbridge.Event {
	switch {
	case c.closed():
		return nil
	case conf && c.answered(), !conf && !c.answered():
		// A conference answers a waiting caller but takes nobody over; a basic bridge of
		// another call reaches the caller only by a transfer after the answer.
		return nil
	case c.answered() && c.party.ch.ended:
		return nil
	}
	pi := cfg.classify(row.ChanName)
	if pi.kind == kindTrunk && !conf {
		c.party.outsideJoined = true
	}
	if pi.kind != kindPhone {
		return nil
	}
	c.party.outsideJoined = false
	return c.personConnected(cfg, pi.ext, nil, rowRef{row.ID, row.EventTime},
		pi.ext+"'s phone (of call "+row.LinkedID+") entered the caller's bridge")
}

// followsParty reports whether the mapper follows the call's party across linkedids (Mapper
// indexes it): only then do its rows under another linkedid come back to this call.
func (c *call) followsParty(cfg *Config) bool {
	p := c.party.ch
	return p != nil && p.uid != "" && !p.placeholder && p.info.kind == kindTrunk && c.sent(cfg)
}

// handedOver reports whether the party is in a bridge where no phone of this call is left
// and an outside party of another call joined it: an employee put it through to someone
// outside (an attended transfer of a customer to a mobile moves the mobile, this call's
// party, into the customer's older call). The employee's part of the call ends there.
func (c *call) handedOver() bool {
	if !c.party.outsideJoined || c.party.ch.bridge == "" {
		return false // ringing a transfer target, in a queue, with a phone: still this call's
	}
	for _, o := range c.reach(c.party.ch)[1:] {
		if o.info.kind == kindPhone {
			return false
		}
	}
	return true
}

// linkedIDEnd handles LINKEDID_END: the call ends, unless its party talks on under another
// linkedid (a transfer into an older call): then it ends when the party does.
func (c *call) linkedIDEnd(cfg *Config, row *celbridge.CELRow, ref rowRef) []celbridge.Event {
	if row.LinkedID != c.linkedID {
		return nil // the followed party's row under the other call's linkedid
	}
	if c.followsParty(cfg) && !c.party.ch.ended && !c.handedOver() {
		c.party.lidEnd = ref
		c.phase = phaseEnding
		return nil
	}
	return c.close(cfg, ref, fmt.Sprintf("LINKEDID_END, row %d", ref.id))
}

// partyEnded closes a call whose LINKEDID_END came while its party was up, once the party's
// channel ends.
func (c *call) partyEnded(cfg *Config, ref rowRef) []celbridge.Event {
	how := fmt.Sprintf("LINKEDID_END at row %d, then the caller's channel ended at row %d", c.party.lidEnd.id, ref.id)
	if c.party.movedTo != "" {
		how = fmt.Sprintf("the caller was transferred into the older call %s (LINKEDID_END of this one at row %d) and its channel ended at row %d", c.party.movedTo, c.party.lidEnd.id, ref.id)
	}
	return c.close(cfg, ref, how)
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
