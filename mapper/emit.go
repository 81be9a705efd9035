package mapper

import (
	"fmt"

	"github.com/celbridge/celbridge"
)

// Emitting: every event of a call leaves through emit, which keeps the order the CRM relies
// on (DESIGN §1) whatever rule decided the event:
//   - nothing for a call the CRM does not hear about (an internal call, unless
//     internal_calls), and nothing after hangupTheCall;
//   - a held ring burst is decided first (its receivedTheCall names the group);
//   - receivedTheCall once, and first: another event of a call not yet received is preceded
//     by one with what is known (the call ended in the IVR, or was answered before any phone
//     was seen ringing).
// Each event carries the id of the row that decided it (CELID) and the rule, in words, that
// did (Rule): `explain` shows both.

// emit sends e (built by c.event, its own fields and Rule set) with what must precede it, and
// moves the call's phase.
func (c *call) emit(cfg *Config, e celbridge.Event) []celbridge.Event {
	if c.closed() || !c.sent(cfg) {
		return nil
	}
	evs := c.decideBurst(cfg)
	if e.RequestType == celbridge.Received {
		if c.received() {
			return evs
		}
		c.phase = phaseReceived
		c.dest.recvInternal = e.InternalNumber
		return append(evs, e)
	}
	if !c.received() {
		evs = append(evs, c.lateReceive(cfg, e)...)
	}
	switch e.RequestType {
	case celbridge.Answered:
		c.phase = phaseAnswered
	case celbridge.Hangup:
		c.phase = phaseClosed
	}
	return append(evs, e)
}

// receive emits receivedTheCall (once); why says in words what decided internal.
func (c *call) receive(cfg *Config, ref rowRef, internal, why string) []celbridge.Event {
	e := c.event(cfg, celbridge.Received, ref)
	e.InternalNumber = internal
	e.Rule = fmt.Sprintf("received: %s (row %d)", why, ref.id)
	return c.emit(cfg, e)
}

// lateReceive is the receivedTheCall that precedes next when no row sent one before: the
// call was answered before any phone was seen ringing, or ended before reaching anyone.
func (c *call) lateReceive(cfg *Config, next celbridge.Event) []celbridge.Event {
	ref := rowRef{next.CELID, next.Time}
	internal := c.recvTarget()
	var why string
	switch {
	case next.RequestType != celbridge.Hangup && c.dest.target() != "":
		why = c.dest.why()
	case next.RequestType != celbridge.Hangup:
		why = "answered before any phone was seen ringing"
	case c.dir != dirIncoming:
		why = "outgoing call from " + orUnknown(c.num.internal) + " to " + orUnknown(c.num.external) + " ended before a trunk leg answered; sent at hang-up"
	case c.dest.target() != "":
		why = c.dest.why() + "; the call ended before any phone rang; sent at hang-up"
	default:
		why = "the call ended before reaching any phone (IVR, announcement or closed hours); sent at hang-up"
	}
	return c.receive(cfg, ref, internal, why)
}

// event builds an event of this call with the numbers known now.
func (c *call) event(cfg *Config, typ string, ref rowRef) celbridge.Event {
	e := celbridge.Event{
		LinkedID:      c.linkedID,
		GeneralCallID: c.callID,
		RequestType:   typ,
		CallType:      celbridge.Incoming,
		CELID:         ref.id,
		FirstCELID:    c.firstID,
		Time:          ref.t,
		CallStart:     c.firstTime,
	}
	if c.dir != dirIncoming {
		e.CallType = celbridge.Outgoing
	}
	if typ == celbridge.Hangup || typ == celbridge.Transferred {
		return e
	}
	e.ExternalNumber = cfg.rewrite(cleanNumber(c.num.external))
	if c.dir == dirIncoming {
		e.DIDNumber = cfg.rewrite(cleanNumber(c.num.did))
	}
	return e
}
