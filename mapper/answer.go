package mapper

import (
	"fmt"
	"time"

	"github.com/celbridge/celbridge"
)

// Answer (DESIGN §3): answeredTheCall goes once, when a person is first connected with the
// external party: for an incoming call an internal phone's leg bridged with the caller's side
// (Local ;1/;2 pairs followed to the phone behind them, graph.go; a PICKUP names the picker),
// for an outgoing call the trunk leg bridged with the employee's side. The trunk's own ANSWER
// (IVR, queue, Answer()) is never a person, and a holding bridge is no conversation.

// talk is the conversation as far as the CRM counts it.
type talk struct {
	// at is when a person first answered; talker is who talks with the party now,
	// answeredBy who answered first (in words for an outgoing call).
	at                 time.Time
	talker, answeredBy string
	// transfers counts the changes of talker after the answer; transferRows the
	// BLINDTRANSFER/ATTENDEDTRANSFER rows that handed the caller on (a park is none, park.go);
	// lastBlind is the latest BLINDTRANSFER.
	transfers, transferRows int
	lastBlind               rowRef
	// parkedSince is set while the party is parked; parked is the parked time so far.
	parkedSince time.Time
	parked      time.Duration
}

// evaluate looks, after a bridge change, for a person connected to the external party: the
// first answer, or a transfer to another phone.
func (c *call) evaluate(cfg *Config, ref rowRef) []celbridge.Event {
	if !c.sent(cfg) || c.origin == nil {
		return nil
	}
	for _, src := range c.externalSides() {
		if src.bridge == "" || src.ended {
			continue
		}
		var phones []*channel
		var outside *channel
		for _, o := range c.reach(src)[1:] {
			switch {
			case o.info.kind == kindPhone && (c.dir == dirOutgoing || o != c.origin):
				phones = append(phones, o)
			case o.info.kind == kindTrunk && c.dir != dirOutgoing && o != c.origin && !o.placeholder && outside == nil:
				// An incoming (or sent internal) call forwarded to an outside number.
				outside = o
			}
		}
		if c.answered() {
			for _, p := range phones {
				if personExt(p) == c.talk.talker {
					return nil
				}
			}
		}
		if len(phones) == 0 && src == c.c2c.custLeg && src.bridge == c.origin.bridge {
			// A click-to-call answered by the customer: the employee's side may be a mobile
			// (follow-me) rather than a phone.
			return c.personConnected(cfg, c.num.internal, src, ref, "the called party ("+src.name+") was bridged with "+orUnknown(c.num.internal)+"'s click-to-call")
		}
		if len(phones) > 0 {
			p := phones[0]
			ext := personExt(p)
			why := ext + "'s phone was bridged with the caller"
			switch {
			case c.dir != dirIncoming:
				why = "the called party (" + src.name + ") was bridged with " + orUnknown(c.num.internal) + "'s call"
			case p.pickedBy != "":
				why = ext + " (who picked up " + p.info.ext + "'s ringing call) was bridged with the caller"
			}
			return c.personConnected(cfg, ext, src, ref, why)
		}
		if outside != nil && !c.answered() {
			// Forwarded to an outside number (call forward, follow-me): the callee answering
			// counts as the answer; the internal number stays the one the call was for.
			n := c.recvTarget()
			why := "the outside number the call was forwarded to (" + outside.name + ") answered"
			if n != "" {
				why += "; counted for " + n
			} else {
				why += "; CEL does not show which extension forwarded it"
			}
			evs := c.personConnected(cfg, n, src, ref, why)
			c.talk.answeredBy = "the outside number the call was forwarded to"
			return evs
		}
	}
	return nil
}

// externalSides are the channels a person must be connected with to talk with the outside:
// the caller of an incoming call; for an outgoing call the answered party, the customer's leg
// of a click-to-call, or every trunk leg.
func (c *call) externalSides() []*channel {
	switch {
	case c.dir == dirOutgoing && c.answered() && c.party.ch != nil:
		return []*channel{c.party.ch}
	case c.dir == dirOutgoing && c.c2c.custLeg != nil:
		return []*channel{c.c2c.custLeg}
	case c.dir == dirOutgoing:
		var srcs []*channel
		for _, ch := range c.chans {
			if ch.info.kind == kindTrunk && ch != c.origin && !ch.ended {
				srcs = append(srcs, ch)
			}
		}
		return srcs
	}
	return []*channel{c.origin}
}

// recvTarget is the internalNumber receivedTheCall carried (or would carry).
func (c *call) recvTarget() string {
	if c.received() {
		return c.dest.recvInternal
	}
	if c.dir == dirIncoming {
		return c.dest.target()
	}
	return c.num.internal
}

// personConnected records that ext now talks with the external party: answeredTheCall the
// first time, transferredTheCall (opt-in) when the person changes.
func (c *call) personConnected(cfg *Config, ext string, src *channel, ref rowRef, why string) []celbridge.Event {
	if !c.sent(cfg) {
		// An internal call not sent, or a click-to-call still ringing the employee: nothing
		// is answered as far as the CRM goes. A PICKUP stays on the channel (pickedBy) for a
		// later evaluate.
		return nil
	}
	if !c.answered() {
		return c.answer(cfg, ext, src, ref, why)
	}
	if ext == c.talk.talker || ext == "" {
		return nil
	}
	return c.takenOver(cfg, ext, ref)
}

// answer emits answeredTheCall: ext answered, src is the external side it talks with.
func (c *call) answer(cfg *Config, ext string, src *channel, ref rowRef, why string) []celbridge.Event {
	c.talk.at = ref.t
	c.talk.talker, c.talk.answeredBy = ext, ext
	if c.dir != dirIncoming {
		c.talk.answeredBy = "the called party (" + orUnknown(c.num.external) + ")"
	}
	c.party.ch = c.origin
	if c.dir == dirOutgoing && src != nil {
		c.party.ch = src
	}
	e := c.event(cfg, celbridge.Answered, ref)
	e.InternalNumber = ext
	if c.dir != dirIncoming && c.num.internal != "" {
		e.InternalNumber = c.num.internal
	}
	e.Rule = fmt.Sprintf("answered: %s (row %d)", why, ref.id)
	return c.emit(cfg, e)
}

// pickup handles PICKUP on a ringing channel: extra.pickup_channel is who picked it up.
func (c *call) pickup(cfg *Config, row *celbridge.CELRow, ch *channel, ref rowRef) ([]celbridge.Event, error) {
	var warn error
	if err := checkExtra(row.Extra); err != nil {
		warn = fmt.Errorf("PICKUP row of %s: %w", row.ChanName, err)
	}
	picker, _ := extraField(row.Extra, "pickup_channel")
	pi := cfg.classify(picker)
	if pi.kind != kindPhone {
		return nil, warn
	}
	ch.pickedBy = pi.ext
	why := pi.ext + " picked up the call"
	if ch.info.kind == kindPhone && ch.info.ext != pi.ext {
		why += " ringing on " + ch.info.ext + "'s phone"
	}
	return c.personConnected(cfg, pi.ext, nil, ref, why+" (PICKUP)"), warn
}
