package mapper

import (
	"fmt"

	"github.com/celbridge/celbridge"
)

// Click-to-call: an originate (FreePBX UCP, a CRM through AMI, a call file) of
// Local/<ext>@<context>. The Local helper rings the employee's side first (desk phones,
// follow-me, a mobile: not the call's answer), and once that side answered it dials the
// customer through a trunk. For the CRM it is an outgoing call of the employee. Rows name the
// customer's number late (fp17-c1, -c2 in testdata): the trunk leg starts without it, and
// FreePBX shows it in the Dial data or the customer leg's exten only when the customer
// answers, or in the helper's HANGUP when nobody does; receivedTheCall waits for it.

// clickToCall is what the mapper knows of an originate.
type clickToCall struct {
	// on: the originator is a Local helper that rings the employee's side first.
	on bool
	// agentAnswered: the employee's side answered (the helper's ANSWER row).
	agentAnswered bool
	// custLeg is the trunk leg dialled to the customer once the employee answered.
	custLeg *channel
	// wait is the row of the trunk leg whose receivedTheCall waits for the number.
	wait rowRef
}

// ringingAgent reports whether an originate is still ringing the employee's side.
func (cc *clickToCall) ringingAgent() bool { return cc.on && !cc.agentAnswered }

// waiting reports whether receivedTheCall of c waits for the number.
func (cc *clickToCall) waiting(c *call) bool {
	return c.dir == dirOutgoing && !c.received() && cc.wait.id != 0
}

// startOriginate marks an originator Local/<ext>@… whose exten is an extension: it rings
// that employee's side first.
func (c *call) startOriginate(ch *channel) {
	c.c2c.on = true
	c.num.internal = ch.info.ext
}

// detectOriginate recognises a click-to-call whose helper is not named by an extension
// (Local/<user id>@…, an API originate): the first phone it rings, while every other channel
// is a Local helper, is the employee's. The Local's exten is the employee's side, not the
// number called; that shows in the Dial data.
func (c *call) detectOriginate(ch *channel) bool {
	if c.c2c.on || c.origin == nil || c.origin.info.kind != kindLocal {
		return false
	}
	for _, o := range c.chans {
		if o != ch && o.info.kind != kindLocal {
			return false
		}
	}
	c.c2c.on = true
	c.num.internal, c.num.external = ch.info.ext, ""
	return true
}

// outgoingLeg is a new channel of a call already outgoing. Outbound-route failover: the
// first trunk failed, the next one dials the customer. (A follow-me mobile leg starting
// meanwhile is the employee's side.)
func (c *call) outgoingLeg(ch *channel) {
	cl := c.c2c.custLeg
	if c.c2c.on && !c.answered() && ch.info.kind == kindTrunk && (cl == nil || cl.hungUp || cl.ended) {
		c.c2c.custLeg = ch
	}
}

// customerLegRow reads a row of the customer's leg for the number it dialled: its exten
// (FreePBX) or, on a later row, its caller id (the connected line once the customer answers).
func (c *call) customerLegRow(cfg *Config, row *celbridge.CELRow, ref rowRef) []celbridge.Event {
	if c.num.external != "" {
		return nil
	}
	if n := phoneNumber(cfg, row.Exten); n != "" {
		c.num.external = n
	} else if n := phoneNumber(cfg, row.CIDNum); n != "" && row.UniqueID != row.LinkedID {
		c.num.external = n
	}
	return c.numberKnown(cfg, ref)
}

// originRowNamesNumber reads a row of the originator while receivedTheCall waits: FreePBX 17
// runs the outbound Dial in trunk-dial-with-exten with exten = the number sent to the trunk
// (the Dial data, read by trackOrigin, names it too once the customer answers).
func (c *call) originRowNamesNumber(cfg *Config, row *celbridge.CELRow, ref rowRef) []celbridge.Event {
	if c.num.external == "" && isTrunkDialContext(row.Context) {
		c.num.external = phoneNumber(cfg, row.Exten)
	}
	return c.numberKnown(cfg, ref)
}

// numberKnown sends the receivedTheCall held back for the number once a row (ref) named it.
func (c *call) numberKnown(cfg *Config, ref rowRef) []celbridge.Event {
	if !c.c2c.waiting(c) || c.num.external == "" {
		return nil
	}
	return c.receive(cfg, ref, c.num.internal, fmt.Sprintf("outgoing call from %s to %s: the trunk leg was created at row %d; row %d named the number",
		orUnknown(c.num.internal), c.num.external, c.c2c.wait.id, ref.id))
}

// phoneNumber returns s when it reads as an outside phone number (digits, * or #, an optional
// leading +, at least three digits, not an extension), else "".
func phoneNumber(cfg *Config, s string) string {
	digits := 0
	for i := 0; i < len(s); i++ {
		switch b := s[i]; {
		case b >= '0' && b <= '9':
			digits++
		case b == '+' && i == 0, b == '*', b == '#':
		default:
			return ""
		}
	}
	if digits < 3 || cfg.ExtensionPattern.MatchString(s) {
		return ""
	}
	return s
}
