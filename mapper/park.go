package mapper

import "time"

// Parking (DESIGN §1 billsec, §3 answer): a parked call sits in the lot's holding bridge,
// which is no conversation, and its time there is not talk. FreePBX parks a call by a blind
// transfer to the park extension (BLINDTRANSFER, then PARK_START at the same second): that is
// a park, not a transfer. Out of the lot the caller is not talking yet either: a timed-out
// call rings its parker again (FreePBX's comeback) and a retriever's phone is connected a
// moment later, so parked time runs from PARK_START until the caller is next bridged with
// someone, or hangs up (fp17-p1..p3 in testdata).

// parkStart handles PARK_START on ch.
func (c *call) parkStart(ch *channel, t time.Time) {
	if lb := c.talk.lastBlind; lb.id != 0 && !t.After(lb.t) && c.talk.transferRows > 0 {
		c.talk.transferRows--
		c.talk.lastBlind = rowRef{}
	}
	c.hold(ch, t)
}

// parkEnd handles PARK_END: ch left the lot; parked time runs on until its next bridge.
func (c *call) parkEnd(ch *channel) { ch.holding = false }

// hold puts ch into a holding bridge; for the party, parked time starts.
func (c *call) hold(ch *channel, t time.Time) {
	ch.holding = true
	if c.answered() && ch == c.party.ch && c.talk.parkedSince.IsZero() {
		c.talk.parkedSince = t
	}
}

// unpark ends the party's parked time at t (a bridge with someone, or its hang-up).
func (c *call) unpark(ch *channel, t time.Time) {
	ch.holding = false
	if ch == c.party.ch && !c.talk.parkedSince.IsZero() {
		if d := t.Sub(c.talk.parkedSince); d > 0 {
			c.talk.parked += d
		}
		c.talk.parkedSince = time.Time{}
	}
}
