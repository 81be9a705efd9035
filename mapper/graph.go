package mapper

import (
	"slices"
	"strings"

	"github.com/celbridge/celbridge"
)

// The bridge graph: which channels of a call are connected, through bridges and the two
// halves of Local helper channels. A person answers, or takes a call over, when a phone
// becomes reachable from the external party (answer.go).

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
	c.unpark(ch, ref.t)
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

// bridgeExit takes ch out of bridge id. Leaving a holding bridge ends no parked time (park.go).
func (c *call) bridgeExit(ch *channel, id string, holding bool) {
	if holding {
		ch.holding = false
		return
	}
	if id == "" || ch.bridge == id {
		ch.bridge = ""
	}
}

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
