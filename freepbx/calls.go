package freepbx

import (
	"context"
	"fmt"
	"slices"

	"github.com/jmoiron/sqlx"

	"github.com/celbridge/celbridge"
)

// readCall selects the rows of some linkedids and uniqueids (both columns are indexed in
// FreePBX's schema).
const readCall = "SELECT %s FROM %s WHERE linkedid IN (?) OR uniqueid IN (?) ORDER BY id"

// ReadCall returns every CEL row of the call with this linkedid, in id order: its own rows
// plus the rows its channels logged under another linkedid (a consultation call merged by an
// attended transfer), found the way FreePBX's CDR report does, by following uniqueids and
// linkedids until the set stops growing (at most a few rounds). It is for explain, not for
// the poller's hot path.
func (s *CEL) ReadCall(ctx context.Context, linkedid string) ([]celbridge.CELRow, error) {
	linked, unique := []string{linkedid}, []string{linkedid}
	var rows []celbridge.CELRow
	for round := 0; round < 4; round++ {
		q, args, err := sqlx.In(s.query(readCall), linked, unique)
		if err != nil {
			return nil, fmt.Errorf("read call %s: %w", linkedid, err)
		}
		if rows, err = s.readRows(ctx, q, args...); err != nil {
			return nil, fmt.Errorf("read call %s: %w", linkedid, err)
		}
		grew := false
		for _, r := range rows {
			if r.LinkedID != "" && !slices.Contains(linked, r.LinkedID) {
				linked, grew = append(linked, r.LinkedID), true
			}
			if r.UniqueID != "" && !slices.Contains(unique, r.UniqueID) {
				unique, grew = append(unique, r.UniqueID), true
			}
		}
		if !grew {
			break
		}
	}
	return rows, nil
}
