package mapper

import (
	"strings"

	"github.com/celbridge/celbridge"
)

// Conference rooms (ConfBridge, MeetMe): every participant keeps a linkedid of its own
// (softmix bridges do not propagate linkedids); the only link between a customer's call and
// an employee in the room is the room's bridge, named in the peer field of BRIDGE_ENTER rows
// (fp17-k1 in testdata). A DID routed to a room is received for the room, as for a queue; the
// first phone in the room with a waiting caller answers it (peerJoined, transfer.go); once
// answered, people coming and going in the room take nobody over.

// isConference reports whether a bridge row is of a conference room (ConfBridge, MeetMe).
func isConference(row *celbridge.CELRow) bool {
	return strings.EqualFold(row.AppName, "ConfBridge") || strings.EqualFold(row.AppName, "MeetMe")
}

// enterConferenceApp handles APP_START of ConfBridge/MeetMe(room): an incoming call not yet
// received was routed to the room.
func (c *call) enterConferenceApp(cfg *Config, app, room string, ref rowRef) []celbridge.Event {
	if c.dir != dirIncoming || c.received() || room == "" {
		return nil
	}
	return c.receive(cfg, ref, room, "conference room "+room+" (the caller entered "+app+"("+room+"))")
}

// enterConferenceAnswered: a channel of an answered call put into a conference. Whoever is in
// the room, nobody in particular took the caller over (no transfer).
func (c *call) enterConferenceAnswered(ch *channel, bridge string) {
	ch.bridge = bridge
}
