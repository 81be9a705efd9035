package mapper

import (
	"fmt"
	"slices"
	"strings"

	"github.com/celbridge/celbridge"
)

// Ring group / queue attribution (DESIGN §3): receivedTheCall of an incoming call goes when
// the call first reaches an internal destination. internalNumber is the queue for a queue
// call, the ring group when CEL names it or [[pbx.groups]] holds the phones that ring
// together, the follow-me owner for FreePBX follow-me, else the first phone that rings. The
// phones of a configured group start within one second, so their ring burst is held until
// the CEL clock shows the next second (clock.go), the call's next row, or the whole group.

// destination is where an incoming call was sent before any phone rang, as far as CEL shows.
type destination struct {
	// group and queue are the numbers; groupSrc and queueSrc say how they were learnt (for
	// Rule). followMe is the extension whose follow-me (Local/FMPR-<ext>, FMGL-) rings.
	group, groupSrc, queue, queueSrc, followMe string
	// recvInternal is the internalNumber receivedTheCall carried.
	recvInternal string
	// reached: a phone or an outgoing trunk leg was created for this call.
	reached bool
	// tried are the lines the call rang, in order (the call details' dstNumbers).
	tried []string
}

// maxTried bounds dest.tried (a hunt group rings a handful of phones, not hundreds).
const maxTried = 32

// try notes that the call rang line n.
func (d *destination) try(n string) {
	if n != "" && len(d.tried) < maxTried && !slices.Contains(d.tried, n) {
		d.tried = append(d.tried, n)
	}
}

// target is the internal number of an incoming call known before any phone rings.
func (d *destination) target() string {
	switch {
	case d.queue != "":
		return d.queue
	case d.group != "":
		return d.group
	}
	return d.followMe
}

// why says in words where target() comes from.
func (d *destination) why() string {
	switch {
	case d.queue != "" && d.queueSrc != "":
		return "queue " + d.queue + " (" + d.queueSrc + ")"
	case d.queue != "":
		return "queue " + d.queue
	case d.group != "":
		return "ring group " + d.group + " (" + d.groupSrc + ")"
	case d.followMe != "":
		return "follow-me of " + d.followMe + " (a Local/FMPR- or FMGL- channel rings its destinations)"
	}
	return "no internal destination"
}

// heldBurst is a ring burst held back for the ring-group decision (Config.Groups): the
// extensions that started ringing within one second, and the row of the last of them.
type heldBurst struct {
	exts []string
	ref  rowRef
}

func (b *heldBurst) held() bool { return b.exts != nil }

// ring is a phone starting to ring on an incoming call.
func (c *call) ring(cfg *Config, ext string, ref rowRef) []celbridge.Event {
	c.dest.try(ext)
	if c.received() {
		return nil
	}
	if t := c.dest.target(); t != "" {
		return c.receive(cfg, ref, t, c.dest.why()+"; "+ext+"'s phone started ringing")
	}
	if !c.burst.held() && !(len(cfg.Groups) > 0 && cfg.inAnyGroup(ext)) {
		return c.receive(cfg, ref, ext, ext+"'s phone started ringing")
	}
	// Hold the ring burst: the phones a ring group rings start one right after the other.
	// One extension with several devices (desk phone and softphone) rings as several legs:
	// it is still one extension, not a group.
	if slices.Contains(c.burst.exts, ext) {
		return nil
	}
	c.burst.exts = append(c.burst.exts, ext)
	c.burst.ref = ref
	if cfg.groupComplete(c.burst.exts) {
		return c.decideBurst(cfg)
	}
	return nil
}

// decideBurst decides the internalNumber of a held ring burst and emits receivedTheCall.
func (c *call) decideBurst(cfg *Config) []celbridge.Event {
	if !c.burst.held() {
		return nil
	}
	exts, ref := c.burst.exts, c.burst.ref
	c.burst = heldBurst{}
	internal := exts[0]
	rang := strings.Join(exts, ",")
	why := internal + "'s phone started ringing (it is in a configured ring group but rang alone: a direct call, or the first phone of a hunt group)"
	if len(exts) >= 2 {
		if g, ok := cfg.groupFor(exts); ok {
			src := g.Source
			if src == "" {
				src = "[[pbx.groups]]"
			}
			internal = g.Number
			why = "ring group " + g.Number + " (members " + rang + " rang together, from " + src + ")"
		} else {
			why = internal + "'s phone rang first (" + rang + " rang together; no [[pbx.groups]] group holds them all)"
		}
	}
	return c.receive(cfg, ref, internal, why)
}

// destinationRow reads a row of the originator of an incoming call not yet received for the
// destination it names: FreePBX runs a queue in ext-queues and a ring group (FreePBX 17:
// also follow-me) in ext-group / dial-with-exten, exten = the number.
func (c *call) destinationRow(cfg *Config, row *celbridge.CELRow, ref rowRef) []celbridge.Event {
	num := row.Exten
	if num == "" || num == "s" {
		return nil
	}
	switch row.Context {
	case "ext-queues":
		c.dest.queue, c.dest.queueSrc = num, fmt.Sprintf("the caller entered ext-queues %s at row %d", num, ref.id)
	case "ext-group", "dial-with-exten":
		c.dest.group, c.dest.groupSrc = num, fmt.Sprintf("the caller entered %s %s at row %d", row.Context, num, ref.id)
	default:
		return nil
	}
	return c.receive(cfg, ref, c.dest.target(), c.dest.why())
}

// localStart reads where a Local helper channel of an incoming call leads before any phone
// rang: Local/FMPR-801@… and Local/FMGL-801@… are FreePBX follow-me of 801,
// Local/600@ext-group-… a ring group, Local/700@ext-queues-… a queue.
func (c *call) localStart(cfg *Config, ch *channel, ref rowRef) []celbridge.Event {
	if c.received() || ch.info.localSide != '1' {
		return nil
	}
	ext := ch.info.ext
	switch {
	case len(ext) > 5 && (strings.HasPrefix(ext, "FMPR-") || strings.HasPrefix(ext, "FMGL-")) &&
		cfg.ExtensionPattern.MatchString(ext[5:]):
		c.dest.followMe = ext[5:]
	case strings.HasPrefix(ext, "FMGL-") && cfg.FollowMe[strings.TrimSuffix(ext[5:], "#")] != "":
		// Only the mobile leg of a follow-me (its desk leg not rung, or not yet): FreePBX's
		// follow-me list says whose mobile it is.
		c.dest.followMe = cfg.FollowMe[strings.TrimSuffix(ext[5:], "#")]
	case ch.info.localCtx == "ext-group" && ext != "" && ext != "s":
		c.dest.group, c.dest.groupSrc = ext, "helper channel "+ch.name
	case ch.info.localCtx == "ext-queues" && ext != "" && ext != "s":
		c.dest.queue = ext
	default:
		return nil
	}
	c.dest.reached = true
	return c.receive(cfg, ref, c.dest.target(), c.dest.why())
}

// appStart handles the applications that are a destination: Queue, a conference room, and
// VoiceMail (which also decides the disposition VM).
func (c *call) appStart(cfg *Config, row *celbridge.CELRow, ref rowRef) []celbridge.Event {
	first, _, _ := strings.Cut(row.AppData, ",")
	switch strings.ToLower(row.AppName) {
	case "queue":
		if c.dir == dirIncoming && !c.received() && first != "" {
			c.dest.queue = first
			return c.receive(cfg, ref, c.dest.target(), "queue "+first+" (the caller entered Queue("+first+"))")
		}
	case "confbridge", "meetme":
		return c.enterConferenceApp(cfg, row.AppName, first, ref)
	case "voicemail":
		c.end.vm = true
		if c.dir == dirIncoming && !c.received() {
			box, _, _ := strings.Cut(first, "@")
			box = strings.TrimLeft(box, "subSUB*")
			if box == "" {
				box = c.dest.target()
			}
			return c.receive(cfg, ref, box, "went to voicemail "+orUnknown(box)+" before any phone rang")
		}
	}
	return nil
}
