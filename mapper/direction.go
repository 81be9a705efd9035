package mapper

import (
	"fmt"
	"strings"

	"github.com/celbridge/celbridge"
)

// Direction (DESIGN §3): the originator (uniqueid == linkedid) decides it. A trunk, or a
// channel starting in an inbound context, makes the call incoming; a phone makes it outgoing
// once a trunk leg is created (or the outbound-route dialplan ran), internal while only phones
// take part. The numbers come from the originator's rows.

// numbers are what the call's requests say about who talks with whom.
type numbers struct {
	// did is the number the caller dialled (incoming); external the outside party's number;
	// internal the calling extension of an outgoing or internal call.
	did, external, internal string
	// trunkNumber is the number as sent to the trunk, from the originator's Dial appdata;
	// lastDial the appdata it was read from.
	trunkNumber, lastDial string
	// routed says which outbound route or prefix made the dialled number into external.
	routed string
	// trunk is the trunk the call came in on or went out through.
	trunk string
}

// startOrigin reads the originator's CHAN_START: direction, DID and numbers.
func (c *call) startOrigin(cfg *Config, row *celbridge.CELRow, ch *channel) {
	inbound := cfg.inboundContext(row.Context)
	switch {
	case ch.info.kind == kindTrunk || inbound:
		c.dir = dirIncoming
		if ch.info.kind == kindTrunk {
			c.num.trunk = ch.info.ext
		}
		if inbound && row.Exten != "" && row.Exten != "s" {
			c.num.did = row.Exten
		} else if row.CIDDNID != "" {
			c.num.did = row.CIDDNID
		} else if row.Exten != "s" {
			c.num.did = row.Exten
		}
		c.num.external = row.CIDNum
		if c.num.external == "" {
			c.num.external = row.CIDANI
		}
	case ch.info.kind == kindLocal && cfg.ExtensionPattern.MatchString(ch.info.ext):
		c.startOriginate(ch)
	default:
		if ch.info.kind == kindPhone {
			c.num.internal = ch.info.ext
		}
		if row.Exten != "" && row.Exten != "s" {
			c.num.external = row.Exten
		} else {
			c.num.external = row.CIDDNID
		}
	}
}

// chanStart handles CHAN_START: the originator decides the direction; any other channel may
// be the first internal destination (receivedTheCall) or the trunk leg of an outgoing call.
func (c *call) chanStart(cfg *Config, row *celbridge.CELRow, ref rowRef) ([]celbridge.Event, error) {
	if c.find(row.UniqueID) != nil {
		return nil, fmt.Errorf("second CHAN_START for channel %s: ignored", row.ChanName)
	}
	ch := c.channel(cfg, row)
	var warn error
	if ch.info.kind == kindUnknown {
		warn = fmt.Errorf("CHAN_START with unrecognised channel name %q", row.ChanName)
	}
	if row.UniqueID == row.LinkedID && c.origin == nil {
		c.origin = ch
		c.startOrigin(cfg, row, ch)
		return nil, warn
	}
	if c.origin == nil {
		return nil, orWarn(warn, fmt.Errorf("CHAN_START of %s before the call's originator", row.ChanName))
	}
	switch c.dir {
	case dirIncoming:
		return c.incomingLeg(cfg, ch, ref), warn
	case dirOutgoing:
		c.outgoingLeg(ch)
		return nil, warn
	}
	if c.c2c.ringingAgent() {
		// An originate rings the employee's side first (desk phones, follow-me, a mobile);
		// only what it dials once that side answered decides the call.
		return nil, warn
	}
	switch ch.info.kind {
	case kindTrunk:
		return c.trunkLegOfPhoneCall(cfg, ch, ref), warn
	case kindPhone:
		return c.phoneLegOfPhoneCall(cfg, ch, ref), warn
	}
	return nil, warn
}

// incomingLeg is a new channel of an incoming call: a phone ringing, an outside number it is
// forwarded to, or a Local helper of a ring group, queue or follow-me.
func (c *call) incomingLeg(cfg *Config, ch *channel, ref rowRef) []celbridge.Event {
	switch ch.info.kind {
	case kindPhone:
		c.dest.reached = true
		return c.ring(cfg, ch.info.ext, ref)
	case kindTrunk:
		// An outgoing leg inside an incoming call: call forward / follow-me to a mobile.
		c.dest.reached = true
		why := "forwarded to an outside number (trunk leg " + ch.name + ") before any phone rang; CEL does not show which extension forwarded it"
		if t := c.dest.target(); t != "" {
			why = c.dest.why() + ", which rings an outside number (trunk leg " + ch.name + ")"
		}
		return c.receive(cfg, ref, c.dest.target(), why)
	case kindLocal:
		return c.localStart(cfg, ch, ref)
	}
	return nil
}

// trunkLegOfPhoneCall: a call a phone (or an originate) started reaches a trunk: an outgoing
// call, unless the phone dialled an extension whose destination rings an outside number.
func (c *call) trunkLegOfPhoneCall(cfg *Config, ch *channel, ref rowRef) []celbridge.Event {
	c.dest.reached = true
	if c.dir == dirInternal || (c.hasLocal() && cfg.ExtensionPattern.MatchString(c.num.external)) {
		// An internal call whose destination (a ring group with an outside member, a
		// forward, follow-me) rings an outside number through a Local helper: the caller
		// dialed an extension, so it stays internal.
		c.dir = dirInternal
		if cfg.InternalCalls && !c.received() {
			return c.receive(cfg, ref, c.num.internal, "internal call from "+orUnknown(c.num.internal)+" to "+orUnknown(c.num.external)+" (sent because internal_calls = true), which rings an outside number (trunk leg "+ch.name+")")
		}
		return nil
	}
	c.dir = dirOutgoing
	if c.num.trunk == "" {
		c.num.trunk = ch.info.ext
	}
	if c.c2c.on {
		c.c2c.custLeg = ch
	}
	if c.num.trunkNumber == "" {
		c.num.external, c.num.routed = cfg.stripOutbound(c.num.external)
	}
	if c.num.external == "" {
		// No number yet (click-to-call): receivedTheCall waits for the first row naming it.
		c.c2c.wait = ref
		return nil
	}
	why := "outgoing call from " + orUnknown(c.num.internal) + " to " + orUnknown(c.num.external) + ": the trunk leg " + ch.name + " was created"
	if c.num.routed != "" {
		why += " (" + c.num.routed + ")"
	}
	return c.receive(cfg, ref, c.num.internal, why)
}

// phoneLegOfPhoneCall: a call a phone (or an originate) started rings a phone: an internal
// call, or the employee's own phone of a click-to-call.
func (c *call) phoneLegOfPhoneCall(cfg *Config, ch *channel, ref rowRef) []celbridge.Event {
	c.dest.reached = true
	if c.c2c.on && ch.info.ext == c.num.internal {
		return nil // the employee's own device, rung after an early answer of the helper
	}
	if c.dir == dirUndecided && c.detectOriginate(ch) {
		return nil
	}
	if c.dir == dirUndecided {
		c.dir = dirInternal
		if c.num.internal == "" {
			c.num.internal = ch.info.ext
		} else if c.num.external == "" {
			c.num.external = ch.info.ext
		}
	}
	if !cfg.InternalCalls {
		return nil
	}
	return c.receive(cfg, ref, c.num.internal, "internal call from "+orUnknown(c.num.internal)+" to "+ch.info.ext+" (sent because internal_calls = true): "+ch.info.ext+"'s phone started ringing")
}

// trackOrigin reads what the originator's later rows say: the number an outgoing call sent
// (Dial data), whether it ran the outbound-route dialplan, and for an incoming call where it
// went (queue, ring group) and the DID when CHAN_START lacked it.
func (c *call) trackOrigin(cfg *Config, row *celbridge.CELRow, ref rowRef) []celbridge.Event {
	if row.AppName == "Dial" && row.AppData != c.num.lastDial {
		c.num.lastDial = row.AppData
		if n := dialNumber(row.AppData, cfg.ExtensionPattern); n != "" {
			c.num.trunkNumber = n
			if c.dir != dirIncoming {
				c.num.external = n
			}
		}
	}
	if isTrunkDialContext(row.Context) || row.Context == "macro-outisbusy" {
		c.outFootprint = true
	}
	if c.c2c.waiting(c) {
		return c.originRowNamesNumber(cfg, row, ref)
	}
	if c.dir != dirIncoming || c.received() {
		return nil
	}
	if c.num.did == "" && row.CIDDNID != "" {
		c.num.did = row.CIDDNID
	}
	if c.num.external == "" && row.CIDNum != "" {
		c.num.external = row.CIDNum
	}
	return c.destinationRow(cfg, row, ref)
}

// settleDirection decides, at the end, a call still undecided: it ran the outbound route or
// dialled a trunk number, so it was an outgoing call that never got a trunk leg.
func (c *call) settleDirection(cfg *Config) {
	if c.dir == dirUndecided && (c.outFootprint || c.num.trunkNumber != "") {
		c.dir = dirOutgoing
		if c.num.trunkNumber == "" {
			c.num.external, c.num.routed = cfg.stripOutbound(c.num.external)
		}
	}
}

// sent reports whether the CRM hears about this call at all.
func (c *call) sent(cfg *Config) bool {
	switch c.dir {
	case dirIncoming, dirOutgoing:
		return true
	case dirInternal:
		return cfg.InternalCalls
	}
	return false
}

// isTrunkDialContext reports whether a dialplan context is where FreePBX dials a trunk
// (trunk-dial-with-exten in FreePBX 17, macro-dialout-trunk before, outrt-N the routes).
func isTrunkDialContext(ctx string) bool {
	return ctx == "trunk-dial-with-exten" || strings.HasPrefix(ctx, "macro-dialout-trunk") || strings.HasPrefix(ctx, "outrt-")
}
