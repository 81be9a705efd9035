package mapper

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/celbridge/celbridge"
)

// direction of a call as far as it is known.
type direction uint8

const (
	dirUndecided direction = iota // originator is a phone (or odd channel), no trunk seen yet
	dirIncoming                   // originator is a trunk or starts in an inbound context
	dirOutgoing                   // originator is a phone and a trunk leg was created
	dirInternal                   // phone to phone so far; sent as outgoing only with InternalCalls
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

	origin *channel
	chans  []*channel

	dir                     direction
	did, external, internal string
	group, queue            string
	// groupSrc says how the group number was learnt (for Rule); followMe is the extension
	// whose follow-me rule (Local/FMPR-<ext>, Local/FMGL-<ext>) rings the call.
	groupSrc, queueSrc, followMe string
	// recvInternal is the internalNumber receivedTheCall carried.
	recvInternal string
	// trunkNumber is the number as sent to the trunk, from the originator's Dial appdata.
	trunkNumber, lastDial string
	// originated: the originator is a Local helper that rang the employee's phone first
	// (click-to-call); recvWait is the trunk leg's row when receivedTheCall waits for the
	// number.
	originated, originAnswered bool
	recvWait                   rowRef
	// custLeg is the trunk leg a click-to-call dialed once the employee answered.
	custLeg *channel
	// outFootprint: the originator ran FreePBX's outbound-route dialplan.
	outFootprint bool
	// reached: a phone or an outgoing trunk leg was created for this call.
	reached bool

	received, answered bool
	answerTime         time.Time
	talker, answeredBy string
	// party is the external party whose leaving ends the talk time.
	party     *channel
	transfers int
	// transferRows counts the BLINDTRANSFER/ATTENDEDTRANSFER rows that handed the caller on
	// (a blind transfer into the parking lot is a park, not a transfer); lastBlind is the
	// latest BLINDTRANSFER row.
	transferRows int
	lastBlind    rowRef
	// outsideJoined: an outside party of another call entered the party's bridge last.
	outsideJoined bool
	partyLeft     time.Time
	parkedSince   time.Time
	parked        time.Duration

	vm                                      bool
	dialStatus, hangupSource, anyDialStatus string

	// pending is a ring burst held back for the ring-group decision (Config.Groups).
	pending    []string
	pendingRef rowRef
	closed     bool
	// lidEnd is the LINKEDID_END row that came while the external party was still up (the
	// call goes on under another linkedid); movedTo is the linkedid its rows moved to.
	lidEnd  rowRef
	movedTo string
	// partyName is the party's channel name when Mapper indexed it (names change on a
	// masquerade; the index entry goes by this one).
	partyName string
	// closeHow is why Expire or Flush closes the call (for Rule).
	closeHow string
	// tooWide: the call reached maxChannels; rows of further channels are ignored.
	tooWide bool
}

// maxChannels bounds the channels one call tracks. Every bridge change looks at the call's
// channels, so a linkedid with thousands of them (a big conference, a runaway originate
// loop) made polling stop for seconds; past the bound its further channels are ignored, with
// one warning. The call still closes at its LINKEDID_END.
const maxChannels = 500

// maxPeers bounds the names taken from one row's peer field (a conference lists every member).
const maxPeers = 16

// find returns the call's channel with this uniqueid, or nil.
func (c *call) find(uid string) *channel {
	for _, ch := range c.chans {
		if ch.uid == uid {
			return ch
		}
	}
	return nil
}

func newCall(cfg *Config, row *celbridge.CELRow) *call {
	c := &call{
		linkedID:  row.LinkedID,
		firstID:   row.ID,
		lastID:    row.ID,
		firstTime: row.EventTime,
		lastTime:  row.EventTime,
	}
	c.callID = GeneralCallID(row.LinkedID, cfg.CallID)
	return c
}

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

	if c.pending != nil && et != evChanStart {
		evs = append(evs, c.resolvePending(cfg)...)
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
		return append(evs, e...), orWarn(warn, w)
	}
	ch := c.channel(cfg, row)
	if ch == c.custLeg && c.external == "" {
		// The customer's leg of a click-to-call names the number it dialled in its exten
		// (FreePBX) or, once answered, in its caller id (the connected line).
		if n := phoneNumber(cfg, row.Exten); n != "" {
			c.external = n
		} else if n := phoneNumber(cfg, row.CIDNum); n != "" && row.UniqueID != row.LinkedID {
			c.external = n
		}
		evs = append(evs, c.numberKnown(cfg, ref)...)
	}
	if ch == c.origin {
		evs = append(evs, c.trackOrigin(cfg, row, ref)...)
		if et == evAnswer {
			c.originAnswered = true
		}
	}

	switch et {
	case evHangup:
		ch.hungUp = true
		h, err := parseHangup(row.Extra)
		if err != nil {
			warn = orWarn(warn, fmt.Errorf("HANGUP row of %s: %w", row.ChanName, err))
		}
		if ch == c.origin {
			c.dialStatus, c.hangupSource = h.dialStatus, h.source
		}
		if h.dialStatus != "" {
			c.anyDialStatus = h.dialStatus
		}
		c.leave(ch, t)
	case evChanEnd:
		ch.ended = true
		c.leave(ch, t)
		if c.lidEnd.id != 0 && ch == c.party {
			how := fmt.Sprintf("LINKEDID_END at row %d, then the caller's channel ended at row %d", c.lidEnd.id, ref.id)
			if c.movedTo != "" {
				how = fmt.Sprintf("the caller was transferred into the older call %s (LINKEDID_END of this one at row %d) and its channel ended at row %d", c.movedTo, c.lidEnd.id, ref.id)
			}
			evs = append(evs, c.close(cfg, ref, how)...)
		}
	case evAppStart:
		evs = append(evs, c.appStart(cfg, row, ref)...)
	case evBridgeEnter, evBridgeExit:
		if err := checkExtra(row.Extra); err != nil {
			warn = orWarn(warn, fmt.Errorf("%s row of %s: %w", row.EventType, row.ChanName, err))
		}
		id, _ := extraField(row.Extra, "bridge_id")
		tech, _ := extraField(row.Extra, "bridge_technology")
		switch {
		case et == evBridgeEnter && c.answered && isConference(row):
			// Put into a conference after the answer: whoever is in the room, nobody in
			// particular took the caller over (no transfer).
			ch.bridge = id
		case et == evBridgeEnter:
			evs = append(evs, c.bridgeEnter(cfg, ch, id, tech == "holding_bridge", row.Peer, ref)...)
		default:
			c.bridgeExit(ch, id, tech == "holding_bridge", t)
		}
	case evBridgeStart11:
		evs = append(evs, c.bridgeEnter(cfg, ch, "ast11:"+ch.uid, false, row.Peer, ref)...)
	case evBridgeEnd11:
		for _, o := range c.chans {
			if o.bridge == "ast11:"+ch.uid {
				o.bridge = ""
			}
		}
	case evParkStart:
		if c.lastBlind.id != 0 && !t.After(c.lastBlind.t) && c.transferRows > 0 {
			// FreePBX parks a call by a blind transfer to the park extension (70): the
			// caller was put on hold in the lot, not handed to anyone.
			c.transferRows--
			c.lastBlind = rowRef{}
		}
		c.hold(ch, t)
	case evParkEnd:
		// Out of the lot, the party is not talking yet: a timed-out call rings its parker
		// again (FreePBX's comeback). Parked time runs on until it is bridged with someone.
		ch.holding = false
	case evBlindTransfer, evAttendedTransfer:
		c.transferRows++
		if et == evBlindTransfer {
			c.lastBlind = ref
		}
		if err := checkExtra(row.Extra); err != nil {
			warn = orWarn(warn, fmt.Errorf("%s row of %s: %w", row.EventType, row.ChanName, err))
		}
	case evPickup:
		if err := checkExtra(row.Extra); err != nil {
			warn = orWarn(warn, fmt.Errorf("PICKUP row of %s: %w", row.ChanName, err))
		}
		picker, _ := extraField(row.Extra, "pickup_channel")
		if pi := classify(picker, cfg.ExtensionPattern); pi.kind == kindPhone {
			ch.pickedBy = pi.ext
			why := pi.ext + " picked up the call"
			if ch.info.kind == kindPhone && ch.info.ext != pi.ext {
				why += " ringing on " + ch.info.ext + "'s phone"
			}
			evs = append(evs, c.personConnected(cfg, pi.ext, nil, ref, why+" (PICKUP)")...)
		}
	case evLinkedIDEnd:
		if row.LinkedID != c.linkedID {
			break
		}
		if c.followsParty(cfg) && !c.party.ended && !c.handedOver() {
			// The talking party is still up: its channel moved to another linkedid (a transfer
			// into an older call) and the call goes on there. Close when it ends.
			c.lidEnd = ref
			break
		}
		evs = append(evs, c.close(cfg, ref, fmt.Sprintf("LINKEDID_END, row %d", ref.id))...)
	}
	return evs, warn
}

func orWarn(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// channel finds (or adds) the row's channel, following renames (masquerades) and adopting a
// placeholder created from a peer field.
func (c *call) channel(cfg *Config, row *celbridge.CELRow) *channel {
	if ch := c.find(row.UniqueID); ch != nil {
		if row.ChanName != "" && row.ChanName != ch.name {
			ch.name = row.ChanName
			ch.info = classify(row.ChanName, cfg.ExtensionPattern)
		}
		return ch
	}
	for _, ch := range c.chans {
		if ch.placeholder && ch.name == row.ChanName {
			ch.uid, ch.placeholder = row.UniqueID, false
			return ch
		}
	}
	ch := &channel{uid: row.UniqueID, name: row.ChanName, info: classify(row.ChanName, cfg.ExtensionPattern)}
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
	ch := &channel{name: name, info: classify(name, cfg.ExtensionPattern), placeholder: true}
	c.chans = append(c.chans, ch)
	return ch
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
	var evs []celbridge.Event
	switch c.dir {
	case dirIncoming:
		switch ch.info.kind {
		case kindPhone:
			c.reached = true
			evs = c.ring(cfg, ch.info.ext, ref)
		case kindTrunk:
			// An outgoing leg inside an incoming call: call forward / follow-me to a mobile.
			c.reached = true
			why := "forwarded to an outside number (trunk leg " + ch.name + ") before any phone rang; CEL does not show which extension forwarded it"
			if t := c.target(); t != "" {
				why = c.targetWhy() + ", which rings an outside number (trunk leg " + ch.name + ")"
			}
			evs = append(c.resolvePending(cfg), c.receive(cfg, ref, c.target(), why)...)
		case kindLocal:
			evs = c.localStart(cfg, ch, ref)
		}
	case dirOutgoing:
		if c.originated && !c.answered && ch.info.kind == kindTrunk && (c.custLeg == nil || c.custLeg.hungUp || c.custLeg.ended) {
			// Outbound-route failover: the first trunk failed, the next one dials the
			// customer. (A follow-me mobile leg starting meanwhile is the employee's side.)
			c.custLeg = ch
		}
	case dirUndecided, dirInternal:
		if c.originated && !c.originAnswered {
			// An originate rings the employee's side first (desk phones, follow-me, a
			// mobile); only what it dials once that side answered decides the call.
			return nil, warn
		}
		switch ch.info.kind {
		case kindTrunk:
			if c.dir == dirInternal || (c.hasLocal() && cfg.ExtensionPattern.MatchString(c.external)) {
				// An internal call whose destination (a ring group with an outside member, a
				// forward, follow-me) rings an outside number through a Local helper: the
				// caller dialed an extension, so it stays internal.
				c.dir, c.reached = dirInternal, true
				if cfg.InternalCalls && !c.received {
					evs = c.receive(cfg, ref, c.internal, "internal call from "+orUnknown(c.internal)+" to "+orUnknown(c.external)+" (sent because internal_calls = true), which rings an outside number (trunk leg "+ch.name+")")
				}
				break
			}
			c.dir = dirOutgoing
			c.reached = true
			if c.originated {
				c.custLeg = ch
			}
			if c.trunkNumber == "" {
				c.external = cfg.stripOutbound(c.external)
			}
			if c.external == "" {
				// No number yet (click-to-call): FreePBX logs it in the Dial data once the
				// callee answers; receivedTheCall waits for it, or for the hang-up.
				c.recvWait = ref
				break
			}
			evs = c.receive(cfg, ref, c.internal, "outgoing call from "+orUnknown(c.internal)+" to "+orUnknown(c.external)+": the trunk leg "+ch.name+" was created")
		case kindPhone:
			c.reached = true
			if c.originated && ch.info.ext == c.internal {
				break // the employee's own device, rung after an early answer of the helper
			}
			if c.dir == dirUndecided && !c.originated && c.onlyLocals(ch) {
				// Click-to-call (an AMI/API originate of Local/801@from-internal or the like):
				// the originator is a Local helper that first rings the employee's own phone,
				// then dials the number. The Local's exten is the employee's side, not the
				// number called; that shows in the Dial data.
				c.originated = true
				c.internal, c.external = ch.info.ext, ""
				break
			}
			if c.dir == dirUndecided {
				c.dir = dirInternal
				if c.internal == "" {
					c.internal = ch.info.ext
				} else if c.external == "" {
					c.external = ch.info.ext
				}
			}
			if cfg.InternalCalls {
				evs = c.receive(cfg, ref, c.internal, "internal call from "+orUnknown(c.internal)+" to "+ch.info.ext+" (sent because internal_calls = true): "+ch.info.ext+"'s phone started ringing")
			}
		}
	}
	return evs, warn
}

// isConference reports whether a bridge row is of a conference room (ConfBridge, MeetMe).
func isConference(row *celbridge.CELRow) bool {
	return strings.EqualFold(row.AppName, "ConfBridge") || strings.EqualFold(row.AppName, "MeetMe")
}

// onlyLocals reports whether the call's originator is a Local helper and every channel but
// ch is a Local helper too (its own ;2, a follow-me pair): ch is the first phone it rang. (A
// helper named by an extension, Local/801@…, is known to be an originate from its start.)
func (c *call) onlyLocals(ch *channel) bool {
	if c.origin == nil || c.origin.info.kind != kindLocal {
		return false
	}
	for _, o := range c.chans {
		if o != ch && o.info.kind != kindLocal {
			return false
		}
	}
	return true
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

// startOrigin reads the originator's CHAN_START: direction, DID and numbers.
func (c *call) startOrigin(cfg *Config, row *celbridge.CELRow, ch *channel) {
	inbound := cfg.inboundContext(row.Context)
	switch {
	case ch.info.kind == kindTrunk || inbound:
		c.dir = dirIncoming
		if inbound && row.Exten != "" && row.Exten != "s" {
			c.did = row.Exten
		} else if row.CIDDNID != "" {
			c.did = row.CIDDNID
		} else if row.Exten != "s" {
			c.did = row.Exten
		}
		c.external = row.CIDNum
		if c.external == "" {
			c.external = row.CIDANI
		}
	case ch.info.kind == kindLocal && cfg.ExtensionPattern.MatchString(ch.info.ext):
		// An originate (click-to-call, call file) of Local/801@from-internal: it rings the
		// employee's side first; the number it then dials shows in the Dial data.
		c.originated = true
		c.internal = ch.info.ext
	default:
		if ch.info.kind == kindPhone {
			c.internal = ch.info.ext
		}
		if row.Exten != "" && row.Exten != "s" {
			c.external = row.Exten
		} else {
			c.external = row.CIDDNID
		}
	}
}

// trackOrigin reads what the originator's later rows say: where an incoming call went (queue,
// ring group), the DID when CHAN_START lacked it, and the number an outgoing call sent.
func (c *call) trackOrigin(cfg *Config, row *celbridge.CELRow, ref rowRef) []celbridge.Event {
	if row.AppName == "Dial" && row.AppData != c.lastDial {
		c.lastDial = row.AppData
		if n := dialNumber(row.AppData, cfg.ExtensionPattern); n != "" {
			c.trunkNumber = n
			if c.dir != dirIncoming {
				c.external = n
			}
		}
	}
	if isTrunkDialContext(row.Context) || row.Context == "macro-outisbusy" {
		c.outFootprint = true
	}
	if c.dir == dirOutgoing && !c.received && c.recvWait.id != 0 && c.external == "" && isTrunkDialContext(row.Context) {
		// FreePBX 17 runs the outbound Dial in trunk-dial-with-exten with exten = the number
		// sent to the trunk; a click-to-call the customer never answers shows it only there.
		c.external = phoneNumber(cfg, row.Exten)
	}
	if e := c.numberKnown(cfg, ref); e != nil {
		return e
	}
	if c.dir != dirIncoming || c.received {
		return nil
	}
	if c.did == "" && row.CIDDNID != "" {
		c.did = row.CIDDNID
	}
	if c.external == "" && row.CIDNum != "" {
		c.external = row.CIDNum
	}
	num := row.Exten
	if num == "" || num == "s" {
		return nil
	}
	switch row.Context {
	case "ext-queues":
		c.queue, c.queueSrc = num, fmt.Sprintf("the caller entered ext-queues %s at row %d", num, ref.id)
	case "ext-group", "dial-with-exten":
		// FreePBX 17 runs a ring group's (and follow-me's) Dial in dial-with-exten with exten =
		// the group number.
		c.group, c.groupSrc = num, "the caller entered "+row.Context+" "+num+fmt.Sprintf(" at row %d", ref.id)
	default:
		return nil
	}
	return append(c.resolvePending(cfg), c.receive(cfg, ref, c.target(), c.targetWhy())...)
}

// numberKnown sends the receivedTheCall an outgoing call held back for its number (a
// click-to-call: the trunk leg starts before any row names the number) once a row names it.
func (c *call) numberKnown(cfg *Config, ref rowRef) []celbridge.Event {
	if c.dir != dirOutgoing || c.received || c.recvWait.id == 0 || c.external == "" {
		return nil
	}
	return c.receive(cfg, ref, c.internal, fmt.Sprintf("outgoing call from %s to %s: the trunk leg was created at row %d; row %d named the number", orUnknown(c.internal), c.external, c.recvWait.id, ref.id))
}

// phoneNumber returns s when it reads as an outside phone number (digits, * or #, an optional
// leading +, at least three digits, not an extension), else "".
func phoneNumber(cfg *Config, s string) string {
	digits := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '+' && i == 0, c == '*', c == '#':
		default:
			return ""
		}
	}
	if digits < 3 || cfg.ExtensionPattern.MatchString(s) {
		return ""
	}
	return s
}

// isTrunkDialContext reports whether a dialplan context is where FreePBX dials a trunk.
func isTrunkDialContext(ctx string) bool {
	return ctx == "trunk-dial-with-exten" || strings.HasPrefix(ctx, "macro-dialout-trunk") || strings.HasPrefix(ctx, "outrt-")
}

// localStart reads where a Local helper channel of an incoming call leads before any phone
// rang: Local/FMPR-801@… and Local/FMGL-801@… are FreePBX follow-me of 801,
// Local/600@ext-group-… a ring group, Local/700@ext-queues-… a queue.
func (c *call) localStart(cfg *Config, ch *channel, ref rowRef) []celbridge.Event {
	if c.received || ch.info.localSide != '1' {
		return nil
	}
	ext := ch.info.ext
	switch {
	case len(ext) > 5 && (strings.HasPrefix(ext, "FMPR-") || strings.HasPrefix(ext, "FMGL-")) &&
		cfg.ExtensionPattern.MatchString(ext[5:]):
		c.followMe = ext[5:]
	case ch.info.localCtx == "ext-group" && ext != "" && ext != "s":
		c.group, c.groupSrc = ext, "helper channel "+ch.name
	case ch.info.localCtx == "ext-queues" && ext != "" && ext != "s":
		c.queue = ext
	default:
		return nil
	}
	c.reached = true
	return append(c.resolvePending(cfg), c.receive(cfg, ref, c.target(), c.targetWhy())...)
}

// appStart handles Queue (the call entered a queue) and VoiceMail.
func (c *call) appStart(cfg *Config, row *celbridge.CELRow, ref rowRef) []celbridge.Event {
	first, _, _ := strings.Cut(row.AppData, ",")
	switch strings.ToLower(row.AppName) {
	case "queue":
		if c.dir == dirIncoming && !c.received && first != "" {
			c.queue = first
			return append(c.resolvePending(cfg), c.receive(cfg, ref, c.target(), "queue "+first+" (the caller entered Queue("+first+"))")...)
		}
	case "confbridge", "meetme":
		if c.dir == dirIncoming && !c.received && first != "" {
			// A DID routed to a conference room: the room is the destination, as a queue is;
			// the first phone in the room with the caller answers it (peerJoined).
			return append(c.resolvePending(cfg), c.receive(cfg, ref, first, "conference room "+first+" (the caller entered "+row.AppName+"("+first+"))")...)
		}
	case "voicemail":
		c.vm = true
		if c.dir == dirIncoming && !c.received {
			box, _, _ := strings.Cut(first, "@")
			box = strings.TrimLeft(box, "subSUB*")
			if box == "" {
				box = c.target()
			}
			return append(c.resolvePending(cfg), c.receive(cfg, ref, box, "went to voicemail "+orUnknown(box)+" before any phone rang")...)
		}
	}
	return nil
}

// target is the internal number of an incoming call known before any phone rings.
func (c *call) target() string {
	switch {
	case c.queue != "":
		return c.queue
	case c.group != "":
		return c.group
	}
	return c.followMe
}

// targetWhy says in words where target() comes from.
func (c *call) targetWhy() string {
	switch {
	case c.queue != "" && c.queueSrc != "":
		return "queue " + c.queue + " (" + c.queueSrc + ")"
	case c.queue != "":
		return "queue " + c.queue
	case c.group != "":
		return "ring group " + c.group + " (" + c.groupSrc + ")"
	case c.followMe != "":
		return "follow-me of " + c.followMe + " (a Local/FMPR-" + c.followMe + " or FMGL-" + c.followMe + " channel rings its destinations)"
	}
	return "no internal destination"
}

func orUnknown(s string) string {
	if s == "" {
		return "(unknown)"
	}
	return s
}

// ring is a phone starting to ring on an incoming call.
func (c *call) ring(cfg *Config, ext string, ref rowRef) []celbridge.Event {
	if c.received {
		return nil
	}
	if t := c.target(); t != "" {
		return c.receive(cfg, ref, t, c.targetWhy()+"; "+ext+"'s phone started ringing")
	}
	if c.pending == nil && !(len(cfg.Groups) > 0 && cfg.inAnyGroup(ext)) {
		return c.receive(cfg, ref, ext, ext+"'s phone started ringing")
	}
	// Hold the ring burst: the phones a ring group rings start one right after the other.
	// One extension with several devices (desk phone and softphone) rings as several legs:
	// it is still one extension, not a group.
	if slices.Contains(c.pending, ext) {
		return nil
	}
	c.pending = append(c.pending, ext)
	c.pendingRef = ref
	if cfg.groupComplete(c.pending) {
		return c.resolvePending(cfg)
	}
	return nil
}

// resolvePending decides the internalNumber of a held ring burst and emits receivedTheCall.
func (c *call) resolvePending(cfg *Config) []celbridge.Event {
	if c.pending == nil {
		return nil
	}
	internal := c.pending[0]
	rang := strings.Join(c.pending, ",")
	why := internal + "'s phone started ringing (it is in a configured ring group but rang alone: a direct call, or the first phone of a hunt group)"
	if len(c.pending) >= 2 {
		if g, ok := cfg.groupFor(c.pending); ok {
			internal = g
			why = "ring group " + g + " (members " + rang + " rang together, from [[pbx.groups]])"
		} else {
			why = internal + "'s phone rang first (" + rang + " rang together; no [[pbx.groups]] group holds them all)"
		}
	}
	c.pending = nil
	return c.receive(cfg, c.pendingRef, internal, why)
}

// leave notes that ch hung up: the end of talk time when ch is the external party.
func (c *call) leave(ch *channel, t time.Time) {
	ch.bridge = ""
	if c.answered && ch == c.party && c.partyLeft.IsZero() {
		c.partyLeft = t
		c.unhold(ch, t)
	}
}

func (c *call) hold(ch *channel, t time.Time) {
	ch.holding = true
	if c.answered && ch == c.party && c.parkedSince.IsZero() {
		c.parkedSince = t
	}
}

func (c *call) unhold(ch *channel, t time.Time) {
	ch.holding = false
	if ch == c.party && !c.parkedSince.IsZero() {
		if d := t.Sub(c.parkedSince); d > 0 {
			c.parked += d
		}
		c.parkedSince = time.Time{}
	}
}

// bridgeEnter puts ch into bridge id (peers are the channels already there) and checks
// whether a person is now connected to the external party.
func (c *call) bridgeEnter(cfg *Config, ch *channel, id string, holding bool, peer string, ref rowRef) []celbridge.Event {
	if holding {
		c.hold(ch, ref.t)
		return nil
	}
	if id == "" {
		id = "?" + ch.uid
	}
	c.unhold(ch, ref.t)
	ch.bridge = id
	n := 0
	for p := range strings.SplitSeq(peer, ",") {
		if n++; n > maxPeers {
			break
		}
		if p = strings.TrimSpace(p); p != "" && p != ch.name {
			if o := c.byName(cfg, p); !o.ended {
				o.bridge = id
			}
		}
	}
	return c.evaluate(cfg, ref)
}

func (c *call) bridgeExit(ch *channel, id string, holding bool, t time.Time) {
	if holding {
		ch.holding = false // parked time runs on until the next bridge (evParkEnd)
		return
	}
	if id == "" || ch.bridge == id {
		ch.bridge = ""
	}
}

// peerJoined notes that a phone of another call (row's channel) entered the bridge of this
// call's party, as the peer field of row says: the party now talks to that phone (conf: the
// bridge is a conference room). The phone is not added to this call's channels (its leaving
// is a row of the other call).
func (c *call) peerJoined(cfg *Config, row *celbridge.CELRow, conf bool) []celbridge.Event {
	switch {
	case c.closed:
		return nil
	case conf && c.answered, !conf && !c.answered:
		// A conference answers a waiting caller but takes nobody over; a basic bridge of
		// another call reaches the caller only by a transfer after the answer.
		return nil
	case c.answered && c.party.ended:
		return nil
	}
	pi := classify(row.ChanName, cfg.ExtensionPattern)
	if pi.kind == kindTrunk && !conf {
		// An outside party of another call entered the party's bridge: a transfer put the
		// party through to someone outside the clinic (see handedOver).
		c.outsideJoined = true
	}
	if pi.kind != kindPhone {
		return nil
	}
	c.outsideJoined = false
	return c.personConnected(cfg, pi.ext, nil, rowRef{row.ID, row.EventTime},
		pi.ext+"'s phone (of call "+row.LinkedID+") entered the caller's bridge")
}

// close ends the call: a receivedTheCall if none was sent yet (IVR, closed hours) and the
// hangupTheCall. how says what closed it (for Rule).
func (c *call) close(cfg *Config, ref rowRef, how string) []celbridge.Event {
	if c.closed {
		return nil
	}
	c.closed = true
	evs := c.resolvePending(cfg)
	if c.dir == dirUndecided && (c.outFootprint || c.trunkNumber != "") {
		c.dir = dirOutgoing
		if c.trunkNumber == "" {
			c.external = cfg.stripOutbound(c.external)
		}
	}
	if !c.sent(cfg) {
		return evs
	}
	if !c.received {
		internal, why := c.target(), "the call ended before reaching any phone (IVR, announcement or closed hours); sent at hang-up"
		if internal != "" {
			why = c.targetWhy() + "; the call ended before any phone rang; sent at hang-up"
		}
		if c.dir != dirIncoming {
			internal, why = c.internal, "outgoing call from "+orUnknown(c.internal)+" to "+orUnknown(c.external)+" ended before a trunk leg answered; sent at hang-up"
		}
		evs = append(evs, c.receive(cfg, ref, internal, why)...)
	}
	e := c.event(cfg, celbridge.Hangup, ref)
	e.Billsec = c.billsec(ref.t)
	var why string
	e.Disposition, why = c.disposition()
	e.Rule = fmt.Sprintf("hangup: %s: %s; billsec %d (%s)", e.Disposition, why, e.Billsec, how)
	return append(evs, e)
}

// followsParty reports whether the mapper follows the call's party across linkedids (Mapper
// indexes it): only then do its rows under another linkedid come back to this call.
func (c *call) followsParty(cfg *Config) bool {
	return c.party != nil && c.party.uid != "" && !c.party.placeholder && c.party.info.kind == kindTrunk && c.sent(cfg)
}

// handedOver reports whether the party is in a bridge where no phone of this call is left:
// an employee put it through to an outside party (an attended transfer of the customer to a
// mobile moves the mobile into the customer's older call). The employee's call ends there.
func (c *call) handedOver() bool {
	if !c.outsideJoined || c.party.bridge == "" {
		return false // ringing a transfer target, in a queue, with a phone: still this call's
	}
	for _, o := range c.reach(c.party)[1:] {
		if o.info.kind == kindPhone {
			return false
		}
	}
	return true
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

// billsec is the whole seconds from the first answer by a person to the moment the external
// party left (or the call closed), less the time the party sat in a holding bridge.
func (c *call) billsec(end time.Time) int {
	if !c.answered || c.answerTime.IsZero() {
		return 0
	}
	if !c.partyLeft.IsZero() {
		end = c.partyLeft
	}
	parked := c.parked
	if !c.parkedSince.IsZero() && end.After(c.parkedSince) {
		parked += end.Sub(c.parkedSince)
	}
	d := end.Sub(c.answerTime) - parked
	if d <= 0 || end.IsZero() {
		return 0
	}
	return int(d / time.Second)
}

// disposition decides hangupTheCall's disposition and says why.
func (c *call) disposition() (disp, rule string) {
	switch {
	case c.answered && (c.transfers > 0 || c.transferRows > 0):
		why := "answered by " + orUnknown(c.answeredBy) + ", then transferred"
		if c.talker != c.answeredBy && c.talker != "" {
			why += " (last to " + c.talker + ")"
		}
		return celbridge.DispTransfer, why
	case c.answered:
		return celbridge.DispAnswer, "answered by " + orUnknown(c.answeredBy)
	case c.vm:
		return celbridge.DispVoicemail, "not answered, the caller went to voicemail"
	}
	ds := c.dialStatus
	who := "the caller's"
	if ds == "" {
		ds, who = c.anyDialStatus, "a"
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
	if !c.reached {
		return celbridge.DispCancel, "the caller hung up before reaching any phone (IVR, announcement, closed hours)"
	}
	if c.origin != nil && c.hangupSource == c.origin.name {
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
