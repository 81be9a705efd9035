package mapper

import (
	"strings"

	"github.com/celbridge/celbridge"
)

// Wants reports whether row belongs to an open call: the call of its linkedid, the call whose
// outside party its channel is (moved to another linkedid by a transfer), or the call of a row
// still held for its eventtime (OldestOpen counts it as open). Backfill uses it to follow the
// calls still open at the end of its range, and no others.
func (m *Mapper) Wants(row celbridge.CELRow) bool {
	if m.calls[row.LinkedID] != nil || m.parties[row.UniqueID] != nil {
		return true
	}
	if h := m.held; h != nil && !h.timeOnly && h.row.LinkedID == row.LinkedID {
		return true
	}
	// A BRIDGE_ENTER of another call that names an open call's party (joinedParty).
	if row.Peer != "" && len(m.partyNames) > 0 && eventTypeOf(row.EventType) == evBridgeEnter {
		for p := range strings.SplitSeq(row.Peer, ",") {
			if m.partyNames[strings.TrimSpace(p)] != nil {
				return true
			}
		}
	}
	return false
}
