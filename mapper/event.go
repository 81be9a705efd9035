package mapper

// evType is a CEL eventtype the mapper reads; every other eventtype is ignored.
type evType uint8

const (
	evIgnored evType = iota
	evChanStart
	evChanEnd
	evHangup
	evAnswer
	evAppStart
	evAppEnd
	evBridgeEnter
	evBridgeExit
	evBridgeStart11 // Asterisk <= 11 BRIDGE_START (on the bridging channel, peer = other party)
	evBridgeEnd11
	evParkStart
	evParkEnd
	evBlindTransfer
	evAttendedTransfer
	evLinkedIDEnd
	evPickup
	evOther // known but without effect beyond tracking (FORWARD, LOCAL_OPTIMIZE*)
	// evStreamBegin, evStreamEnd: a sound played to a channel. Only VoiceMail's are read
	// (voicemail.go); every other STREAM_* row is ignored like DTMF.
	evStreamBegin
	evStreamEnd
)

// eventTypeOf maps the eventtype column. DTMF, USER_DEFINED names and anything newer are
// evIgnored: such rows are never looked at further (DTMF extra holds digits).
func eventTypeOf(s string) evType {
	switch s {
	case "CHAN_START":
		return evChanStart
	case "CHAN_END":
		return evChanEnd
	case "HANGUP":
		return evHangup
	case "ANSWER":
		return evAnswer
	case "APP_START":
		return evAppStart
	case "APP_END":
		return evAppEnd
	case "BRIDGE_ENTER":
		return evBridgeEnter
	case "BRIDGE_EXIT":
		return evBridgeExit
	case "BRIDGE_START":
		return evBridgeStart11
	case "BRIDGE_END":
		return evBridgeEnd11
	case "PARK_START":
		return evParkStart
	case "PARK_END":
		return evParkEnd
	case "BLINDTRANSFER":
		return evBlindTransfer
	case "ATTENDEDTRANSFER":
		return evAttendedTransfer
	case "LINKEDID_END":
		return evLinkedIDEnd
	case "PICKUP":
		return evPickup
	case "FORWARD", "LOCAL_OPTIMIZE", "LOCAL_OPTIMIZE_BEGIN":
		return evOther
	case "STREAM_BEGIN":
		return evStreamBegin
	case "STREAM_END":
		return evStreamEnd
	}
	return evIgnored
}
