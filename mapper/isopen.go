package mapper

import "github.com/celbridge/celbridge"

// Wants reports whether row belongs to an open call: the call of its linkedid, or the call
// whose outside party its channel is (moved to another linkedid by a transfer). Backfill uses
// it to follow the calls still open at the end of its range, and no others.
func (m *Mapper) Wants(row celbridge.CELRow) bool {
	return m.calls[row.LinkedID] != nil || m.parties[row.UniqueID] != nil
}
