package mapper

import (
	"fmt"
	"time"

	"github.com/celbridge/celbridge"
)

// Hang-up and disposition (DESIGN §1, §3): the call ends at LINKEDID_END (or when its
// followed party ends, transfer.go), else through Expire (every channel ended end_grace ago,
// or max_call_age, clock.go) or Flush. hangupTheCall carries billsec, the whole seconds from
// the first answer by a person to the moment the external party left, less parked time, and
// the disposition.

// ending is what the call's end looks like.
type ending struct {
	// vm: the call went to voicemail.
	vm bool
	// dialStatus and hangupSource are the originator's HANGUP extra; anyDialStatus the last
	// non-empty dialstatus of any channel.
	dialStatus, hangupSource, anyDialStatus string
	// how is why Expire or Flush closes the call (for Rule).
	how string
	// voicemail tells whether the caller left a message (voicemail.go).
	voicemail voicemailRecording
}

// hangupRow handles HANGUP on ch: its dialstatus and hang-up source decide the disposition
// of a call nobody answered.
func (c *call) hangupRow(row *celbridge.CELRow, ch *channel, t time.Time) error {
	ch.hungUp = true
	h, err := parseHangup(row.Extra)
	if err != nil {
		err = fmt.Errorf("HANGUP row of %s: %w", row.ChanName, err)
	}
	if ch == c.origin {
		c.end.dialStatus, c.end.hangupSource = h.dialStatus, h.source
	}
	if h.dialStatus != "" {
		c.end.anyDialStatus = h.dialStatus
	}
	c.leave(ch, t)
	return err
}

// chanEnd handles CHAN_END on ch.
func (c *call) chanEnd(cfg *Config, ch *channel, ref rowRef) []celbridge.Event {
	ch.ended = true
	c.leave(ch, ref.t)
	if c.party.lidEnd.id != 0 && ch == c.party.ch {
		return c.partyEnded(cfg, ref)
	}
	return nil
}

// leave notes that ch hung up: the end of talk time when ch is the external party.
func (c *call) leave(ch *channel, t time.Time) {
	ch.bridge = ""
	if c.answered() && ch == c.party.ch && c.party.left.IsZero() {
		c.party.left = t
		c.unpark(ch, t)
	}
}

// close ends the call: a receivedTheCall if none was sent yet (IVR, closed hours) and the
// hangupTheCall. how says what closed it (for Rule).
func (c *call) close(cfg *Config, ref rowRef, how string) []celbridge.Event {
	if c.closed() {
		return nil
	}
	c.settleDirection(cfg)
	if !c.sent(cfg) {
		c.burst = heldBurst{}
		c.phase = phaseClosed
		return nil
	}
	e := c.event(cfg, celbridge.Hangup, ref)
	e.Billsec = c.billsec(ref.t)
	e.Recording = c.rec.file
	e.VoicemailMessage = c.end.vm && c.end.voicemail.message(ref.t)
	e.Trunk, e.Tried = c.num.trunk, c.dest.tried
	var why string
	e.Disposition, why = c.disposition()
	e.Rule = fmt.Sprintf("hangup: %s: %s; billsec %d (%s)", e.Disposition, why, e.Billsec, how)
	evs := c.emit(cfg, e)
	c.phase = phaseClosed
	return evs
}

// billsec is the whole seconds from the first answer by a person to the moment the external
// party left (or the call closed), less the time the party was parked.
func (c *call) billsec(end time.Time) int {
	if !c.answered() || c.talk.at.IsZero() {
		return 0
	}
	if !c.party.left.IsZero() {
		end = c.party.left
	}
	parked := c.talk.parked
	if ps := c.talk.parkedSince; !ps.IsZero() && end.After(ps) {
		parked += end.Sub(ps)
	}
	d := end.Sub(c.talk.at) - parked
	if d <= 0 || end.IsZero() {
		return 0
	}
	return int(d / time.Second)
}

// disposition decides hangupTheCall's disposition and says why.
func (c *call) disposition() (disp, rule string) {
	switch {
	case c.answered() && (c.talk.transfers > 0 || c.talk.transferRows > 0):
		why := "answered by " + orUnknown(c.talk.answeredBy) + ", then transferred"
		if c.talk.talker != c.talk.answeredBy && c.talk.talker != "" {
			why += " (last to " + c.talk.talker + ")"
		}
		return celbridge.DispTransfer, why
	case c.answered():
		return celbridge.DispAnswer, "answered by " + orUnknown(c.talk.answeredBy)
	case c.end.vm:
		return celbridge.DispVoicemail, "not answered, the caller went to voicemail"
	}
	ds := c.end.dialStatus
	who := "the caller's"
	if ds == "" {
		ds, who = c.end.anyDialStatus, "a"
	}
	switch ds {
	case celbridge.DispCancel:
		return ds, "not answered, the caller hung up while it rang (" + who + " dialstatus CANCEL)"
	case celbridge.DispNoAnswer:
		return ds, "not answered before the ring timeout (" + who + " dialstatus NOANSWER)"
	case celbridge.DispBusy:
		return ds, "the called party was busy (" + who + " dialstatus BUSY)"
	case celbridge.DispChanUnavail:
		return ds, "the called phone or trunk was unavailable (" + who + " dialstatus CHANUNAVAIL)"
	case celbridge.DispCongestion:
		return ds, "the call could not get through: congestion (" + who + " dialstatus CONGESTION)"
	}
	if !c.dest.reached {
		return celbridge.DispCancel, "the caller hung up before reaching any phone (IVR, announcement, closed hours)"
	}
	if c.origin != nil && c.end.hangupSource == c.origin.name {
		return celbridge.DispCancel, "not answered, the caller hung up while it rang"
	}
	return celbridge.DispNoAnswer, "not answered"
}

// allEnded reports whether every channel seen with rows of its own has ended.
func (c *call) allEnded() bool {
	n := 0
	for _, ch := range c.chans {
		if ch.placeholder {
			continue
		}
		if !ch.ended {
			return false
		}
		n++
	}
	return n > 0
}
