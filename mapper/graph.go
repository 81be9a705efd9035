package mapper

import (
	"fmt"
	"slices"

	"github.com/celbridge/celbridge"
)

// reach returns the channels connected to src: members of the same (non-holding) bridge, and
// the other half of a Local ;1/;2 pair, transitively, in the call's channel order after src.
func (c *call) reach(src *channel) []*channel {
	if len(c.chans) > smallCall {
		return c.reachIndexed(src)
	}
	out := []*channel{src}
	for i := 0; i < len(out); i++ {
		cur := out[i]
		for _, o := range c.chans {
			if o != cur && !o.ended && linked(cur, o) && !contains(out, o) {
				out = append(out, o)
			}
		}
	}
	return out
}

// linked reports whether a and b are directly connected: one bridge, or the two halves of
// one Local channel.
func linked(a, b *channel) bool {
	sameBridge := a.bridge != "" && b.bridge == a.bridge
	pair := a.info.kind == kindLocal && b.info.kind == kindLocal && a.info.localBase != "" &&
		b.info.localBase == a.info.localBase && b.info.localSide != a.info.localSide
	return sameBridge || pair
}

// smallCall is the channel count up to which reach scans the call's channels for each member
// (quadratic, and fastest for the calls of everyday life). A bigger call (a conference with
// thousands of legs) uses an index: one pass, linear.
const smallCall = 32

// reachIndexed is reach for a call with many channels: it finds the neighbours of each member
// through an index of the bridges and Local pairs instead of scanning every channel.
func (c *call) reachIndexed(src *channel) []*channel {
	pos := make(map[*channel]int, len(c.chans))
	byBridge := map[string][]*channel{}
	byBase := map[string][]*channel{}
	for i, o := range c.chans {
		pos[o] = i
		if o.ended {
			continue
		}
		if o.bridge != "" {
			byBridge[o.bridge] = append(byBridge[o.bridge], o)
		}
		if o.info.kind == kindLocal && o.info.localBase != "" {
			byBase[o.info.localBase] = append(byBase[o.info.localBase], o)
		}
	}
	seen := map[*channel]bool{src: true}
	expanded := map[string]bool{} // bridges whose members are all in out already
	out := []*channel{src}
	for i := 0; i < len(out); i++ {
		cur := out[i]
		var next []*channel
		if cur.bridge != "" && !expanded[cur.bridge] {
			expanded[cur.bridge] = true
			for _, o := range byBridge[cur.bridge] {
				if !seen[o] {
					seen[o] = true
					next = append(next, o)
				}
			}
		}
		for _, o := range byBase[cur.info.localBase] {
			if linked(cur, o) && !seen[o] {
				seen[o] = true
				next = append(next, o)
			}
		}
		// The scan adds a member's neighbours in channel order: keep that order.
		slices.SortFunc(next, func(a, b *channel) int { return pos[a] - pos[b] })
		out = append(out, next...)
	}
	return out
}

func contains(list []*channel, ch *channel) bool {
	for _, x := range list {
		if x == ch {
			return true
		}
	}
	return false
}

// personExt is the extension of a phone channel, or of whoever picked it up.
func personExt(ch *channel) string {
	if ch.pickedBy != "" {
		return ch.pickedBy
	}
	return ch.info.ext
}

// evaluate looks, after a bridge change, for a person connected to the external party: the
// first answer, or a transfer to another phone.
func (c *call) evaluate(cfg *Config, ref rowRef) []celbridge.Event {
	if !c.sent(cfg) || c.origin == nil {
		return nil
	}
	var srcs []*channel
	switch {
	case c.dir == dirOutgoing && c.answered && c.party != nil:
		srcs = []*channel{c.party}
	case c.dir == dirOutgoing && c.custLeg != nil:
		srcs = []*channel{c.custLeg}
	case c.dir == dirOutgoing:
		for _, ch := range c.chans {
			if ch.info.kind == kindTrunk && ch != c.origin && !ch.ended {
				srcs = append(srcs, ch)
			}
		}
	default:
		srcs = []*channel{c.origin}
	}
	for _, src := range srcs {
		if src.bridge == "" || src.ended {
			continue
		}
		var phones []*channel
		var outside *channel
		for _, o := range c.reach(src)[1:] {
			switch {
			case o.info.kind == kindPhone && (c.dir == dirOutgoing || o != c.origin):
				phones = append(phones, o)
			case o.info.kind == kindTrunk && c.dir == dirIncoming && o != c.origin && !o.placeholder && outside == nil:
				outside = o
			}
		}
		if c.answered {
			for _, p := range phones {
				if personExt(p) == c.talker {
					return nil
				}
			}
		}
		if len(phones) == 0 && src == c.custLeg && src.bridge == c.origin.bridge {
			// A click-to-call answered by the customer: the employee's side may be a mobile
			// (follow-me) rather than a phone.
			return c.personConnected(cfg, c.internal, src, ref, "the called party ("+src.name+") was bridged with "+orUnknown(c.internal)+"'s click-to-call")
		}
		if len(phones) > 0 {
			p := phones[0]
			ext := personExt(p)
			why := ext + "'s phone was bridged with the caller"
			switch {
			case c.dir != dirIncoming:
				why = "the called party (" + src.name + ") was bridged with " + orUnknown(c.internal) + "'s call"
			case p.pickedBy != "":
				why = ext + " (who picked up " + p.info.ext + "'s ringing call) was bridged with the caller"
			}
			return c.personConnected(cfg, ext, src, ref, why)
		}
		if outside != nil && !c.answered {
			// Forwarded to an outside number (call forward, follow-me): the callee answering
			// counts as the answer; the internal number stays the one the call was for.
			n := c.received0()
			why := "the outside number the call was forwarded to (" + outside.name + ") answered"
			if n != "" {
				why += "; counted for " + n
			} else {
				why += "; CEL does not show which extension forwarded it"
			}
			evs := c.personConnected(cfg, n, src, ref, why)
			c.answeredBy = "the outside number the call was forwarded to"
			return evs
		}
	}
	return nil
}

// received0 is the internalNumber receivedTheCall carried (or would carry).
func (c *call) received0() string {
	if c.received {
		return c.recvInternal
	}
	if c.dir == dirIncoming {
		return c.target()
	}
	return c.internal
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
	var evs []celbridge.Event
	if !c.received {
		evs = append(evs, c.resolvePending(cfg)...)
		if !c.received {
			r := c.targetWhy()
			if c.target() == "" {
				r = "answered before any phone was seen ringing"
			}
			evs = append(evs, c.receive(cfg, ref, c.received0(), r)...)
		}
	}
	if !c.answered {
		c.answered = true
		c.answerTime = ref.t
		c.talker, c.answeredBy = ext, ext
		if c.dir != dirIncoming {
			c.answeredBy = "the called party (" + orUnknown(c.external) + ")"
		}
		c.party = c.origin
		if c.dir == dirOutgoing && src != nil {
			c.party = src
		}
		e := c.event(cfg, celbridge.Answered, ref)
		if c.dir == dirIncoming {
			e.InternalNumber = ext
		} else {
			e.InternalNumber = c.internal
			if e.InternalNumber == "" {
				e.InternalNumber = ext
			}
		}
		e.Rule = fmt.Sprintf("answered: %s (row %d)", why, ref.id)
		return append(evs, e)
	}
	if ext == c.talker || ext == "" {
		return evs
	}
	c.talker = ext
	c.transfers++
	if !cfg.SendTransfers {
		return evs
	}
	e := c.event(cfg, celbridge.Transferred, ref)
	e.Seq = c.transfers
	e.InternalNumber = ext
	e.Rule = fmt.Sprintf("transferred: the caller is now connected to %s's phone (transfer %d, row %d)", ext, c.transfers, ref.id)
	return append(evs, e)
}

// receive emits receivedTheCall once; why says in words what decided internal.
func (c *call) receive(cfg *Config, ref rowRef, internal, why string) []celbridge.Event {
	if c.received || !c.sent(cfg) {
		return nil
	}
	c.received = true
	c.recvInternal = internal
	e := c.event(cfg, celbridge.Received, ref)
	e.InternalNumber = internal
	e.Rule = fmt.Sprintf("received: %s (row %d)", why, ref.id)
	return []celbridge.Event{e}
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
	}
	if typ == celbridge.Hangup || typ == celbridge.Transferred {
		if c.dir != dirIncoming {
			e.CallType = celbridge.Outgoing
		}
		return e
	}
	e.ExternalNumber = cfg.rewrite(cleanNumber(c.external))
	if c.dir == dirIncoming {
		e.DIDNumber = cfg.rewrite(cleanNumber(c.did))
	} else {
		e.CallType = celbridge.Outgoing
	}
	return e
}
